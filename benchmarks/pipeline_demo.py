"""The built-in demo recipe (`sciresearcher pipeline demo`) with several seeds: base, SFT and GRPO on unseen tasks.

Each seed is one whole pipeline run in its own process and directory (`--out DIR/seed-N`): offline synthesis,
split by entity, the reference policy as the teacher through the real tools, rejection sampling, a tiny
Qwen3 with a tokenizer trained on the run's own texts, SFT, GRPO with the outcome reward, and the three models
evaluated by the real agent loop on the test split (entities and documents no training task touched). The
seed changes the split (which entities are held out), the model's initialisation, SFT and GRPO.

Per seed it prints the accuracies (with 95% intervals), the minutes the seed's stages took (a stage reused from
an earlier run in the same `--out`, its config and inputs unchanged, counts with the time it took then), and what
GRPO saw: the mean reward of its first and last steps, the share of groups whose completions all got the same
reward (no learning signal: `frac_reward_zero_std`), the reward's spread within groups, the policy's entropy per
token on its own samples at the start and end (an update that flattens the forks shows here first), how often SFT
already solves the GRPO tasks at the sampling temperature (the first steps' mean reward), how many prompts its
updates saw (and with `grpo.guidance`, the share of groups given the teacher's trajectory);
the test tasks GRPO gained and lost against SFT with McNemar's exact p (a gap of a few tasks is noise unless the
flips go one way); SFT's solved tasks by how firmly it holds its own trajectory (the weakest teacher-forced gap
between its token and the strongest rival) with how many of each GRPO lost (the thin ones are where its losses come
from); each model's solved tasks per task shape (which routine it has not learned); and the training stages' pace,
seconds per optimizer step of copy pretraining, SFT and GRPO (those stages are compute-bound, so the pace is what
changes a seed's minutes from one machine to another: the same students took 9.6 minutes on one AMD EPYC and 12.0
on another); GRPO's settings beside its signal (group size, temperature, learning rate, KL beta, clip epsilon, loss).
Before the last line, the demo's goal is checked seed by seed (SFT >= 0.5, GRPO >= SFT + 0.05, under 10 minutes). With
`--sampled N`, the SFT and GRPO models are also rolled out N times per task at GRPO's temperature: SFT's pass rates on
the tasks its greedy answer solves and on those it gets wrong (the never-solved ones per shape) say which tasks GRPO
can learn anything on, and the two models' mean sampled accuracy says whether GRPO raised what it optimises (the
expected reward at its temperature) on tasks it did not train on. The last line is
`base_acc=<x> sft_acc=<y> grpo_acc=<z> minutes=<m>` (means over seeds; minutes per seed).

    .venv/bin/python benchmarks/pipeline_demo.py --seeds 3 [--out DIR] [--split validation] [--sampled 8]
        [-- --sft.max_steps 200]

`--split validation` evaluates on the validation split instead (how the demo's settings were chosen; never
tune on test). Arguments after `--` are recipe overrides passed to every run. Timings depend on the machine:
the figures in docs/training.md were measured on 2 CPU cores shared with other jobs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from statistics import mean
from typing import Any

import yaml

from sciresearcher.data.rejection import read_trajectories
from sciresearcher.grade.metrics import paired_comparison
from sciresearcher.pipeline.runner import read_state, stage_dirs
from sciresearcher.tasks.files import read_tasks

ROOT = Path(__file__).resolve().parents[1]


def grpo_signal(summary_file: Path) -> dict[str, Any]:
    """What GRPO's rollouts looked like: reward at the start and end, groups without signal, spread."""
    if not summary_file.is_file():
        return {}
    history = [h for h in json.loads(summary_file.read_text()).get("log_history", []) if "reward" in h]
    if not history:
        return {}
    quarter = max(1, len(history) // 4)

    def avg(key: str, rows: list[dict[str, Any]]) -> float | None:
        values = [float(h[key]) for h in rows if key in h]
        return sum(values) / len(values) if values else None

    outcome = "rewards/outcome_reward/mean"  # the outcome alone, not a weighted sum with a shaped reward
    outcome = outcome if any(outcome in h for h in history) else "reward"
    return {"steps": len(history), "reward_first": avg(outcome, history[:quarter]),
            "reward_last": avg(outcome, history[-quarter:]),
            "copy_first": avg("rewards/copy_reward/mean", history[:quarter]),
            "copy_last": avg("rewards/copy_reward/mean", history[-quarter:]),
            "entropy_first": avg("entropy", history[:quarter]), "entropy_last": avg("entropy", history[-quarter:]),
            "zero_std_groups": avg("frac_reward_zero_std", history),
            "reward_std": avg("reward_std", history), "clip_ratio": avg("clip_ratio/region_mean", history),
            "tool_calls": avg("tools/call_frequency", history), "truncated": avg("completions/clipped_ratio", history),
            "guided_groups": avg("guidance/groups_guided", history)}


def graded(runs: dict[str, Any], model: str, split: str) -> dict[str, bool]:
    """Task id -> solved, for one model's eval run (the last record of a task's sample wins, as in a resumed eval)."""
    trajectories = Path(runs.get(model, {}).get(split, {}).get("dir", "")) / "trajectories.jsonl"
    if not trajectories.is_file():
        return {}
    return {t.task_id: bool(t.grade and t.grade.correct) for t in read_trajectories([trajectories])}


def by_shape(out: Path, split: str, runs: dict[str, Any]) -> dict[str, dict[str, list[int]]]:
    """Solved / total per task shape (the synthesis template) for each model: which routine a model has not learned
    (e.g. `element_atoms` at 0 when held-out element names are not copied into the search)."""
    shape = task_shapes(out, split)
    if not shape:
        return {}
    counts: dict[str, dict[str, list[int]]] = {}
    for model in runs:
        for task_id, correct in graded(runs, model, split).items():
            cell = counts.setdefault(model, {}).setdefault(shape.get(task_id, "other"), [0, 0])
            cell[0] += correct
            cell[1] += 1
    return counts


def task_shapes(out: Path, split: str) -> dict[str, str]:
    """Task id -> its shape (the synthesis template) for a split of the pipeline run in `out` ({} without one)."""
    split_dir = stage_dirs(out).get("split")
    tasks_file = split_dir / f"{split}.jsonl" if split_dir else None
    if tasks_file is None or not tasks_file.is_file():
        return {}
    return {t.id: t.metadata.get("template") or "other" for t in read_tasks(tasks_file)}


def grpo_against_sft(runs: dict[str, Any], split: str) -> dict[str, Any]:
    """The same test tasks under SFT and GRPO: tasks GRPO gained and lost, and McNemar's exact p (is the gap more
    than the flips a few updates make either way?)."""
    sft, grpo = graded(runs, "sft", split), graded(runs, "grpo", split)
    if not sft.keys() & grpo.keys():
        return {}
    c = paired_comparison(sft, grpo)
    return {"gained": c.gained, "lost": c.lost, "tasks": c.tasks, "p_value": c.p_value}


def margin_signal(runs: dict[str, Any], split: str, sft_model: str | None) -> list[dict[str, Any]]:
    """Where GRPO's losses come from: SFT's solved tasks by how firmly SFT holds its own trajectory (the weakest
    teacher-forced gap between its token and the strongest rival, train/margins.py), and how many of each range
    GRPO got wrong. ~20 s a seed on 2 cores."""
    from sciresearcher.train.margins import gap_bins, weakest_gaps
    from sciresearcher.train.rows import trajectory_to_sft_row

    trajectories = Path(runs.get("sft", {}).get(split, {}).get("dir", "")) / "trajectories.jsonl"
    if sft_model is None or not trajectories.is_file():
        return []
    rows = {t.task_id: trajectory_to_sft_row(t) for t in read_trajectories([trajectories]) if t.grade and t.grade.correct}
    return gap_bins(weakest_gaps(sft_model, rows), graded(runs, "grpo", split))


def grpo_config(grpo_dir: Path) -> dict[str, Any]:
    """The GRPO stage's resolved config (its `config.yaml`), or {} where the stage has not run."""
    config_file = grpo_dir / "config.yaml"
    return (yaml.safe_load(config_file.read_text()) or {}) if config_file.is_file() else {}


def grpo_prompts(c: dict[str, Any]) -> int | None:
    """How many prompts GRPO's updates saw: steps x (completions per step / completions per prompt)."""
    try:
        per_step = c["per_device_train_batch_size"] * c.get("gradient_accumulation_steps", 1) // c["num_generations"]
        return int(c["max_steps"]) * per_step
    except (KeyError, TypeError):
        return None


def grpo_settings(c: dict[str, Any]) -> str:
    """GRPO's settings to read beside its signal: group size, sampling temperature, learning rate, KL, clipping."""
    if not c:
        return "-"
    overrides = c.get("trainer_overrides") or {}
    # TRL's GRPOConfig defaults where the recipe leaves them (epsilon 0.2; epsilon_high = epsilon)
    low = overrides.get("epsilon", 0.2)
    high = overrides.get("epsilon_high") or low
    quantile = c.get("top_entropy_quantile", 1.0)
    return (f"group size {c.get('num_generations')}, temperature {c.get('temperature')}, learning rate "
            f"{c.get('learning_rate')}, KL beta {c.get('beta')}, clip epsilon {low}/{high}, loss {c.get('loss_type')}"
            + (f", policy loss on the {quantile:.0%} highest-entropy tokens" if quantile < 1.0 else ""))


def split_by_greedy(greedy: dict[str, bool], rates: dict[str, float],
                    shapes: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Sampled pass rates of the tasks the greedy answer gets right, and of those it gets wrong: for each, the mean
    pass rate, how many tasks have mixed outcomes (a GRPO group with reward spread: something to learn) and how many
    no solved sample at all (a group with no spread: nothing to learn from); with `shapes` (task id -> shape), the
    never-solved ones per shape too (which routine is out of GRPO's reach)."""
    out: dict[str, dict[str, Any]] = {}
    for name, want in (("greedy_right", True), ("greedy_wrong", False)):
        ids = [t for t, ok in greedy.items() if ok == want and t in rates]
        r = [rates[t] for t in ids]
        out[name] = {"tasks": len(r), "pass": sum(r) / len(r) if r else None,
                     "mixed": sum(1 for x in r if 0 < x < 1), "never": sum(1 for x in r if x == 0)}
        if shapes is not None:
            never = Counter(shapes.get(t, "other") for t in ids if rates[t] == 0)
            out[name]["never_by_shape"] = dict(sorted(never.items()))
    return out


def sampled_rates(out: Path, split: str, samples: int, model: str) -> tuple[dict[str, float], float]:
    """One of the run's models (`sft` or `grpo`) rolled out `samples` times per task at GRPO's sampling temperature
    on the evaluated tasks (the eval stage's agent, tools and backend): each task's pass rate, and the temperature.
    Written to `out/sampled-MODEL-SPLIT/`; ~2-7 minutes for 60 tasks x 8 on 2 cores (a looping model is slower)."""
    import asyncio

    from sciresearcher.eval.harness import run_eval
    from sciresearcher.pipeline.model_stages import eval_config, eval_tools, pass_rates
    from sciresearcher.pipeline.recipe import load_recipe

    recipe, _ = load_recipe(out / "recipe.yaml")
    states = stage_states(out)
    cfg = eval_config(recipe, model, states[model]["outputs"]["model"],
                      eval_tools(recipe, states["world"]["outputs"]["index"]), temperature=recipe.grpo.temperature,
                      samples=samples, benchmark=states["split"]["outputs"][split], limit=recipe.eval.max_tasks)
    run_dir = out / f"sampled-{model}-{split}"
    asyncio.run(run_eval(cfg, run_dir, show_progress=False))
    return pass_rates(read_trajectories([run_dir / "trajectories.jsonl"])), recipe.grpo.temperature


def sampled_signal(out: Path, split: str, samples: int) -> dict[str, Any]:
    """Why GRPO moves greedy answers so little, and whether it moves what it optimises: the SFT and GRPO models
    each rolled out `samples` times per task at GRPO's sampling temperature (`sampled_rates`). SFT's pass rates
    against its greedy answers (`split_by_greedy`: which tasks GRPO can learn anything on), and GRPO's against
    SFT's (`sampled_against_sft`: GRPO's own objective, the expected reward at its temperature, on these tasks)."""
    runs = json.loads(Path(stage_states(out)["eval"]["outputs"]["runs"]).read_text())
    sft, temperature = sampled_rates(out, split, samples, "sft")
    grpo, _ = sampled_rates(out, split, samples, "grpo")
    return {"samples": samples, "temperature": temperature, "grpo_against_sft": sampled_against_sft(sft, grpo),
            **split_by_greedy(graded(runs, "sft", split), sft, task_shapes(out, split))}


def sampled_against_sft(sft: dict[str, float], grpo: dict[str, float]) -> dict[str, Any]:
    """Mean sampled accuracy (the expected reward GRPO maximises) of SFT and GRPO over the tasks both were rolled
    out on, and how many tasks GRPO's pass rate rose or fell on."""
    ids = sorted(set(sft) & set(grpo))
    if not ids:
        return {}
    return {"tasks": len(ids), "sft": sum(sft[t] for t in ids) / len(ids), "grpo": sum(grpo[t] for t in ids) / len(ids),
            "up": sum(grpo[t] > sft[t] for t in ids), "down": sum(grpo[t] < sft[t] for t in ids)}


def stage_states(out: Path) -> dict[str, dict[str, Any]]:
    """Each stage's stage.json by stage name, from the stages' own directories (so `NN-stage.previous`, an older
    run of a stage whose settings changed since, kept by the runner, is not counted)."""
    return {name: state for name, d in stage_dirs(out).items() if (state := read_state(d)) is not None}


def training_pace(figures: dict[str, Any]) -> dict[str, float]:
    """Seconds per optimizer step of copy pretraining, SFT and GRPO, from their stages' figures (absent for a
    stage that did not train this run)."""
    pace = {"copy pretraining": (figures.get("base") or {}).get("copy_s_per_step"),
            "sft": (figures.get("sft") or {}).get("s_per_step"), "grpo": (figures.get("grpo") or {}).get("s_per_step")}
    return {k: v for k, v in pace.items() if isinstance(v, (int, float))}


def run_seed(seed: int, out: Path, split: str, overrides: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "sciresearcher", "pipeline", "demo", "--out", str(out), "--seed", str(seed), "-q",
           "--eval.splits", f"[{split}]", *overrides]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    started = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall_minutes = (time.time() - started) / 60
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
        raise SystemExit(f"seed {seed}: the pipeline failed (exit {proc.returncode})")
    dirs = stage_dirs(out)
    runs = json.loads((dirs["eval"] / "runs.json").read_text())
    stages = stage_states(out)
    seconds = {name: s.get("elapsed_s") for name, s in stages.items()}
    # the whole pipeline's time, stage by stage: a stage reused from an earlier run in `out` (unchanged config and
    # inputs) counts with the seconds it took then, so the figure is the same whether the seed ran at once or not
    minutes = sum(v for v in seconds.values() if v) / 60
    grpo = grpo_config(dirs["grpo"])
    return {"seed": seed, "minutes": minutes, "wall_minutes": wall_minutes, "runs": runs,
            "grpo": grpo_signal(dirs["grpo"] / "summary.json") | {"prompts": grpo_prompts(grpo),
                                                                  "settings": grpo_settings(grpo)},
            "grpo_against_sft": grpo_against_sft(runs, split), "stage_seconds": seconds,
            "margins": margin_signal(runs, split, stages.get("sft", {}).get("outputs", {}).get("model")),
            "by_shape": by_shape(out, split, runs),
            "figures": {name: s.get("figures") for name, s in stages.items()}}


def goal_line(results: list[dict[str, Any]], split: str) -> str:
    """The demo's goal (README), seed by seed: SFT >= 0.5, GRPO >= SFT + 0.05, each seed under 10 minutes."""
    acc = [{m: r["runs"][m][split]["accuracy"] for m in ("sft", "grpo")} for r in results]
    gains = [a["grpo"] - a["sft"] for a in acc]

    def verdict(ok: list[bool]) -> str:
        return "yes" if all(ok) else f"no ({sum(ok)} of {len(ok)} seeds)"

    sft = " / ".join(f"{a['sft']:.2f}" for a in acc)
    gain = " / ".join(f"{g:+.2f}" for g in gains)
    minutes = " / ".join(f"{r['minutes']:.1f}" for r in results)
    return (f"goal on every seed: sft >= 0.5 {verdict([a['sft'] >= 0.5 for a in acc])} ({sft}); grpo >= sft + 0.05 "
            f"{verdict([g >= 0.05 - 1e-9 for g in gains])} ({gain}); under 10 minutes "
            f"{verdict([r['minutes'] < 10 for r in results])} ({minutes})")


def _fmt(x: Any, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "pipeline-demo-bench")
    parser.add_argument("--split", default="test", choices=["test", "validation"])
    parser.add_argument("--sampled", type=int, default=0, metavar="N",
                        help="also roll the SFT and GRPO models out N times per task at GRPO's temperature and print how "
                        "many of the tasks SFT's greedy answer gets wrong any sample solves (GRPO's reach) and both "
                        "models' mean sampled accuracy (what GRPO optimises); 0: off")
    parser.add_argument("overrides", nargs="*", help="recipe overrides after --, e.g. -- --sft.max_steps 200")
    args = parser.parse_args()

    results = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        r = run_seed(seed, args.out / f"seed-{seed}", args.split, args.overrides)
        results.append(r)
        accs = {m: r["runs"][m][args.split] for m in ("base", "sft", "grpo")}
        g = r["grpo"]
        print(f"seed {seed}: " + " ".join(
            f"{m}_acc={a['accuracy']:.3f} [{a['ci95'][0]:.2f},{a['ci95'][1]:.2f}]" for m, a in accs.items())
            + f" (n={accs['sft']['tasks']} {args.split} tasks) minutes={r['minutes']:.1f} (this invocation "
            f"{r['wall_minutes']:.1f}: stages done before in --out are reused)", flush=True)
        print(f"  grpo: {g.get('steps')} steps on {g.get('prompts', '-')} prompts, reward {_fmt(g.get('reward_first'))} -> {_fmt(g.get('reward_last'))} "
              f"(first steps = how often SFT already solves GRPO tasks at the sampling temperature), groups with "
              f"no reward spread {_fmt(g.get('zero_std_groups'), 2)}, reward std {_fmt(g.get('reward_std'), 3)}, "
              f"clipped {_fmt(g.get('clip_ratio'), 3)}, cut before the answer {_fmt(g.get('truncated'), 2)}, "
              f"policy entropy per token {_fmt(g.get('entropy_first'), 4)} -> {_fmt(g.get('entropy_last'), 4)}"
              + (f", groups given the teacher's trajectory {_fmt(g['guided_groups'], 2)}"
                 if g.get("guided_groups") is not None else "")
              + (f", values copied {_fmt(g['copy_first'])} -> {_fmt(g['copy_last'])}"
                 if g.get("copy_first") is not None else ""), flush=True)
        print(f"  grpo settings: {g.get('settings', '-')}", flush=True)
        if d := r["grpo_against_sft"]:
            print(f"  grpo against sft on the same {d['tasks']} tasks: {d['gained']} gained, {d['lost']} lost "
                  f"(McNemar exact p={d['p_value']:.2f})", flush=True)
        if r["margins"]:
            print("  sft's solved tasks by the weakest token of its own trajectory (p(token) - p(strongest rival), "
                  "teacher-forced): " + ", ".join(f"{b['range']} {b['tasks']} (grpo lost {b['lost']})"
                                                   for b in r["margins"]), flush=True)
        if args.sampled:
            r["sampled"] = w = sampled_signal(args.out / f"seed-{seed}", args.split, args.sampled)
            right, wrong = w["greedy_right"], w["greedy_wrong"]
            print(f"  sft sampled {w['samples']}x at temperature {w['temperature']}: on the {right['tasks']} tasks its "
                  f"greedy answer solves, pass rate {_fmt(right['pass'], 2)}, {right['mixed']} with mixed outcomes "
                  f"(GRPO's signal); on the {wrong['tasks']} it gets wrong, pass rate {_fmt(wrong['pass'], 2)}, "
                  f"{wrong['never']} never solved (no reward spread: out of GRPO's reach"
                  + (": " + ", ".join(f"{k} {v}" for k, v in wrong["never_by_shape"].items())
                     if wrong.get("never_by_shape") else "") + ")", flush=True)
            if c := w["grpo_against_sft"]:
                print(f"  what GRPO optimises, sampled {w['samples']}x at temperature {w['temperature']} on the same "
                      f"{c['tasks']} tasks: mean accuracy sft {c['sft']:.3f}, grpo {c['grpo']:.3f} "
                      f"({c['grpo'] - c['sft']:+.3f}; pass rate up on {c['up']} tasks, down on {c['down']})", flush=True)
        print("  turns cut at the eval's max_tokens: " + ", ".join(
            f"{m} {_fmt(a.get('cut_turns'), 2)}" for m, a in accs.items()), flush=True)
        print("  solved by task shape: " + "; ".join(
            f"{m} " + " ".join(f"{k} {a}/{n}" for k, (a, n) in sorted(c.items()))
            for m, c in r["by_shape"].items()), flush=True)
        print("  stage seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in r["stage_seconds"].items() if v), flush=True)
        if pace := training_pace(r["figures"]):
            print("  training pace, seconds a step (compute-bound: what makes the minutes differ between machines): "
                  + ", ".join(f"{k} {v:.3f}" for k, v in pace.items()), flush=True)
    base = mean(r["runs"]["base"][args.split]["accuracy"] for r in results)
    sft = mean(r["runs"]["sft"][args.split]["accuracy"] for r in results)
    grpo = mean(r["runs"]["grpo"][args.split]["accuracy"] for r in results)
    minutes = mean(r["minutes"] for r in results)
    print(goal_line(results, args.split), flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"base_acc={base:.3f} sft_acc={sft:.3f} grpo_acc={grpo:.3f} minutes={minutes:.1f}")


if __name__ == "__main__":
    main()
