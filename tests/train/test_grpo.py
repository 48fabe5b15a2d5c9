"""Tiny-model GRPO end to end: real sandbox per rollout, TRL's tool loop, outcome reward, and the loss mask.

The policy is the tiny model after SFT on one python-tool trajectory (fixture `python_agent_model`), so its
rollouts call `python`, the environment runs the code in that rollout's own sandbox session, and the grader
scores the final answer. The decode check records the tensors TRL's loss is computed on and prints which
completion tokens carry loss (in [[ ]]): exactly the model's own turns (reasoning, tool call, answer, end of
turn); the tool responses TRL spliced in are masked.
"""

from __future__ import annotations

import json

import pytest
import torch
from train_helpers import PYTHON_QUESTION, PYTHON_TASK

from sciresearcher.errors import ConfigError, DataError, TrainingError
from sciresearcher.train.grpo import GRPORunConfig, build_grpo_trainer, run_grpo
from sciresearcher.train.rewards import final_text, outcome_reward

TASK = PYTHON_TASK


def _config(model, out, **kw) -> GRPORunConfig:
    base = {"model": str(model), "dataset": "unused.jsonl", "output_dir": str(out), "tools": {"enabled": ["python"]},
            "system_prompt": "", "num_generations": 2, "per_device_train_batch_size": 2,
            "max_completion_length": 96, "max_tool_calling_iterations": 2, "max_steps": 1, "learning_rate": 1e-4,
            "temperature": 0.3, "save_steps": 100, "use_cpu": True}
    return GRPORunConfig(**{**base, **kw})


def _spans(ids, mask):
    runs = []
    for tok, m in zip(ids, mask, strict=True):
        if runs and runs[-1][0] == bool(m):
            runs[-1][1].append(tok)
        else:
            runs.append((bool(m), [tok]))
    return runs


def test_grpo_rollouts_use_the_sandbox_and_only_model_tokens_carry_loss(python_agent_model, tmp_path):
    trainer = build_grpo_trainer(_config(python_agent_model, tmp_path / "run"), tasks=[TASK])
    seen = []
    compute_loss = trainer.compute_loss

    def recording(model, inputs, *args, **kwargs):  # observe the exact tensors the loss is computed on
        seen.append({k: v.detach().clone() for k, v in inputs.items() if k.endswith(("_ids", "_mask"))})
        return compute_loss(model, inputs, *args, **kwargs)

    trainer.compute_loss = recording
    kernels: list[tuple[bool, str]] = []  # (gradients on, float32 products' mode) at each forward pass
    trainer.model.register_forward_pre_hook(
        lambda *_: kernels.append((torch.is_grad_enabled(), torch.backends.mkldnn.matmul.fp32_precision)))
    torch.backends.mkldnn.matmul.fp32_precision = "bf16"  # the demo's mode (train/cpu_matmul.py)
    try:
        trainer.train()
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = "ieee"
    # the update trains in the process's mode; sampling decodes on the default kernels
    assert {mode for grad, mode in kernels if grad} == {"bf16"} and ("ieee" in {mode for _, mode in kernels})
    tok = trainer.processing_class
    assert seen and "tool_mask" in seen[0], "the rollouts made no tool call"
    batch = seen[0]
    rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    assert rewards and rewards[0] > 0  # 42 came back from the sandbox and was graded correct

    for row in range(batch["completion_ids"].shape[0]):
        ids = batch["completion_ids"][row].tolist()
        loss_mask = (batch["completion_mask"][row] * batch["tool_mask"][row]).tolist()
        keep = [i for i, t in enumerate(ids) if not (batch["completion_mask"][row][i] == 0 and t == tok.pad_token_id)]
        runs = _spans([ids[i] for i in keep], [loss_mask[i] for i in keep])
        print(f"\n--- rollout {row}: loss-carrying tokens in [[ ]] ---")
        print("".join(f"[[{tok.decode(r)}]]" if m else tok.decode(r) for m, r in runs))
        trained = [tok.decode(r) for m, r in runs if m]
        masked = [tok.decode(r) for m, r in runs if not m]
        assert len(trained) == 2 and len(masked) == 1  # model turn, tool response, model turn
        assert '<tool_call>\n{"name": "python", "arguments": {"code": "print(6 * 7)"}}\n</tool_call><|im_end|>' \
            in trained[0]
        assert trained[1].rstrip().endswith("Answer: 42<|im_end|>")
        assert masked[0].startswith("\n<|im_start|>user\n<tool_response>\n")
        assert "42" in masked[0] and masked[0].endswith("<|im_start|>assistant\n")
    prompt = tok.decode(batch["prompt_ids"][0][batch["prompt_mask"][0].bool()])
    assert '"name": "python"' in prompt and PYTHON_QUESTION in prompt  # the environment's tool schema


def test_the_policy_loss_keeps_only_the_top_entropy_tokens_when_asked(tiny_model_dir, tmp_path):
    trainer = build_grpo_trainer(_config(tiny_model_dir, tmp_path / "run", top_entropy_quantile=0.2, temperature=1.0,
                                         mask_truncated_completions=False),  # a random policy runs out of tokens
                                 tasks=[TASK])
    kept = []
    high_entropy_mask = trainer.get_high_entropy_mask

    def recording(entropies, mask, threshold):
        out = high_entropy_mask(entropies, mask, threshold)
        kept.append(float(out.sum() / mask.sum()))
        return out

    trainer.get_high_entropy_mask = recording
    trainer.train()
    assert kept and all(0.1 < share <= 0.3 for share in kept)  # the top fifth of the completion tokens
    with pytest.raises(ValueError, match="top_entropy_quantile"):
        _config(tiny_model_dir, tmp_path / "bad", top_entropy_quantile=0.0)


def test_run_grpo_writes_the_run_directory(python_agent_model, tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(TASK.model_dump_json() + "\n")
    out = tmp_path / "run"
    summary = run_grpo(_config(python_agent_model, out, dataset=str(tasks), save_steps=1, logging_steps=10))
    assert summary["global_step"] == 1 and summary["rewards"]  # the last step is logged whatever logging_steps is
    assert summary["first_loss"] is not None and (out / "loss.png").is_file()
    assert json.loads((out / "summary.json").read_text())["rewards"] == summary["rewards"]
    log_text = (out / "run.log").read_text()
    assert "GRPO tasks from" in log_text and "step 1/1:" in log_text and "run ended" in log_text
    for name in ("config.yaml", "summary.json", "final/config.json", "checkpoint-1"):
        assert (out / name).exists(), name
    assert json.loads((out / "summary.json").read_text())["kind"] == "grpo"


def test_outcome_reward_is_the_grade_of_the_final_answer():
    task = TASK.model_dump_json()
    ended_on_call = [{"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "python"}}]}]
    answered = [*ended_on_call, {"role": "tool", "content": "42"}, {"role": "assistant", "content": "Answer: 42"}]
    wrong = [{"role": "assistant", "content": "Answer: 41"}]
    assert outcome_reward([answered, ended_on_call, wrong], task=[task] * 3) == [1.0, 0.0, 0.0]
    assert final_text(answered) == "Answer: 42" and final_text(ended_on_call) == ""


def test_judge_reward_runs_the_hle_judge():
    import asyncio

    from sciresearcher.grade.judge import HLEJudge
    from sciresearcher.testing import ScriptedLLM
    from sciresearcher.train.rewards import make_judge_reward

    verdict = ('{"extracted_final_answer": "42", "reasoning": "same", "correct": "yes", "confidence": 90}')
    judge = HLEJudge(ScriptedLLM([verdict, "not json", "still not json", "nor this"]), retries=2)
    reward = make_judge_reward(judge)
    out = asyncio.run(reward([[{"role": "assistant", "content": "Answer: 42"}]], task=[TASK.model_dump_json()]))
    assert out == [1.0]
    out = asyncio.run(reward([[{"role": "assistant", "content": "Answer: 42"}]], task=[TASK.model_dump_json()]))
    assert out == [None]  # an unreadable judge leaves the rollout out instead of scoring it wrong


def test_bad_inputs_are_clear(tiny_model_dir, tmp_path):
    with pytest.raises(ConfigError, match="not a model directory"):
        build_grpo_trainer(_config(tmp_path / "missing", tmp_path / "a"), tasks=[TASK])
    with pytest.raises(DataError, match="does not exist"):
        build_grpo_trainer(_config(tiny_model_dir, tmp_path / "b", dataset=str(tmp_path / "none.jsonl")))
    with pytest.raises(TrainingError, match="divisible by num_generations"):
        build_grpo_trainer(_config(tiny_model_dir, tmp_path / "c", num_generations=3), tasks=[TASK])
    with pytest.raises(TrainingError, match="1 task.*fewer than the 2 prompts one step draws"):
        build_grpo_trainer(_config(tiny_model_dir, tmp_path / "d", per_device_train_batch_size=4), tasks=[TASK])


def test_environment_methods_render_the_model_facing_schema():
    """(tests/train/test_environment.py covers pooling and per-rollout sandboxes.)"""
    from transformers.utils import get_json_schema

    from sciresearcher.train.environment import make_environment_factory

    built, closed = [], []

    def build_tools(row):
        state = {"n": len(built)}

        def counter(step: int) -> str:
            """Adds to this rollout's counter.

            Args:
                step: how much to add.
            """
            state["n"] += step
            return str(state["n"])

        built.append(row)
        return [counter], [lambda: closed.append(state["n"])]

    factory = make_environment_factory(build_tools)
    env = factory()
    schema = get_json_schema(type(env).counter)
    assert schema["function"]["parameters"]["properties"]["step"]["type"] == "integer"
    assert "self" not in schema["function"]["parameters"]["properties"]
    assert "return" not in schema["function"]  # rendered like agent.tools.model_facing_schema
    env.reset(task="a")
    assert env.counter(step=2) == "3"
    env.reset(task="b")  # the previous rollout's tools are closed, new ones built
    assert closed[-1] == 3 and env.counter(step=1) == "3" and built[-1] == {"task": "b"}



def test_judge_llm_config_selects_the_judge_reward(tiny_model_dir, tmp_path):
    config = _config(tiny_model_dir, tmp_path / "j", judge_llm={"backend": "openai", "model": "judge",
                                                                 "base_url": "http://127.0.0.1:9/v1"})
    trainer = build_grpo_trainer(config, tasks=[TASK])
    assert trainer.reward_func_names == ["judge_reward"]  # built without contacting the judge


def _dilution_task():
    import random

    from sciresearcher.synth.computational import docs_by_kind, to_task
    from sciresearcher.synth.records_bio import bio_records
    from sciresearcher.synth.shapes_bio import serial_dilution

    return to_task(serial_dilution(random.Random(3), docs_by_kind(bio_records())), 0.01)


def _python_turn(code: str, as_text: bool = False) -> dict:
    args = json.dumps({"code": code}) if as_text else {"code": code}
    return {"role": "assistant", "content": "", "tool_calls": [{"type": "function",
                                                                 "function": {"name": "python", "arguments": args}}]}


def test_copy_reward_is_the_share_of_the_task_values_the_code_assigns_by_name():
    from sciresearcher.train.rewards import copy_reward, values_copied

    task = _dilution_task()
    values = {name: v["value"] for name, v in task.metadata["variables"].items()}
    assert set(values) == {"a", "A", "b", "B", "c"}  # four given in the question, the stock's read from its record
    right = "import math\n" + "\n".join(f"{n} = {v!r}" for n, v in values.items()) + "\nprint(c * a)\n"
    one_wrong = right.replace(f"a = {values['a']!r}", f"a = {values['a'] * 10!r}")
    read_missed = "\n".join(f"{n} = {v:g}" for n, v in values.items() if n != "c") + "\nc = 100.0  # guessed"
    # a code that sprays guesses for a name gets the last one it assigns, as Python would use
    spray = right + f"\nc = {values['c'] + 1!r}\n"
    searched = {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "search", "arguments": {"query": f"c = {values['c']!r}"}}}]}
    completions = [[_python_turn(right)], [_python_turn(one_wrong, as_text=True)], [_python_turn(read_missed)],
                   [_python_turn(spray)], [searched, {"role": "assistant", "content": "Answer: 3"}],
                   [_python_turn("a = (1")],
                   [{"role": "assistant", "tool_calls": [{"function": {"name": "python", "arguments": '{"code": a = 5'}}]}]]
    assert copy_reward(completions, task=[task.model_dump_json()] * len(completions)) == \
        [1.0, 0.8, 0.8, 0.8, 0.0, 0.0, 0.0]
    assert values_copied(TASK, [_python_turn("x = 42")]) is None  # no variables: left out of the reward


def test_copy_reward_weight_adds_the_shaped_reward_beside_the_outcome(tiny_model_dir, tmp_path):
    trainer = build_grpo_trainer(_config(tiny_model_dir, tmp_path / "c", copy_reward=0.3), tasks=[TASK])
    assert trainer.reward_func_names == ["outcome_reward", "copy_reward"]
    assert trainer.reward_weights.tolist() == pytest.approx([1.0, 0.3])
    plain = build_grpo_trainer(_config(tiny_model_dir, tmp_path / "o"), tasks=[TASK])
    assert plain.reward_func_names == ["outcome_reward"]
    with pytest.raises(ValueError, match="copy_reward"):
        _config(tiny_model_dir, tmp_path / "bad", copy_reward=1.5)
