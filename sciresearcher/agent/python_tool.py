"""The main agent's `python(code)` tool, bound to one sandbox session (state persists between calls).

`make_python_tool(session)` returns an async callable named `python` whose docstring is its schema. The
text it returns is what the model sees: a notice when the sandbox was restarted (state lost), stdout,
stderr, the final expression's value, saved figures and, on failure, the trimmed traceback, cut to
`max_chars` by the agent's one truncation policy (`agent.tools.truncate`). A call whose code failed (an exception,
a limit) or whose sandbox cannot start raises `ToolError` carrying that same text, so the loop counts it as a
failed tool call. It does not create or close the session; the caller owns it (see `agent/toolbox.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sciresearcher.agent.tools import truncate
from sciresearcher.errors import SandboxError, ToolError
from sciresearcher.sandbox.session import SandboxSession

log = logging.getLogger(__name__)

MAX_TOOL_CHARS = 12000
# the scientific libraries the sandbox image installs, by import name (biopython imports as Bio)
LIBRARIES = {"numpy": "numpy", "scipy": "scipy", "pandas": "pandas", "sympy": "sympy", "matplotlib": "matplotlib",
             "Bio": "biopython", "rdkit": "rdkit", "chemicals": "chemicals", "mendeleev": "mendeleev",
             "periodictable": "periodictable", "molmass": "molmass", "pint": "pint"}


def make_python_tool(
    session: SandboxSession, *, max_chars: int = MAX_TOOL_CHARS
) -> Callable[[str], Awaitable[str]]:
    """The `python` tool for one trajectory's sandbox `session`."""

    async def python(code: str) -> str:
        """Run Python code in a persistent sandbox and return its output.

        Variables, imports and files persist between calls. The value of a final expression is shown,
        as in a notebook. {libraries} are installed; there is no network access. Figures left open
        are saved as PNG files. Use print() for intermediate results.

        Args:
            code: Python source code to execute.
        """
        try:
            result = await session.run(code)
        except SandboxError as exc:
            log.warning("python tool: sandbox unavailable: %s", exc)
            raise ToolError(f"Error: the Python sandbox is unavailable: {exc}") from exc
        text = truncate(result.to_text(), max_chars)[0]
        if not result.ok:
            raise ToolError(text)
        return text

    blocked = set(session.config.blocked_modules) if session is not None else set()
    python.__doc__ = (python.__doc__ or "").replace("{libraries}", library_list(blocked))
    return python


def library_list(blocked: set[str]) -> str:
    """The installed libraries the sandbox lets code import, as the tool's description names them: a sandbox
    that blocks some (the demo blocks the sources of its offline facts) must not advertise them."""
    names = [name for module, name in LIBRARIES.items() if module not in blocked]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names) or "No libraries"
