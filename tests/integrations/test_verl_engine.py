"""verl itself on our files (marker `verl`; runs in the verl environment, see .ci/verl_step.sh):

- verl's tool loader (`initialize_tools_from_config`) reads the tool_config.yaml `train verl` writes, and each
  tool runs through verl's interface (create / execute / release), search and read over a real BM25 index,
  python in a real sandbox that keeps state within a trajectory and not across;
- verl's own hydra config (`ppo_trainer`) accepts every override of the launch;
- verl's reward loading (`get_custom_reward_fn`) calls our `compute_score` on real responses;
- verl's RL dataset (`RLHFDataset`) reads the parquet `data export --format verl-rl` writes.
"""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.verl
verl = pytest.importorskip("verl")

from sciresearcher.agent.tools import model_facing_schema
from sciresearcher.integrations.verl.launch import write_launch
from sciresearcher.integrations.verl.recipe import VerlRecipe, overrides
from sciresearcher.records import Document, Task


class FakeAgentData:
    """What verl's tool agent loop passes as `agent_data` (only `request_id` is read)."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id


@pytest.fixture(scope="module")
def launch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, VerlRecipe]:
    from sciresearcher.knowledge.index_build import build_index

    root = tmp_path_factory.mktemp("verl")
    docs = [Document(id="doc:hexokinase", title="Hexokinase",
                     text="Hexokinase phosphorylates glucose to glucose 6-phosphate. Its Km for glucose is 0.1 mM."),
            Document(id="doc:atp", title="ATP", text="ATP is the energy currency of the cell.")]
    build_index(docs, root / "index", dense=False)
    recipe = VerlRecipe(model="Qwen/Qwen3-8B", train_files=str(root / "train.parquet"),
                        tools={"knowledge": {"index": str(root / "index"), "mode": "bm25",
                                             "evidence": {"use_dense": False}}})
    write_launch(recipe, root / "launch")
    return root / "launch", recipe


def _tools(launch_dir: Path) -> dict:
    from verl.tools.tool_registry import initialize_tools_from_config

    return {t.name: t for t in initialize_tools_from_config(str(launch_dir / "tool_config.yaml"))}


async def _call(tool, params: dict, agent_data=None) -> str:
    instance, _ = await tool.create()
    try:
        response, reward, _ = await tool.execute(instance, params, agent_data=agent_data)
        assert reward == 0.0
        return response.text
    finally:
        await tool.release(instance)


def test_verl_loads_our_tools_with_the_schemas_the_agent_loop_shows(launch):
    tools = _tools(launch[0])
    assert sorted(tools) == ["python", "read", "search"]
    ours = {fn.__name__: model_facing_schema(fn) for fn in tools["search"]._toolbox.shared_tools()}
    shown = tools["search"].get_openai_tool_schema().model_dump(exclude_unset=True, exclude_none=True)
    assert shown["function"]["name"] == "search"
    assert shown["function"]["parameters"]["properties"].keys() == ours["search"]["function"]["parameters"]["properties"].keys()


def test_search_and_read_run_through_verls_interface(launch):
    tools = _tools(launch[0])
    hits = asyncio.run(_call(tools["search"], {"query": "hexokinase glucose Km"}))
    assert "doc:hexokinase" in hits.splitlines()[0]
    text = asyncio.run(_call(tools["read"], {"doc_id_or_url": "doc:hexokinase", "goal": "Km for glucose"}))
    assert "0.1 mM" in text
    bad = asyncio.run(_call(tools["read"], {"doc": "x"}))  # the model's mistake comes back as our error text
    assert bad.startswith("Error: bad arguments for 'read'")


def test_python_keeps_state_within_a_trajectory_not_across(launch):
    python = _tools(launch[0])["python"]
    one, two = FakeAgentData("traj-1"), FakeAgentData("traj-2")

    async def go(first: FakeAgentData, second: FakeAgentData) -> tuple[str, str]:
        await _call(python, {"code": "x = 41"}, first)
        same = await _call(python, {"code": "x + 1"}, first)
        other = await _call(python, {"code": "x"}, second)
        return same, other

    same, other = asyncio.run(go(one, two))
    assert same.strip() == "42" and "NameError" in other
    assert python.open_sessions == 2
    del one
    gc.collect()  # the trajectory's AgentData is gone: its sandbox closes
    assert python.open_sessions == 1
    asyncio.run(_call(python, {"code": "1"}))  # no agent_data: the call's own session, closed at release
    assert python.open_sessions == 1


def test_verls_config_accepts_every_override_and_loads_our_reward(launch):
    from hydra import compose, initialize_config_dir
    from verl.trainer.ppo.reward import get_custom_reward_fn

    launch_dir, recipe = launch
    config_dir = Path(verl.__file__).parent / "trainer" / "config"
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        cfg = compose(config_name="ppo_trainer", overrides=overrides(recipe, launch_dir / "tool_config.yaml", launch_dir))
    assert cfg.actor_rollout_ref.rollout.multi_turn.enable is True
    assert cfg.actor_rollout_ref.rollout.agent.default_agent_loop == "tool_agent"
    reward = get_custom_reward_fn(cfg)
    task = Task(id="t", question="Km?", answer="0.1", answer_type="numeric", unit="mM")
    right = ("<|im_start|>assistant\n<tool_call>{}</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n0.1\n"
             "</tool_response><|im_end|>\n<|im_start|>assistant\nExplanation: read it.\nAnswer: 0.1 mM\nConfidence: 90%")
    extra = {"task": task.model_dump_json()}
    assert reward(data_source="sciresearcher/x", solution_str=right, ground_truth="0.1", extra_info=extra) == 1.0
    wrong = right.replace("Answer: 0.1 mM", "Answer: 7 mM")
    assert reward(data_source="sciresearcher/x", solution_str=wrong, ground_truth="0.1", extra_info=extra) == 0.0


def test_verls_rl_dataset_reads_our_export(tmp_path: Path):
    model = os.environ.get("SCIRESEARCHER_TINY_MODEL")
    if not model:
        pytest.skip("set SCIRESEARCHER_TINY_MODEL to a tiny Qwen3 directory (.ci/verl_step.sh builds one)")
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from sciresearcher.data.config import ExportConfig
    from sciresearcher.data.export import export_tasks

    tasks = [Task(id=f"t{i}", question=f"What is {i} plus 1?", answer=str(i + 1), answer_type="numeric")
             for i in range(6)]
    written = export_tasks(tasks, ExportConfig(format="verl-rl"), tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(model)
    config = OmegaConf.create({"prompt_key": "prompt", "max_prompt_length": 4096, "return_raw_chat": True,
                               "filter_overlong_prompts": False, "truncation": "error"})
    dataset = RLHFDataset(data_files=[str(written["train"]["path"])], tokenizer=tokenizer, config=config)
    assert len(dataset) == 6
    row = dataset[0]
    assert row["raw_prompt"][-1]["role"] == "user" and "plus 1" in row["raw_prompt"][-1]["content"]
    assert row["data_source"].startswith("sciresearcher/") and row["agent_name"] == "tool_agent"
