"""GRPO environments (one per rollout, tools as TRL-visible methods) and the local rollout parser."""

from __future__ import annotations

import asyncio

import pytest
from train_helpers import lookup_tools, make_lookup

from sciresearcher.records import Task
from sciresearcher.train.environment import make_environment_factory
from sciresearcher.train.grpo import task_rows


def _rows(n: int) -> list[dict]:
    tasks = [Task(id=f"t{i}", question=f'Find "k{i}".', answer=f"v{i}", metadata={"table": {f"k{i}": f"v{i}"}})
             for i in range(n)]
    return task_rows(tasks, system_prompt="")


def test_methods_mirror_the_tool_schema_and_each_rollout_has_its_own_tools():
    from sciresearcher.agent.tools import model_facing_schema

    factory = make_environment_factory(lookup_tools, "LookupEnvironment")
    env, other = factory(), factory()
    assert type(env).__name__ == "LookupEnvironment"
    from transformers.utils import get_json_schema

    # what TRL renders in GRPO prompts == what SFT rows, teacher rollouts and evaluation show the model
    assert get_json_schema(env.lookup) == model_facing_schema(make_lookup({}))
    rows = _rows(2)
    assert env.reset(**rows[0]) is None
    other.reset(**rows[1])
    assert env.lookup(key="k0") == "v0"
    assert other.lookup(key="k0").startswith("No value")
    with pytest.raises(RuntimeError, match="before reset"):
        factory().lookup(key="k0")


def test_bad_tool_names_are_refused():
    def reset(x: str) -> str:
        """Clashes with TRL's reset.

        Args:
            x: anything.
        """
        return x

    with pytest.raises(ValueError, match="reset/get_reward"):
        make_environment_factory(lambda row: ([reset], []))


def test_research_environment_gives_each_rollout_a_fresh_sandbox():
    from sciresearcher.agent.toolbox import ToolsConfig
    from sciresearcher.train.environment import research_environment_factory

    env = research_environment_factory(ToolsConfig(enabled=["python"]))()
    assert asyncio.iscoroutinefunction(type(env).python)
    env.reset()
    try:
        first = asyncio.run(env.python(code="x = 41\nprint(x + 1)"))
    except Exception as exc:  # noqa: BLE001 - machines without a sandbox
        pytest.skip(f"sandbox unavailable: {exc}")
    assert "42" in first
    env.reset()
    assert "NameError" in asyncio.run(env.python(code="print(x)"))
    env.reset()


def test_grpo_lists_the_tools_in_the_order_the_agent_loop_offers_them():
    """TRL lists an environment's methods by name; the toolbox offers tools in that order everywhere, so GRPO
    prompts render the tools block of teacher rollouts, SFT rows and evaluation byte for byte."""
    import inspect

    from sciresearcher.agent.toolbox import Toolbox, ToolsConfig
    from sciresearcher.train.environment import research_environment_factory

    config = ToolsConfig(enabled=["search", "read", "python"])
    tools, closers = Toolbox(config).open_sync()
    for close in closers:
        close()
    env = research_environment_factory(config)()
    trl_order = [name for name, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
                 if not name.startswith("_") and name != "reset"]  # as GRPOTrainer collects them
    assert [t.__name__ for t in tools] == trl_order == ["python", "read", "search"]
