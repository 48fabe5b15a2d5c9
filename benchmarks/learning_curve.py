"""Learning curve of the whole training path on CPU: tiny Qwen3 -> SFT on gold trajectories -> GRPO (outcome reward).

Task family (needs a tool; cannot be memorised): 'Find the value stored under the key "K" (K K ... K).' Each
task has its own random table mapping 8 keys to 8 values, reachable only through the `lookup(key)` tool, so
the model must copy the key from the question into the tool call and copy the tool's result into
`Answer: ...` (a wrong key gives another key's value; answering without the tool is right 1 time in 8).
Gold trajectories do exactly that. Key and value are echoed in the question and the tool output (REPEAT
times) so that a randomly initialised 1M-parameter model can learn the copy within a CPU budget. Held-out
tasks are new random tables. Accuracy is graded by the deterministic grader (`sciresearcher.grade.graders.grade`)
on greedy multi-turn rollouts (`benchmarks/tool_rollouts.py`).

Steps: build the tiny model; evaluate (base); `run_sft` on the gold rows (deliberately a short budget, 90
steps, so that SFT stops mid-way and GRPO has room); evaluate; `run_grpo` from the SFT model with the
environment below and the outcome-only reward (rollouts at temperature 0.7: at 1.0 this model's samples are
mostly garbled; lr 2.5e-4, 4 prompts x 8 completions per step, 30 steps); evaluate. Deterministic on one
machine (one torch thread). Goals: sft_acc >= 0.5, grpo_acc >= sft_acc + 0.05, under 30 minutes on 2 CPU cores.

    .venv/bin/python benchmarks/learning_curve.py [--out DIR] [--sft-steps N] [--grpo-steps N]

Last line: `base_acc=<x> sft_acc=<y> grpo_acc=<z>`. This shows the training path learns; it is not a
model-quality claim.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sciresearcher.records import Task

WORDS = [
    "protein", "gene", "cell", "enzyme", "binding", "receptor", "expression", "pathway", "mutation", "acid",
    "molecule", "reaction", "rate", "constant", "concentration", "temperature", "pressure", "energy",
    "mass", "hydrogen", "carbon", "nitrogen", "oxygen", "sulfur", "sodium", "potassium", "calcium",
    "magnesium", "iron", "zinc", "copper", "chloride", "kinase", "phosphatase", "inhibitor", "glucose",
    "yield", "paper", "study", "mice", "tumor", "apoptosis", "sequence", "amino", "residue", "helix",
    "domain",
]


# The key and the value are echoed REPEAT times (in the question, in the tool output): a randomly initialised
# 1M-parameter model learns to read a word that fills part of its context within a few hundred CPU steps,
# whereas copying a single token from a fixed position takes it far longer than this benchmark's budget.
REPEAT = 12
KEYS = WORDS[:8]
VALUES = WORDS[8:16]


def make_tasks(n: int, seed: int, split: str) -> list[Task]:
    """Each task: a fresh random table over all KEYS (so a wrong key gives a wrong value), one key asked."""
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        table = {k: rng.choice(VALUES) for k in KEYS}
        key = rng.choice(KEYS)
        echo = " ".join([key] * REPEAT)
        tasks.append(Task(id=f"{split}-{i}", question=f'Find the value stored under the key "{key}" ({echo}).',
                          answer=table[key], split=split, metadata={"table": table, "key": key}))
    return tasks


def make_lookup(table: dict[str, str]):
    def lookup(key: str) -> str:
        """Look up the value stored under a key in the task's table.

        Args:
            key: The key, exactly as written in the question.
        """
        value = table.get(key.strip())
        if value is None:
            return f"No value is stored under {key!r}."
        return f"The value is {value} ({' '.join([value] * REPEAT)})."

    return lookup


def build_tools(row: dict[str, Any]):
    table = json.loads(row["task"])["metadata"]["table"] if row else {}
    return [make_lookup(table)], []


def gold_row(task: Task) -> dict[str, Any]:
    from sciresearcher.agent.final import final_of
    from sciresearcher.agent.tools import model_facing_schema
    from sciresearcher.records import Policy, Trajectory
    from sciresearcher.train.rows import trajectory_to_sft_row

    key = task.metadata["key"]
    value = task.metadata["table"][key]
    lookup = make_lookup(task.metadata["table"])
    chat = [{"role": "user", "content": task.question},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "c0", "type": "function", "function": {"name": "lookup", "arguments": {"key": key}}}]},
            {"role": "tool", "tool_call_id": "c0", "name": "lookup", "content": lookup(key)},
            {"role": "assistant", "content": f"Answer: {value}"}]
    traj = Trajectory.from_chat(chat, id=task.id, task_id=task.id, policy=Policy(backend="gold", model="gold"),
                                tools=[model_facing_schema(lookup)], final=final_of(chat))
    return trajectory_to_sft_row(traj)


def evaluate(model_dir: Path, tasks: list[Task]) -> float:
    import torch
    from tool_rollouts import tool_rollouts  # benchmarks/tool_rollouts.py
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from sciresearcher.grade.graders import grade
    from sciresearcher.train.rewards import final_text

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
    prompts = [[{"role": "user", "content": t.question}] for t in tasks]
    convs = tool_rollouts(model, tok, prompts, [[make_lookup(t.metadata["table"])] for t in tasks],
                          max_turns=3, max_new_tokens=40)
    correct = [grade(t, final_text(c[1:])).correct for t, c in zip(tasks, convs, strict=True)]
    print(f"  sample rollout: {json.dumps(convs[0][1:], ensure_ascii=False)[:400]}", file=sys.stderr)
    return sum(correct) / len(correct)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="work directory (default: a temp dir)")
    parser.add_argument("--train", type=int, default=400, help="training tasks")
    parser.add_argument("--test", type=int, default=100, help="held-out tasks")
    parser.add_argument("--sft-steps", type=int, default=90,
                        help="short on purpose: SFT stops mid-way so that GRPO has room to improve")
    parser.add_argument("--sft-lr", type=float, default=2e-3)
    parser.add_argument("--sft-batch", type=int, default=8)
    parser.add_argument("--grpo-steps", type=int, default=30)
    parser.add_argument("--grpo-lr", type=float, default=2.5e-4)
    parser.add_argument("--grpo-batch", type=int, default=32, help="completions per step (4 prompts x 8)")
    parser.add_argument("--grpo-temperature", type=float, default=0.7,
                        help="rollout temperature: at 1.0 the tiny model's samples are mostly garbled")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared 2-core box)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)

    from sciresearcher.train.environment import make_environment_factory
    from sciresearcher.train.grpo import GRPORunConfig, run_grpo
    from sciresearcher.train.sft import SFTRunConfig, run_sft
    from sciresearcher.train.tiny import build_tiny_model

    started = time.perf_counter()
    work = args.out or Path(tempfile.mkdtemp(prefix="learning-curve-"))
    work.mkdir(parents=True, exist_ok=True)
    train, test = make_tasks(args.train, args.seed, "train"), make_tasks(args.test, args.seed + 1000, "test")
    base = build_tiny_model(work / "base", seed=args.seed)
    base_acc = evaluate(base, test)
    print(f"base_acc={base_acc:.3f} ({time.perf_counter() - started:.0f}s)", file=sys.stderr)

    rows = work / "sft_rows.jsonl"
    from sciresearcher.train.token_check import turn_rows

    # one prompt-completion row per assistant turn: token-exact under the model's own template (token_check.py)
    rows.write_text("".join(json.dumps(r) + "\n" for t in train for r in turn_rows(gold_row(t))))
    sft = SFTRunConfig(model=str(base), dataset=str(rows), output_dir=str(work / "sft"), max_length=1024,
                       max_steps=args.sft_steps, learning_rate=args.sft_lr, warmup_ratio=10,
                       lr_scheduler_type="constant_with_warmup", per_device_train_batch_size=args.sft_batch,
                       gradient_accumulation_steps=1, logging_steps=5, save_steps=10_000, seed=args.seed, resume=False)
    run_sft(sft)
    sft_acc = evaluate(work / "sft" / "final", test)
    print(f"sft_acc={sft_acc:.3f} ({time.perf_counter() - started:.0f}s)", file=sys.stderr)

    tasks_file = work / "grpo_tasks.jsonl"
    tasks_file.write_text("".join(t.model_dump_json() + "\n" for t in train))
    grpo = GRPORunConfig(model=str(work / "sft" / "final"), dataset=str(tasks_file), output_dir=str(work / "grpo"),
                         system_prompt="", num_generations=8, per_device_train_batch_size=args.grpo_batch,
                         max_completion_length=96, max_tool_calling_iterations=2, max_steps=args.grpo_steps,
                         learning_rate=args.grpo_lr, temperature=args.grpo_temperature, beta=0.0, loss_type="dapo",
                         logging_steps=1, save_steps=10_000, seed=args.seed, resume=False,
                         trainer_overrides={"lr_scheduler_type": "constant"})
    summary = run_grpo(grpo, environment_factory=make_environment_factory(build_tools, "LookupEnvironment"))
    print(f"  grpo rewards: {[round(r, 2) for r in summary.get('rewards', [])]}", file=sys.stderr)
    grpo_acc = evaluate(work / "grpo" / "final", test)
    print(f"work dir {work}; total {time.perf_counter() - started:.0f}s", file=sys.stderr)
    print(f"base_acc={base_acc:.3f} sft_acc={sft_acc:.3f} grpo_acc={grpo_acc:.3f}")


if __name__ == "__main__":
    main()
