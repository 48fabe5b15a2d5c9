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


def make_python_tool(
    session: SandboxSession, *, max_chars: int = MAX_TOOL_CHARS
) -> Callable[[str], Awaitable[str]]:
    """The `python` tool for one trajectory's sandbox `session`."""

    async def python(code: str) -> str:
        """Run Python code in a persistent sandbox and return its output.

        Variables, imports and files persist between calls. The value of a final expression is shown,
        as in a notebook. numpy, scipy, pandas, sympy, matplotlib, biopython, rdkit, chemicals, mendeleev,
        periodictable, molmass and pint are installed; there is no network access. Figures left open
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

    return python
