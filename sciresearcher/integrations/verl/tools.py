"""The agent's tools as verl tools: `SearchTool`, `ReadTool` and `PythonTool` (`verl.tools.base_tool.BaseTool`).

verl's `initialize_tools_from_config(tool_config.yaml)` builds one instance of each class per agent-loop worker,
passing the `config` mapping of the YAML (`recipe.tool_config` writes it): `{"type": "native", "sciresearcher":
<ToolsConfig as a dict>}`. Each tool then runs OUR tool callable through OUR `Toolset` (`agent/tools.py`), so
argument checking, error text and truncation are byte for byte what the agent loop of teacher rollouts, SFT
and evaluation gives the model. The schema verl shows the model is `model_facing_schema` of the same callable.

- `search` and `read` share one frozen `Toolbox` per process and tools config (one index, one reader).
- `python` keeps one sandbox session per TRAJECTORY. verl 0.9.1's tool agent loop calls `create` / `execute` /
  `release` around every single call, so a session keyed by the call's instance would lose the model's
  variables between calls; the session is keyed by the trajectory's `agent_data.request_id` instead and is
  closed when that trajectory's `AgentData` is garbage-collected, or when more than `max_sessions` are open
  (oldest first). Called without `agent_data` (another loop, or a test), the instance is the key and
  `release` closes it.

Rewards come from `data/verl_reward.py` (outcome only); `calc_reward` stays 0.0: no step rewards.
This module imports verl: it runs in the verl environment (scripts/install_verl_env.sh), not the main venv.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from verl.tools.base_tool import BaseTool
from verl.tools.schemas import OpenAIFunctionToolSchema, ToolResponse

from sciresearcher.agent.toolbox import Toolbox, ToolsConfig
from sciresearcher.agent.tools import Toolset, model_facing_schema
from sciresearcher.records import ToolCall

log = logging.getLogger(__name__)

_TOOLBOXES: dict[str, Toolbox] = {}
_LOCK = threading.Lock()


def toolbox_for(config: dict[str, Any]) -> Toolbox:
    """The process's shared Toolbox for a tools config (search index and reader built once)."""
    tools_config = ToolsConfig.model_validate(config.get("sciresearcher") or {})
    key = tools_config.model_dump_json()
    with _LOCK:
        if key not in _TOOLBOXES:
            _TOOLBOXES[key] = Toolbox(tools_config)
        return _TOOLBOXES[key]


async def run_through_toolset(fn: Callable[..., Any], parameters: dict[str, Any], max_chars: int) -> str:
    """Runs `fn` exactly as the agent loop would: argument checks, errors as text, one truncation policy."""
    toolset = Toolset([fn], max_output_chars=max_chars)
    outcome = await toolset.execute(ToolCall.make(f"verl_{uuid4().hex[:8]}", fn.__name__, json.dumps(parameters)))
    return outcome.message.content or ""


class _SharedTool(BaseTool):
    """A frozen, shared tool (search or read) of the process's Toolbox."""

    tool_name = ""

    def __init__(self, config: dict[str, Any], tool_schema: OpenAIFunctionToolSchema | None = None) -> None:
        self._toolbox = toolbox_for(config)
        self._max_chars = int(config.get("max_output_chars", 12_000))
        self._fn = next(t for t in self._toolbox.shared_tools() if t.__name__ == self.tool_name)
        schema = tool_schema or OpenAIFunctionToolSchema.model_validate(model_facing_schema(self._fn))
        super().__init__(config, schema)

    async def execute(self, instance_id: str, parameters: dict[str, Any], **kwargs: Any
                      ) -> tuple[ToolResponse, float, dict[str, Any]]:
        text = await run_through_toolset(self._fn, parameters, self._max_chars)
        return ToolResponse(text=text), 0.0, {}


class SearchTool(_SharedTool):
    """`search(query)` over the configured index and sources."""

    tool_name = "search"


class ReadTool(_SharedTool):
    """`read(doc_id_or_url, goal)`: the frozen reader sub-agent."""

    tool_name = "read"


class PythonTool(BaseTool):
    """`python(code)` in a sandbox session that lives as long as its trajectory."""

    def __init__(self, config: dict[str, Any], tool_schema: OpenAIFunctionToolSchema | None = None) -> None:
        self._toolbox = toolbox_for(config)
        self._max_chars = int(config.get("max_output_chars", 12_000))
        self._max_sessions = int(config.get("max_sessions", 256))
        self._sessions: OrderedDict[str, tuple[Callable[..., Any], Any]] = OrderedDict()
        self._lock = threading.Lock()
        probe = self._toolbox.python_session()
        if probe is None:
            raise ValueError("the tools config does not enable `python`; add it to sciresearcher.enabled")
        fn, session = probe
        session.close()  # never started: only its schema was needed
        schema = tool_schema or OpenAIFunctionToolSchema.model_validate(model_facing_schema(fn))
        super().__init__(config, schema)

    def _session(self, key: str, owner: object | None) -> Callable[..., Any]:
        with self._lock:
            if key in self._sessions:
                self._sessions.move_to_end(key)
                return self._sessions[key][0]
            made = self._toolbox.python_session()
            assert made is not None
            self._sessions[key] = made
            evict = []
            while len(self._sessions) > self._max_sessions:
                evict.append(self._sessions.popitem(last=False))
        for old_key, (_, old) in evict:
            log.warning("closing the sandbox of trajectory %s: more than %d sessions open", old_key, self._max_sessions)
            old.close()
        if owner is not None:
            weakref.finalize(owner, self.close_session, key)
        return made[0]

    def close_session(self, key: str) -> None:
        """Closes one trajectory's sandbox (idempotent)."""
        with self._lock:
            entry = self._sessions.pop(key, None)
        if entry is not None:
            entry[1].close()

    @property
    def open_sessions(self) -> int:
        return len(self._sessions)

    async def execute(self, instance_id: str, parameters: dict[str, Any], **kwargs: Any
                      ) -> tuple[ToolResponse, float, dict[str, Any]]:
        agent_data = kwargs.get("agent_data")
        key = f"trajectory:{agent_data.request_id}" if agent_data is not None else f"instance:{instance_id}"
        fn = self._session(key, agent_data)
        text = await run_through_toolset(fn, parameters, self._max_chars)
        return ToolResponse(text=text), 0.0, {}

    async def release(self, instance_id: str, **kwargs: Any) -> None:
        """Ends a call. A trajectory's session outlives its calls; an instance-keyed one ends here."""
        self.close_session(f"instance:{instance_id}")
