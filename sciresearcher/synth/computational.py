"""The computational synthesis pipeline, offline writer: cited facts -> drafts -> verified Task records.

`draft_tasks(config, docs)` writes up to `config.n` distinct drafts with the templates (seeded, round robin).
`to_task(draft)` turns one into a `Task`: numeric answer (4 significant digits) with a relative tolerance,
sentence-level evidence for every cited value, the reference solution and formula in `metadata`, provenance
(pipeline, template, seed entity, writer) and difficulty (one cited document: easy; two: medium).
`run_synthesis(config, out)` verifies each (answerable, reference solution in the sandbox, and, with a solver
model, majority vote and the no-tool check) and appends kept tasks to `tasks.jsonl` and failures with their
reasons to `rejected.jsonl` in a resumable run directory; `facts.jsonl` holds the fact documents, ready for
`sciresearcher index build` so an agent can search and read them. With `config.fictional`, element tasks about
made-up elements and serial_dilution tasks about made-up stock records follow the `n` real ones (`fictional.py`),
their documents in `fictional_documents.jsonl`.

With `config.corpus` and no writer model, the offline paper writer (`paper_writer.py`) writes tasks from the
papers' quantitative statements (effect sizes, percent and fold changes, doses) instead of the templates.
With a writer model (`config.writer`) the candidates come from papers too: `computational_llm.py` writes one
problem per sampled document from its quantitative sentences, and the same verification follows. The conceptual
pipeline is in `conceptual.py`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sciresearcher.llm.base import LLMClient
from sciresearcher.records import Document, Provenance, Task
from sciresearcher.synth.config import SynthConfig
from sciresearcher.synth.templates import TEMPLATES, Draft
from sciresearcher.synth.verify import verify_task

log = logging.getLogger(__name__)
WRITER = "offline-templates"


def docs_by_kind(docs: list[Document]) -> dict[str, list[Document]]:
    """Fact documents by kind; records by their record kind (vp, rho, pep, assay, ...)."""
    out: dict[str, list[Document]] = defaultdict(list)
    for doc in docs:
        kind = doc.metadata.get("kind", "other")
        out[doc.metadata.get("record", kind) if kind == "record" else kind].append(doc)
    return out


MAX_SPREAD = 0.05


def draft_tasks(config: SynthConfig, docs: list[Document]) -> list[Draft]:
    """Up to `config.n` drafts with distinct ids, shapes taken in turn with a seeded RNG; a draft whose (shape,
    entity set) was already drafted is redrawn a few times first, so the tasks spread over the documents."""
    from sciresearcher.synth.spread import answer_spread

    names = list(TEMPLATES) if "all" in config.templates else list(dict.fromkeys(config.templates))
    rng = random.Random(config.seed)
    by_kind = docs_by_kind(docs)
    drafts: dict[str, Draft] = {}
    pairs: set[tuple[str, tuple[str, ...]]] = set()
    attempts = 0
    while len(drafts) < config.n and attempts < 50 * config.n:
        name = names[len(drafts) % len(names)]
        draft = None
        for _ in range(8):
            attempts += 1
            candidate = TEMPLATES[name](rng, by_kind)
            if candidate is None or candidate.id in drafts or answer_spread(candidate) > MAX_SPREAD:
                continue  # sources that disagree this much leave no meaningful gold answer
            draft = candidate
            if (name, candidate.entities) not in pairs:
                break
        if draft is not None:
            drafts[draft.id] = draft
            pairs.add((name, draft.entities))
    if len(drafts) < config.n:
        log.warning("only %d distinct drafts after %d attempts (asked for %d)", len(drafts), attempts, config.n)
    return list(drafts.values())


def to_task(draft: Draft, tolerance: float) -> Task:
    """The Task of a draft: answer to 4 significant digits, tolerance from the sources' spread (at least
    `tolerance`), evidence for every cited value, and its shape, operations, documents and entities."""
    from sciresearcher.synth.spread import answer_spread

    exact = draft.exact_answer()
    variables: dict[str, Any] = {name: {"value": value, "given": True} for name, value in draft.given.items()}
    for name, f in draft.facts.items():
        variables[name] = {"value": f.value, "unit": f.unit, "doc_id": f.doc.id, "sentence": f.sentence,
                           "prop": f.prop, "ref": f.ref}
    evidence = list({(f.doc.id, f.sentence): f.evidence() for f in draft.facts.values()}.values())
    spread = answer_spread(draft)
    tol = max(tolerance, math.ceil(2 * spread * 1000) / 1000) if spread else tolerance
    unit = f" ({draft.unit})" if draft.unit else ""
    return Task(
        id=draft.id, question=draft.question + (f" Give the answer in {draft.unit}." if draft.unit else ""),
        answer=f"{exact:.4g}", answer_type="numeric", tolerance=round(tol, 4), unit=draft.unit or None,
        category=draft.domain, evidence=evidence, difficulty=draft.difficulty,
        provenance=Provenance(
            pipeline="computational", seed_entity=draft.seed_entity, writer_model=WRITER,
            prompt_hash=hashlib.blake2b(draft.template.encode(), digest_size=6).hexdigest(),
            created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            extra={"template": draft.template}),
        metadata={"template": draft.template, "formula": draft.formula + unit, "variables": variables,
                  "solution": draft.solution(), "exact_answer": exact, "operations": draft.operations,
                  "expression": draft.formula,
                  "documents": draft.documents, "entities": list(draft.entities), "conversions": draft.conversions,
                  "state": draft.state, "source_spread": spread},
    )


FICTIONAL_SALT = 1_000_003  # the fictional tasks' drafting seed is the run's plus this, so they draw apart


def fictional_documents(config: SynthConfig) -> tuple[list[Document], list[Document]]:
    """The fictional elements and stock records of an offline run (synth/fictional.py); each only when tasks are
    asked about it."""
    from sciresearcher.synth.fictional import ID_FORMS, fictional_elements, fictional_stocks

    made_up = config.fictional
    ns = ID_FORMS[made_up.ids]
    return (fictional_elements(made_up.elements, config.seed, namespace=ns["element"]) if made_up.tasks else [],
            fictional_stocks(made_up.stocks, config.seed, namespace=ns["stock"]) if made_up.stock_tasks else [])


def _jobs(config: SynthConfig, writer: LLMClient | None) -> tuple[list[Document], list[tuple[str, str, Any]]]:
    """The documents to verify against, and (id, template, make) per candidate; `make()` gives a Task or a reason."""
    if writer is None and config.corpus:
        from sciresearcher.knowledge.evidence import EvidenceSelector
        from sciresearcher.knowledge.loaders import load_sources
        from sciresearcher.synth.paper_writer import paper_tasks

        papers = load_sources(config.corpus).documents
        selector = EvidenceSelector(use_dense=False)
        found = [t for d in random.Random(config.seed).sample(papers, len(papers))
                 for t in paper_tasks(d, selector, config.tolerance)][:config.n]

        def ready(task: Task) -> Any:
            async def make() -> Task | str:
                return task
            return make

        return papers, [(t.id, t.metadata["template"], ready(t)) for t in found]
    if writer is None:
        from sciresearcher.synth.fact_corpus import fact_documents

        docs = fact_documents()
        drafts = draft_tasks(config, docs)
        elements, stocks = fictional_documents(config)
        for made_up, n, template, salt in ((elements, config.fictional.tasks, "element_atoms", FICTIONAL_SALT),
                                           (stocks, config.fictional.stock_tasks, "serial_dilution",
                                            2 * FICTIONAL_SALT)):
            if made_up:
                drafts += draft_tasks(config.model_copy(update={"n": n, "templates": [template],
                                                                "seed": config.seed + salt}), made_up)
                docs = docs + made_up

        def offline(draft: Draft) -> Any:
            async def make() -> Task | str:
                return to_task(draft, config.tolerance)
            return make

        return docs, [(d.id, d.template, offline(d)) for d in drafts]
    from sciresearcher.errors import ConfigError
    from sciresearcher.knowledge.evidence import EvidenceSelector
    from sciresearcher.knowledge.loaders import load_sources
    from sciresearcher.synth.computational_llm import task_id_for, write_task

    if not config.corpus:
        raise ConfigError("the model writer needs papers", hint="pass --corpus '[\"papers.jsonl\"]' (files or folders)")
    docs = load_sources(config.corpus).documents
    picked = random.Random(config.seed).sample(docs, min(config.n, len(docs)))
    selector = EvidenceSelector(use_dense=False)

    def written(doc: Document) -> Any:
        async def make() -> Task | str:
            return await write_task(doc, writer, selector, config.min_values, config.tolerance)
        return make

    return docs, [(task_id_for(d), "llm", written(d)) for d in picked]


async def run_synthesis(config: SynthConfig, out: str | Path, *, solver: LLMClient | None = None,
                        writer: LLMClient | None = None, tools_factory: Any = None,
                        show_progress: bool = True) -> dict[str, Any]:
    """Writes (or resumes) a synthesis run into `out`; returns the summary written to summary.json."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from sciresearcher.llm import make_client
    from sciresearcher.llm.accounting import session_costs
    from sciresearcher.runs import RunDir, write_jsonl_atomic
    from sciresearcher.sandbox.pool import SandboxPool

    if writer is None and config.writer is not None:
        writer = make_client(config.writer.for_run(out, "writer"))  # batch ids kept in the run dir
    if solver is None and config.solver.llm is not None:
        solver = make_client(config.solver.llm.for_run(out, "solver"))
    docs, jobs = _jobs(config, writer)
    by_id = {d.id: d for d in docs}
    with RunDir(out, config) as run:
        run.attach_log()
        if solver is not None and tools_factory is None:
            tools_factory = solver_tools(config, docs, run.path)
        if writer is None and not config.corpus:
            write_jsonl_atomic(run.path / "facts.jsonl", docs)
            if made_up := [d for d in docs if d.metadata.get("fictional")]:  # the training index needs them
                write_jsonl_atomic(run.path / "fictional_documents.jsonl", made_up)
        with run.records("tasks") as kept, run.records("rejected") as rejected:
            done = kept.done_ids() | rejected.done_ids()
            todo = [j for j in jobs if j[0] not in done]
            log.info("%d candidates, %d to write and verify (%d done)", len(jobs), len(todo), len(jobs) - len(todo))
            sem = asyncio.Semaphore(config.solver.concurrency)
            if config.executor == "ray":
                from sciresearcher.synth.remote import verify_on_ray

                await verify_on_ray(todo, config, docs, kept, rejected, solver=solver, tools_factory=tools_factory)
                todo = []
            # a fresh session per candidate (verify.reference_solution), started ahead of demand; candidates are
            # verified `solver.concurrency` at a time and written in the order they were drawn, so the files do not
            # depend on which finished first (the split and everything after it read them in order)
            async with SandboxPool(config.sandbox, warm=min(max(4, config.solver.concurrency), len(todo))) as sandbox:
                with Progress(TextColumn("[bold]synth computational"), BarColumn(), MofNCompleteColumn(),
                              TextColumn("{task.fields[kept]}"), TimeElapsedColumn(),
                              disable=not show_progress) as progress:
                    bar = progress.add_task("verify", total=len(todo), kept="")
                    n_kept, n_written = 0, 0
                    finished: dict[int, tuple[str, str, Task | None, list[str]]] = {}

                    def write_in_order() -> None:
                        nonlocal n_kept, n_written
                        while n_written in finished:
                            job_id, template, task, failed = finished.pop(n_written)
                            if failed:
                                rejected.append({"id": job_id, "template": template, "reasons": failed,
                                                 "task": task.model_dump(mode="json") if task else None})
                            else:
                                kept.append(task)
                                n_kept += 1
                            n_written += 1
                            progress.update(bar, advance=1, kept=f"kept {n_kept}")

                    async def one(i: int, job_id: str, template: str, make: Any) -> None:
                        async with sem:
                            task = await make()
                            if isinstance(task, str):
                                failed = [task if task.startswith("declined:") else f"written: {task}"]
                                row_task = None
                            else:
                                row_task, failed = await verify_task(task, by_id, sandbox, config, solver,
                                                                     tools_factory)
                        finished[i] = (job_id, template, row_task, failed)
                        write_in_order()

                    await asyncio.gather(*(one(i, *j) for i, j in enumerate(todo)))
            summary = _summary(list(kept.latest().values()), list(rejected.latest().values()), solver is not None)
        summary["writer"] = getattr(writer, "model", None) or WRITER
        summary["session_cost"] = session_costs(writer=writer, solver=solver)  # cache/batch split
        run.write_json("summary.json", summary)
    return summary


def solver_tools(config: SynthConfig, docs: list[Document], run_path: Path) -> Any:
    """The solver's tools as the student will have them: search and read over an index of the documents the
    tasks cite (built as BM25 in the run directory when none is configured), and python."""
    from sciresearcher.agent.toolbox import make_tools_factory

    tools = config.solver.tools
    if {"search", "read"} & set(tools.enabled) and tools.knowledge.index is None:
        from sciresearcher.knowledge.index_build import build_index

        index_dir = run_path / "index"
        build_index(docs, index_dir, dense=False)  # a resumed run reuses it
        knowledge = tools.knowledge.model_copy(update={"index": index_dir, "mode": "bm25"})
        tools = tools.model_copy(update={"knowledge": knowledge})
    return make_tools_factory(tools)


def _summary(kept: list[dict[str, Any]], rejected: list[dict[str, Any]], voted: bool) -> dict[str, Any]:
    per_template: dict[str, dict[str, int]] = {}
    for row in kept:
        per_template.setdefault(row["metadata"]["template"], {"kept": 0, "rejected": 0})["kept"] += 1
    reasons: dict[str, int] = {}
    for row in rejected:
        per_template.setdefault(row["template"], {"kept": 0, "rejected": 0})["rejected"] += 1
        for reason in row["reasons"]:
            key = reason.split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
    declined = reasons.get("declined", 0)
    written = len(kept) + len(rejected) - declined - reasons.get("written", 0)
    yields = {"candidates": len(kept) + len(rejected), "declined": declined, "written": written,
              "verified": len(kept)}
    return {"kept": len(kept), "rejected": len(rejected), "yields": yields, "reasons": reasons,
            "per_template": per_template, "solver_vote": voted}
