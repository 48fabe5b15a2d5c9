"""Our tool schemas equal transformers.utils.get_json_schema's, so TRL can take the same callables."""

from __future__ import annotations

from typing import Literal

import pytest

from sciresearcher.agent.tools import Toolset, tool_schema, truncate
from sciresearcher.errors import ConfigError
from sciresearcher.testing import add_tool, echo_tool

transformers_utils = pytest.importorskip("transformers.utils")


def search(query: str, k: int = 10, year_from: int | None = None) -> str:
    """Search the literature for papers.

    Args:
        query: Free-text query, e.g. a gene name and a
            phenotype on a second line.
        k: Number of hits to return.
        year_from: Only papers from this year on.

    Returns:
        Ranked hits, one per line.
    """
    return query


def pick(mode: Literal["fast", "exact"], tags: list[str], weights: dict[str, float], flag: bool = False) -> str:
    """Pick something.

    Args:
        mode: The mode.
        tags: Tags to use.
        weights: Weights per tag.
        flag: A flag.
    """
    return mode


def unit(value: str) -> str:
    """Convert a unit.

    Args:
        value: The unit (choices: ["mg", "g"])
    """
    return value


@pytest.mark.parametrize("fn", [search, pick, unit, echo_tool, add_tool])
def test_schema_matches_transformers(fn):
    assert tool_schema(fn) == transformers_utils.get_json_schema(fn)


def test_undocumented_argument_is_a_config_error():
    def f(x: int) -> str:
        """No args section."""
        return ""

    with pytest.raises(ConfigError, match="no description for argument 'x'"):
        tool_schema(f)


def test_duplicate_tool_names_rejected():
    with pytest.raises(ConfigError, match="unique"):
        Toolset([echo_tool, echo_tool])


def test_truncate_keeps_head_and_tail():
    text, cut = truncate("a" * 100 + "b" * 100, 50)
    assert cut and text.startswith("a") and text.endswith("b") and "truncated" in text
    assert truncate("short", 50) == ("short", False)


def test_model_facing_schemas_have_no_return_entry():
    schemas = Toolset([search, echo_tool]).schemas
    assert all("return" not in s["function"] for s in schemas)
    assert schemas[0]["function"]["parameters"] == tool_schema(search)["function"]["parameters"]


def test_schemas_are_remembered_per_function_and_handed_out_as_copies():
    from sciresearcher.agent import tools as tools_module

    first = tool_schema(echo_tool)
    first["function"]["parameters"]["properties"].clear()  # a caller editing its copy
    assert tool_schema(echo_tool)["function"]["parameters"]["properties"]  # the remembered one is intact
    assert echo_tool in tools_module._SCHEMAS

    class Holder:
        def look(self, query: str) -> str:
            """Looks something up.

            Args:
                query: what to look up
            """
            return query

    a, b = Holder(), Holder()
    assert tool_schema(a.look) == tool_schema(b.look) == tool_schema(Holder().look)
    assert "self" not in tool_schema(a.look)["function"]["parameters"]["properties"]
