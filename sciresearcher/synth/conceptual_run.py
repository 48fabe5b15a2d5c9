"""`run_conceptual(config, out)`: the conceptual pipeline over a corpus, into a resumable run directory.

Loads the corpus, selects seeds (written to `seeds.jsonl`), opens or builds a BM25 index for the search
sub-agent, then for each seed builds a multi-hop chain and verifies the task (`conceptual.py`). Kept tasks go
to `tasks.jsonl`, seeds that yield none to `rejected.jsonl` with the reason; a resumed run skips seeds already
in either. The summary counts outcomes and hop failures.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from sciresearcher.errors import ConfigError
from sciresearcher.llm.base import LLMClient
from sciresearcher.synth.config import ConceptualConfig

log = logging.getLogger(__name__)


def _open_index(config: ConceptualConfig, docs: list[Any], run_path: Path) -> Any:
    from sciresearcher.knowledge.index import LocalIndex
    from sciresearcher.knowledge.index_build import build_index

    if config.index_dir:
        return LocalIndex.load(config.index_dir)
    return build_index(docs, run_path / "index", dense=False)


async def run_conceptual(config: ConceptualConfig, out: str | Path, *, writer: LLMClient | None = None,
                         solver: LLMClient | None = None, show_progress: bool = True) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from sciresearcher.knowledge.loaders import load_sources
    from sciresearcher.llm import make_client
    from sciresearcher.llm.accounting import session_costs
    from sciresearcher.runs import RunDir, write_jsonl_atomic
    from sciresearcher.synth.conceptual import SearchSubAgent, build_chain, chain_to_task, verify_conceptual
    from sciresearcher.synth.seeds import select_seeds

    if writer is None:
        if config.writer is None:
            raise ConfigError("the conceptual pipeline needs a writer model",
                              hint="set --writer.backend openai --writer.base_url URL --writer.model NAME "
                              "(offline, `synth computational` writes tasks from templates)")
        writer = make_client(config.writer.for_run(out, "writer"))  # batch ids kept in the run dir
    if solver is None and config.solver is not None:
        solver = make_client(config.solver.for_run(out, "solver"))
    judge = None
    if config.judge is not None:
        from sciresearcher.grade.judge import HLEJudge

        judge = HLEJudge(make_client(config.judge.for_run(out, "judge")))
    if not config.corpus:
        raise ConfigError("no corpus given", hint="pass corpus files or folders: --corpus '[\"papers.jsonl\"]'")
    docs = load_sources(config.corpus).documents
    by_id = {d.id: d for d in docs}
    with RunDir(out, config) as run:
        run.attach_log()
        rater = None
        if config.seeds_file:
            import json

            from sciresearcher.synth.seeds import Seed

            lines = Path(config.seeds_file).read_text().splitlines()
            seeds = [Seed.from_dict(json.loads(line)) for line in lines if line.strip()]
        else:
            rater = make_client(config.seeds.llm.for_run(out, "rater")) if config.seeds.llm is not None else None
            seeds = await select_seeds(docs, config.seeds, rater)
        write_jsonl_atomic(run.path / "seeds.jsonl", [s.to_dict() for s in seeds])
        search = SearchSubAgent(_open_index(config, docs, run.path))
        with run.records("tasks") as kept, run.records("rejected", key="seed") as rejected:
            done = {t["provenance"]["seed_entity"] for t in kept.latest().values()} | rejected.done_ids()
            todo = [s for s in seeds[:config.n] if s.entity not in done]
            sem = asyncio.Semaphore(config.concurrency)
            with Progress(TextColumn("[bold]synth conceptual"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[kept]}"), TimeElapsedColumn(), disable=not show_progress) as bar:
                job = bar.add_task("seeds", total=len(todo), kept="")
                n_kept = 0

                async def one(seed: Any) -> None:
                    nonlocal n_kept
                    async with sem:
                        chain = await build_chain(seed, by_id, search, writer, config.hops, config.max_hop_attempts)
                        if isinstance(chain, str):
                            rejected.append({"seed": seed.entity, "stage": "write", "reasons": [chain]})
                        else:
                            task = chain_to_task(chain, getattr(writer, "model", "writer"), config.category)
                            task, failed = await verify_conceptual(task, writer, search, solver, judge=judge)
                            if failed:
                                rejected.append({"seed": seed.entity, "stage": "verify", "reasons": failed,
                                                 "task": task.model_dump(mode="json")})
                            else:
                                kept.append(task)
                                n_kept += 1
                    bar.update(job, advance=1, kept=f"kept {n_kept}")

                await asyncio.gather(*(one(s) for s in todo))
            kept_rows, rejected_rows = list(kept.latest().values()), list(rejected.latest().values())
        reasons: dict[str, int] = {}
        stages = {"seeds": len(kept_rows) + len(rejected_rows), "seed_question": 0, "hops": 0,
                  "verified": len(kept_rows)}
        for row in rejected_rows:
            key = f"{row['stage']}: {row['reasons'][0].split(':')[0]}"  # whole sentence: no cut mid-word
            reasons[key] = reasons.get(key, 0) + 1
            if row["stage"] == "verify" or row["reasons"][0].startswith("hop "):
                stages["seed_question"] += 1
            if row["stage"] == "verify":
                stages["hops"] += 1
        stages["seed_question"] += len(kept_rows)
        stages["hops"] += len(kept_rows)
        summary = {"seeds": len(seeds), "attempted": len(kept_rows) + len(rejected_rows), "kept": len(kept_rows),
                   "rejected": len(rejected_rows), "reasons": reasons, "yields": stages, "hops": config.hops,
                   "writer": getattr(writer, "model", None),
                   "session_cost": session_costs(writer=writer, solver=solver, rater=rater)}
        run.write_json("summary.json", summary)
    return summary
