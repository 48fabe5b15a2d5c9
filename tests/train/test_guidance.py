"""Off-policy guidance in GRPO: a teacher's solved trajectory replaces one sample of a group that all failed.

The policy is the random-weight tiny model, so every sampled rollout fails; the guidance row is the gold python
trajectory. The test records the tensors TRL's loss is computed on and checks that the replaced completion holds
exactly the tokens SFT trains on for that row (the training template's rendering after the prompt) with exactly
its assistant tokens carrying loss, that the grader gave it reward 1 and the samples 0, and that the metric of
guided groups is logged. The unit tests cover grouping, matching rows to prompts and the refusals.
"""

from __future__ import annotations

import json
import logging

import pytest
from train_helpers import PYTHON_TASK, python_gold_row, python_row_with_a_mistake

from sciresearcher.errors import TrainingError
from sciresearcher.train.grpo import GRPORunConfig, build_grpo_trainer
from sciresearcher.train.guidance import (
    GuidanceConfig,
    group_spans,
    load_guidance,
    prompt_tasks,
    question_key,
)
from sciresearcher.train.templates import render_row


def _config(model, out, guidance, **kw) -> GRPORunConfig:
    base = {"model": str(model), "dataset": "unused.jsonl", "output_dir": str(out), "tools": {"enabled": ["python"]},
            "system_prompt": "", "num_generations": 2, "per_device_train_batch_size": 2,
            "max_completion_length": 48, "max_tool_calling_iterations": 1, "max_steps": 1, "learning_rate": 1e-4,
            "temperature": 1.0, "save_steps": 100, "use_cpu": True, "guidance": guidance}
    return GRPORunConfig(**{**base, **kw})


def _rows_file(tmp_path, rows):
    path = tmp_path / "guide.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("mistake", [False, True])
def test_a_failed_group_trains_on_the_guidance_trajectory_token_for_token(tiny_model_dir, tmp_path, mistake):
    # with `mistake`, the trajectory first sends a cut call in a turn of weight 0: in the completion, out of the loss
    row = python_row_with_a_mistake(0) if mistake else python_gold_row()
    guide = GuidanceConfig(trajectories=str(_rows_file(tmp_path, [row])), when="all_failed")
    trainer = build_grpo_trainer(_config(tiny_model_dir, tmp_path / "run", guide, max_completion_length=300),
                                 tasks=[PYTHON_TASK])
    seen = []
    compute_loss = trainer.compute_loss

    def recording(model, inputs, *args, **kwargs):
        seen.append({k: v.detach().clone() for k, v in inputs.items() if k.endswith(("_ids", "_mask", "advantages"))})
        return compute_loss(model, inputs, *args, **kwargs)

    trainer.compute_loss = recording
    trainer.train()
    batch = seen[0]
    tok = trainer.processing_class
    # graded by the outcome reward like the sample beside it: the teacher's 1, the failed sample's 0
    rewards = next(h for h in trainer.state.log_history if "reward" in h)
    assert rewards["reward"] == pytest.approx(0.5)
    g = int(batch["advantages"].argmax())  # TRL shuffles the batch: the guided completion is the rewarded one
    assert batch["advantages"][g] > 0 > batch["advantages"][1 - g]
    # what SFT trains on for the same row: the training template's tokens after the prompt, and its loss mask
    sft = render_row(tok, {"messages": row["messages"], "tools": row["tools"]})
    prompt = batch["prompt_ids"][g][batch["prompt_mask"][g].bool()].tolist()
    assert sft["input_ids"][:len(prompt)] == prompt
    want_ids = sft["input_ids"][len(prompt):]
    want_mask = sft["assistant_masks"][len(prompt):]
    while want_ids and want_ids[-1] != tok.convert_tokens_to_ids("<|im_end|>"):  # the newline after the last turn
        want_ids, want_mask = want_ids[:-1], want_mask[:-1]
    n = int(batch["completion_mask"][g].sum())
    assert batch["completion_ids"][g][:n].tolist() == want_ids
    got_mask = batch["tool_mask"][g][:n].tolist()
    # the same loss tokens, but for the newline after a tool-call turn's end of turn: SFT's template trains it,
    # GRPO's rollouts (the model stops at <|im_end|>; TRL's tool suffix starts with that newline) do not
    diff = [(tok.decode(want_ids[i - 1:i + 1]), got_mask[i]) for i in range(n) if got_mask[i] != want_mask[i]]
    assert diff == [("<|im_end|>\n", 0)]
    assert 0 in want_mask and "Answer: 42" in tok.decode(batch["completion_ids"][g][:n])
    trained = tok.decode([t for t, m in zip(want_ids, got_mask) if m])
    assert ("print(6 *\"" in tok.decode(want_ids)) == mistake and "print(6 *\"" not in trained
    guided = [h["guidance/groups_guided"] for h in trainer.state.log_history if "guidance/groups_guided" in h]
    assert guided == [1.0]


def test_groups_are_consecutive_samples_of_one_prompt():
    assert group_spans(["a", "a", "b", "b"], 2) == [(0, 2), (2, 4)]
    assert group_spans(["a", "a", "a", "a"], 2) == [(0, 2), (2, 4)]  # the same prompt drawn twice in a batch
    assert group_spans(["a", "b", "b"], 4) == [(0, 1), (1, 3)]
    assert group_spans([], 2) == []


def test_rows_are_matched_to_prompts_by_their_question(tmp_path):
    row = python_gold_row()
    found = load_guidance(_rows_file(tmp_path, [row, row]))
    key = question_key(row["messages"])
    assert list(found) == [key]
    assert [m["role"] for m in found[key]] == ["assistant", "tool", "assistant"]
    assert found[key][0]["tool_calls"][0]["function"]["arguments"] == {"code": "print(6 * 7)"}


def test_a_question_that_different_tasks_share_gets_no_guidance(caplog):
    def row(question: str, task_id: str) -> dict:
        return {"prompt": [{"role": "user", "content": question}], "task": json.dumps({"id": task_id})}

    rows = [row("Q1", "a"), row("Q1", "a"), row("Q2", "b"), row("Q2", "c"), row("Q3", "d")]
    with caplog.at_level(logging.WARNING, logger="sciresearcher.train.guidance"):
        found = prompt_tasks(rows)
    assert found == {"Q1": json.dumps({"id": "a"}), "Q3": json.dumps({"id": "d"})}  # Q1 twice is one task
    assert "'Q2', which different tasks ask" in caplog.text


def test_bad_guidance_is_refused_clearly(tiny_model_dir, tmp_path):
    other = python_gold_row()
    other["messages"] = [m if m["role"] != "user" else {**m, "content": "another question"} for m in other["messages"]]
    unmatched = GuidanceConfig(trajectories=str(_rows_file(tmp_path, [other])))
    with pytest.raises(TrainingError, match="no GRPO prompt has a trajectory"):
        build_grpo_trainer(_config(tiny_model_dir, tmp_path / "run", unmatched), tasks=[PYTHON_TASK])
    guide = GuidanceConfig(trajectories=str(_rows_file(tmp_path, [python_gold_row()])))
    with pytest.raises(TrainingError, match="transformers generation only"):
        build_grpo_trainer(_config(tiny_model_dir, tmp_path / "run2", guide, vllm={"enabled": True}),
                           tasks=[PYTHON_TASK])
    with pytest.raises(TrainingError, match="transformers generation only"):
        build_grpo_trainer(_config(tiny_model_dir, tmp_path / "run3", guide, trainer_overrides={"use_vllm": True}),
                           tasks=[PYTHON_TASK])
    turns = tmp_path / "turns.jsonl"
    k = next(i for i, m in enumerate(other["messages"]) if m["role"] == "assistant")
    turns.write_text(json.dumps({"prompt": other["messages"][:k], "completion": other["messages"][k:k + 1],
                                 "tools": other["tools"]}) + "\n")
    with pytest.raises(TrainingError, match="prompt-completion rows"):
        load_guidance(turns)
