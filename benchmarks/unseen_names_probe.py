"""Does a trained student read its documents or remember them? Element tasks about made-up elements, step by step.

The demo's students solve most of the test split's lab-record tasks and almost none of its held-out elements, and
GRPO finds no right sample to reinforce there (docs/training.md, fifteenth round). This probe asks which step
breaks: it makes up elements (`synth/fictional.py`: names, symbols and values in no task the student trained
on), drafts `element_atoms` tasks over them, indexes them beside the run's training documents, rolls the model
out on them with the evaluation's agent and tools, and counts per trajectory:
  search_names   a search query holds the element's name (copied from the question);
  read_id        a read asks for the cited document by its id (copied from what search printed);
  python_right   python printed the answer, within its tolerance (the values copied from what read returned);
  correct        the graded answer.
With `--as-namespace mendeleev:element` the made-up documents take the real elements' id scheme (a
counterfactual, for this probe only): it separates "cannot copy an unfamiliar symbol" from "writes the real
elements' namespace whatever search printed". Nothing here is training data; the run directory is only read.

    .venv/bin/python benchmarks/unseen_names_probe.py runs/demo [--model DIR] [--samples 8 --temperature 1]

Last line: `search_names=<a> read_id=<b> python_right=<c> correct=<d> samples=<n>` (shares of the samples).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

STEPS = ("search_names", "read_id", "python_right", "correct")


def made_up_tasks(recipe: Any, elements: int, tasks: int, namespace: str | None = None) -> tuple[list[Any], list[Any]]:
    """(documents, tasks): `elements` made-up elements for the run's seed, under `namespace` if given (else
    `fictional:element`), and up to `tasks` element_atoms tasks over them (verified by the synthesis's own
    drafting)."""
    from sciresearcher.synth.computational import draft_tasks, to_task
    from sciresearcher.synth.fictional import NAMESPACE, fictional_elements

    docs = fictional_elements(elements, f"probe:{recipe.seed}", namespace=namespace or NAMESPACE)
    cfg = recipe.synth.computational.model_copy(update={"n": tasks, "templates": ["element_atoms"], "seed": recipe.seed})
    return docs, [to_task(d, cfg.tolerance) for d in draft_tasks(cfg, docs)]


def _holds(text: str, task: Any) -> bool:
    """Whether `text` prints a number within the task's relative tolerance of its answer."""
    from sciresearcher.grade.numeric import close
    from sciresearcher.synth.numbers import numbers_in

    return any(close(x, float(task.answer), task.tolerance) for x in numbers_in(text, words=False))


def step_counts(trajectories: list[Any], tasks: dict[str, Any]) -> dict[str, int]:
    """How many trajectories got each step right (see the module docstring)."""
    out = dict.fromkeys(STEPS, 0)
    for t in trajectories:
        task = tasks[t.task_id]
        name, doc = task.provenance.seed_entity, task.evidence[0].doc_id
        calls = [c for m in t.messages if m.role == "assistant" for c in (m.tool_calls or [])]
        out["search_names"] += any(c.function.name == "search" and name in c.function.arguments.lower()
                                   for c in calls)
        out["read_id"] += any(c.function.name == "read" and doc in c.function.arguments for c in calls)
        out["python_right"] += any(m.role == "tool" and m.name == "python" and _holds(m.content or "", task)
                                   for m in t.messages)
        out["correct"] += bool(t.grade and t.grade.correct)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pipeline", type=Path, help="a pipeline directory (sciresearcher pipeline demo --out DIR)")
    p.add_argument("--model", type=Path, default=None, help="the model to probe (default: the run's SFT model)")
    p.add_argument("--elements", type=int, default=20)
    p.add_argument("--tasks", type=int, default=40)
    p.add_argument("--samples", type=int, default=1, help="rollouts per task")
    p.add_argument("--temperature", type=float, default=0.0, help="0: greedy, as the evaluation decodes")
    p.add_argument("--as-namespace", default=None, help="re-label the made-up ids, e.g. mendeleev:element")
    args = p.parse_args()

    from sciresearcher.data.rejection import read_trajectories
    from sciresearcher.eval.harness import run_eval
    from sciresearcher.knowledge.index_build import build_index
    from sciresearcher.knowledge.loaders import load_sources
    from sciresearcher.pipeline.model_stages import eval_config, eval_tools
    from sciresearcher.pipeline.recipe import load_recipe
    from sciresearcher.pipeline.runner import stage_dirs
    from sciresearcher.runs import write_jsonl_atomic

    recipe, _ = load_recipe(args.pipeline / "recipe.yaml")
    dirs = stage_dirs(args.pipeline)
    if not (dirs["sft"] / "final").is_dir() and args.model is None:
        raise SystemExit(f"no SFT model in {args.pipeline}: run `sciresearcher pipeline demo --out {args.pipeline}`")
    model = args.model or dirs["sft"] / "final"
    label = (args.as_namespace or "fictional").replace(":", "-")
    out = args.pipeline / "probe" / f"unseen-names-{label}-T{args.temperature:g}x{args.samples}"
    docs, tasks = made_up_tasks(recipe, args.elements, args.tasks, args.as_namespace)
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(out / "tasks.jsonl", tasks)
    training = load_sources([dirs["split"] / "train_documents.jsonl"]).documents
    build_index(training + docs, out / "index", dense=False)
    cfg = eval_config(recipe, "sft", str(model), eval_tools(recipe, str(out / "index")),
                      temperature=args.temperature, samples=args.samples, benchmark=str(out / "tasks.jsonl"))
    asyncio.run(run_eval(cfg, out / "rollouts", show_progress=False))
    trajectories = read_trajectories([out / "rollouts" / "trajectories.jsonl"])
    counts = step_counts(trajectories, {t.id: t for t in tasks})
    n = len(trajectories)
    print(f"model {model}: {len(tasks)} tasks about {args.elements} made-up elements "
          f"(ids {args.as_namespace or 'fictional:element'}:<symbol>), {args.samples} rollout(s) each at temperature "
          f"{args.temperature:g}: " + ", ".join(f"{k} {v}/{n}" for k, v in counts.items()))
    print(" ".join(f"{k}={v / max(n, 1):.3f}" for k, v in counts.items()) + f" samples={n}")


if __name__ == "__main__":
    main()
