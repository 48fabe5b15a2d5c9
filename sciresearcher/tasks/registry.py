"""Benchmark names: which loader and which file each name means, and `load_benchmark(name_or_file)`.

Known: HLE-Bio/Chem-Gold, SuperGPQA hard biology, TRQA-lit, GPQA-Diamond, PubMedQA, SciBench, LitQA2 and
SciFact claims, plus any local file of tasks. Files at hand in the shared data folder are used by default;
gated or online sets come from the Hub (`hub.py`). `BENCHMARK_PAGES` are the benchmarks' own web pages,
blocked from search and read wherever a policy is rolled out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sciresearcher.errors import ConfigError, DataError
from sciresearcher.records import Task
from sciresearcher.tasks.benchmark import Benchmark, shared_data_dir
from sciresearcher.tasks.loaders import (
    load_file,
    load_gpqa,
    load_litqa2,
    load_pubmedqa,
    load_scibench,
    load_scifact,
    load_trqa,
)

log = logging.getLogger(__name__)

# Pages that hold the benchmarks' questions and answers: refused by search/read during rollouts and evaluation.
BENCHMARK_PAGES = [
    r"huggingface\.co/datasets/(futurehouse|m-a-p|idavidrein|cais|qiaojin|allenai/scifact|xw27)",
    r"lastexam\.ai", r"agi\.safe\.ai",
    (r"github\.com/(centerforaisafety/hle|supergpqa|idavidrein/gpqa|future-house/lab-bench|mandyyyyii/scibench"
     r"|pubmedqa/pubmedqa|allenai/scifact)"),
]

Loader = Callable[[Path | None, dict[str, Any]], Benchmark]


def _local(name: str, default: str | None, fn: Callable[[Path], list[Task]], **kw: Any) -> Loader:
    def load(path: Path | None, opts: dict[str, Any]) -> Benchmark:
        target = path or (shared_data_dir() / default if default else None)
        if target is None or not target.is_file():
            raise DataError(f"benchmark '{name}' needs a local file" + (f"; {target} does not exist" if target else ""),
                            hint="pass its path with --benchmark-file FILE (see `sciresearcher eval run --help`)")
        return Benchmark(name, fn(target), str(target), **kw)
    return load


def _hle(path: Path | None, opts: dict[str, Any]) -> Benchmark:
    if path is not None:
        return Benchmark("hle-bio-chem-gold", load_file(path, "hle-bio-chem-gold"), str(path), grader="judge")
    from sciresearcher.tasks.hub import load_hle_gold

    return load_hle_gold(opts.get("revision"))


def _supergpqa(path: Path | None, opts: dict[str, Any]) -> Benchmark:
    target = path or shared_data_dir() / "eval" / "supergpqa_hard_bio.jsonl"
    if path is None and not target.is_file() and opts.get("hub"):
        from sciresearcher.tasks.hub import load_supergpqa_hard_bio

        return load_supergpqa_hard_bio(opts.get("revision"))
    return _local("supergpqa-hard-bio", None, lambda p: load_file(p, "supergpqa-hard-bio"))(target, opts)


BENCHMARKS: dict[str, tuple[Loader, str]] = {
    "hle-bio-chem-gold": (_hle, "HLE-Bio/Chem-Gold (HF futurehouse/hle-gold-bio-chem, gated; or a local file)"),
    "supergpqa-hard-bio": (_supergpqa, "SuperGPQA hard biology, 92 items (local file, or HF m-a-p/SuperGPQA)"),
    "trqa-lit": (_local("trqa-lit", None, load_trqa), "TRQA-lit, multi-select (CSV data_id,question,answer)"),
    "gpqa-diamond": (_local("gpqa-diamond", None, load_gpqa, shuffle_options=True), "GPQA-Diamond CSV"),
    "pubmedqa": (_local("pubmedqa", "eval/pubmedqa_dev.jsonl", load_pubmedqa), "PubMedQA yes/no/maybe"),
    "scibench": (_local("scibench", "eval/scibench_chem.jsonl", load_scibench), "SciBench chemistry, numeric"),
    "litqa2": (_local("litqa2", None, load_litqa2, shuffle_options=True), "LitQA2 with 'insufficient information'"),
    "scifact": (_local("scifact", "eval/scifact_claims_train.jsonl", load_scifact), "SciFact claim verification"),
}
ALIASES = {"hle": "hle-bio-chem-gold", "supergpqa": "supergpqa-hard-bio", "trqa": "trqa-lit", "gpqa": "gpqa-diamond",
           "scifact-claims": "scifact"}


def load_benchmark(name_or_file: str | Path, *, path: str | Path | None = None, limit: int | None = None,
                   **opts: Any) -> Benchmark:
    """Loads a named benchmark (optionally from `path`) or any local file; logs its counts."""
    key = str(name_or_file)
    name = ALIASES.get(key.lower(), key.lower())
    if name in BENCHMARKS:
        bench = BENCHMARKS[name][0](Path(path) if path else None, opts)
    elif Path(key).is_file():
        tasks = load_file(Path(key))
        bench = Benchmark(Path(key).stem, tasks, key, shuffle_options=any(t.metadata.get("shuffle") for t in tasks))
    else:
        known = "\n".join(f"  {n}: {desc}" for n, (_, desc) in BENCHMARKS.items())
        raise ConfigError(f"unknown benchmark '{key}' (and no such file)",
                          hint=f"known benchmarks:\n{known}\nor pass a JSONL/JSON/CSV file of tasks")
    if not bench.tasks:
        raise DataError(f"benchmark '{bench.name}' from {bench.source} has no tasks")
    if limit is not None:
        bench.tasks = bench.tasks[:limit]
    log.info("loaded %s: %s", bench.name, bench.counts())
    return bench
