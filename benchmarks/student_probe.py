"""Where a trained student fails, turn by turn: teacher-forced scores on the reference policy's validation trajectories.

A pipeline run (`sciresearcher pipeline demo --out DIR`) scores its models by real rollouts, where one wrong
digit in the first turn sinks the whole trajectory and hides everything after it. This probe asks the finer
question on the validation split (never the test split): the reference policy solves each validation task
through the real tools (over the run's full index), and the student reads that trajectory turn by turn, its
greedy next token scored against the reference's at every completion token. It prints, per assistant turn
(1 search, 2 read, 3 python, 4 answer in the demo's routine):
  exact        the share of turns whose every completion token is the reference's;
  digits       the share of turns whose every digit is (ids, values, the printed result);
and over whole trajectories the share with every turn's digits right, and the digit accuracy. Teacher forcing
is optimistic (it never lets an early error compound) and the digit score is blind to names: a real rollout
is the final word, and `--rollouts` runs one on the same validation tasks.

    .venv/bin/python benchmarks/student_probe.py runs/demo [--model runs/demo/09-sft/final] [--rollouts]

Last line: `traj_digits_ok=<x> digit_acc=<y> turn_exact=<a,b,...> turn_digits=<a,b,...>` (and `rollout_acc=<z>`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def stage_dir(pipeline: Path, name: str) -> Path:
    from sciresearcher.pipeline.runner import stage_dirs

    found = stage_dirs(pipeline)[name]
    if not found.is_dir():
        raise SystemExit(f"no {name} stage in {pipeline}: run `sciresearcher pipeline demo --out {pipeline}` first")
    return found


def tools_with_index(recipe: Any, index: Path) -> Any:
    tools = recipe.teacher.rollout.tools
    return tools.model_copy(update={"knowledge": tools.knowledge.model_copy(update={"index": str(index)})})


def reference_trajectories(pipeline: Path, recipe: Any, tasks_file: Path, out: Path) -> Path:
    """The reference policy on the validation tasks, through the real tools over the run's full index (cached)."""
    from sciresearcher.data.reference_policy import ReferencePolicy
    from sciresearcher.data.teacher import run_teacher
    from sciresearcher.tasks.files import read_tasks

    if not (out / "trajectories.jsonl").is_file():
        tasks = read_tasks(tasks_file)
        rollout = recipe.teacher.rollout
        cfg = rollout.model_copy(update={"seed": recipe.seed,
                                         "tools": tools_with_index(recipe, stage_dir(pipeline, "world") / "index")})
        policy = ReferencePolicy(tasks, query=recipe.teacher.reference_query,
                                 printed=recipe.teacher.reference_printed)
        asyncio.run(run_teacher(tasks, cfg, out, llm=policy, show_progress=False))
    return out / "trajectories.jsonl"


def turn_tokens(tokenizer: Any, trajectories: Path) -> list[list[tuple[list[int], int]]]:
    """Per trajectory, per assistant turn: (prompt + completion token ids, prompt length), as the policy sees them."""
    from sciresearcher.data.rejection import read_trajectories
    from sciresearcher.train.rows import trajectory_to_sft_row
    from sciresearcher.train.token_check import completion_text, turn_rows

    out = []
    for trajectory in read_trajectories([trajectories]):
        turns = []
        for row in turn_rows(trajectory_to_sft_row(trajectory)):
            tools = json.loads(row["tools"]) or None
            prompt = tokenizer.apply_chat_template(row["prompt"], tools=tools, add_generation_prompt=True, tokenize=False)
            # the completion as the policy writes it, through its end-of-turn token
            completion = completion_text(tokenizer, row["prompt"] + row["completion"], len(row["prompt"]), tools, None)
            p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            turns.append((tokenizer(prompt + completion, add_special_tokens=False)["input_ids"], len(p_ids)))
        out.append(turns)
    return out


def teacher_forced(model_dir: Path, trajectories: Path) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
    digits = set(tokenizer.convert_tokens_to_ids(list("0123456789")))
    exact: dict[int, list[bool]] = {}
    digit_ok: dict[int, list[bool]] = {}
    traj_ok, right, total = [], 0, 0
    data = turn_tokens(tokenizer, trajectories)
    with torch.no_grad():
        for turns in data:
            all_ok = True
            for k, (ids, n_prompt) in enumerate(turns):
                predicted = model(input_ids=torch.tensor([ids])).logits[0, n_prompt - 1:len(ids) - 1].argmax(-1)
                good = [int(p) == t for p, t in zip(predicted, ids[n_prompt:], strict=True)]
                marks = [g for g, t in zip(good, ids[n_prompt:], strict=True) if t in digits]
                exact.setdefault(k, []).append(all(good))
                digit_ok.setdefault(k, []).append(all(marks))
                right, total = right + sum(marks), total + len(marks)
                all_ok &= all(marks)
            traj_ok.append(all_ok)
    def share(xs: list[bool]) -> float:
        return sum(xs) / len(xs) if xs else 0.0

    return {"trajectories": len(data), "traj_digits_ok": share(traj_ok), "digit_acc": right / max(1, total),
            "turn_exact": [share(exact[k]) for k in sorted(exact)],
            "turn_digits": [share(digit_ok[k]) for k in sorted(digit_ok)]}


def rollout_accuracy(pipeline: Path, recipe: Any, model_dir: Path, tasks_file: Path, out: Path) -> float | None:
    from sciresearcher.eval.config import EvalConfig
    from sciresearcher.eval.harness import run_eval

    rollout = recipe.eval.rollout
    cfg = EvalConfig(**{**rollout.model_dump(), "llm": rollout.llm.model_copy(update={"model": str(model_dir)}),
                        "tools": tools_with_index(recipe, stage_dir(pipeline, "world") / "index"),
                        "seed": recipe.seed, "benchmark": str(tasks_file), "k": [1]})
    return asyncio.run(run_eval(cfg, out, show_progress=False)).get("accuracy")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pipeline", type=Path, help="a pipeline directory (sciresearcher pipeline demo --out DIR)")
    p.add_argument("--model", type=Path, default=None, help="the model to probe (default: the run's SFT model)")
    p.add_argument("--rollouts", action="store_true", help="also roll the model out on the validation tasks")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()

    import torch

    from sciresearcher.pipeline.recipe import load_recipe

    torch.set_num_threads(args.threads)
    recipe, _ = load_recipe(args.pipeline / "recipe.yaml")
    model = args.model or stage_dir(args.pipeline, "sft") / "final"
    tasks_file = stage_dir(args.pipeline, "split") / "validation.jsonl"
    probe = args.pipeline / "probe"
    reference = reference_trajectories(args.pipeline, recipe, tasks_file, probe / "reference")
    figures = teacher_forced(model, reference)
    print(f"model {model}: {figures['trajectories']} validation trajectories of the reference policy, teacher-forced")
    for k, (ex, dg) in enumerate(zip(figures["turn_exact"], figures["turn_digits"], strict=True), start=1):
        print(f"  turn {k}: every token right {ex:.2f}, every digit right {dg:.2f}")
    line = (f"traj_digits_ok={figures['traj_digits_ok']:.3f} digit_acc={figures['digit_acc']:.3f} "
            f"turn_exact={','.join(f'{x:.2f}' for x in figures['turn_exact'])} "
            f"turn_digits={','.join(f'{x:.2f}' for x in figures['turn_digits'])}")
    if args.rollouts:
        label = "-".join(model.resolve().parts[-2:])  # e.g. 09-sft-final: one rollout directory per model
        acc = rollout_accuracy(args.pipeline, recipe, model, tasks_file, probe / f"rollouts-{label}")
        line += f" rollout_acc={acc:.3f}"
    print(line)


if __name__ == "__main__":
    main()
