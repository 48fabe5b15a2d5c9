"""`train verl --dry-run` in the main environment: the files it writes and the command verl would run.

What verl itself makes of them (its tool loader, its config, its dataset and reward loading) is tested in the
verl environment: tests/integrations/test_verl_engine.py (marker `verl`, .ci/verl_step.sh).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from typer.testing import CliRunner

from sciresearcher.cli import app
from sciresearcher.config import load_config
from sciresearcher.integrations.verl.recipe import REWARD_FILE, VerlRecipe, overrides, tool_config

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "verl-qwen3-8b-grpo.yaml"


def test_shipped_recipe_loads_and_renders_the_tool_agent_loop(tmp_path: Path):
    recipe = load_config(VerlRecipe, RECIPE)
    args = dict(a.split("=", 1) for a in overrides(recipe, tmp_path / "tool_config.yaml", tmp_path))
    assert args["algorithm.adv_estimator"] == "grpo"
    assert args["actor_rollout_ref.rollout.multi_turn.enable"] == "true"
    assert args["actor_rollout_ref.rollout.multi_turn.format"] == "hermes"
    assert args["actor_rollout_ref.rollout.agent.default_agent_loop"] == "tool_agent"
    assert args["actor_rollout_ref.rollout.n"] == "8" and args["actor_rollout_ref.actor.strategy"] == "fsdp2"
    assert args["reward.custom_reward_function.path"] == str(REWARD_FILE) and REWARD_FILE.is_file()
    assert args["data.train_files"] == "data/rl/train.parquet"


def test_tool_config_names_our_tool_classes_with_the_tools_config():
    recipe = VerlRecipe(model="m", train_files="t.parquet", tools={"enabled": ["search", "python"],
                                                                   "knowledge": {"index": "/idx"}})
    tools = tool_config(recipe)["tools"]
    assert [t["class_name"].rsplit(".", 1)[1] for t in tools] == ["SearchTool", "PythonTool"]
    assert all(t["config"]["type"] == "native" for t in tools)
    assert tools[0]["config"]["sciresearcher"]["knowledge"]["index"] == "/idx"


def test_train_verl_dry_run_writes_a_runnable_launch(tmp_path: Path):
    out = tmp_path / "launch"
    result = CliRunner().invoke(app, ["train", "verl", str(RECIPE), "--out", str(out), "--dry-run",
                                      "--cluster.gpus_per_node", "4", "--rollout.group_size", "16"])
    assert result.exit_code == 0, result.output
    for name in ("recipe.yaml", "tool_config.yaml", "verl_config.yaml", "command.sh"):
        assert (out / name).is_file(), name
    command = (out / "command.sh").read_text()
    assert "-m verl.trainer.main_ppo" in command and "trainer.n_gpus_per_node=4" in command
    assert "actor_rollout_ref.rollout.n=16" in command
    assert subprocess.run(["bash", "-n", str(out / "command.sh")], check=False).returncode == 0  # valid shell
    config = yaml.safe_load((out / "verl_config.yaml").read_text())
    assert config["actor_rollout_ref.rollout.multi_turn.tool_config_path"] == str((out / "tool_config.yaml").resolve())
    again = load_config(VerlRecipe, out / "recipe.yaml")  # the resolved recipe loads back
    assert again.rollout.group_size == 16 and again.cluster.gpus_per_node == 4


def test_ray_cluster_launch_submits_a_job(tmp_path: Path):
    recipe = VerlRecipe(model="m", train_files="t.parquet", cluster={"ray_address": "http://head:8265", "nnodes": 4})
    from sciresearcher.integrations.verl.launch import write_launch

    command = write_launch(recipe, tmp_path, python="/opt/verl/bin/python")["command"].read_text()
    assert "job submit --address http://head:8265" in command and "trainer.nnodes=4" in command


def test_a_bad_recipe_key_is_refused_with_the_closest_one(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: m\ntrain_files: t\nrollout:\n  group_sise: 4\n")
    result = CliRunner().invoke(app, ["train", "verl", str(bad), "--out", str(tmp_path / "o"), "--dry-run"])
    assert result.exit_code != 0 and "group_size" in str(result.exception)
