"""Benchmark names: which loader and which file each name means, and `load_benchmark(name_or_file)`.

Known: HLE-Bio/Chem-Gold, SuperGPQA hard biology, TRQA-lit, GPQA-Diamond, PubMedQA, SciBench, LitQA2 and
SciFact claims, plus any local file of tasks. A name takes its file as `NAME=FILE` or a separate path, and
the file must be that benchmark's (layouts.check_named). Files at hand in the shared data folder are used by
default; gated or online sets come from the Hub (`hub.py`). `BENCHMARK_PAGES` are the benchmarks' own web pages,
blocked from search and read wherever a policy is rolled out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sciresearcher.errors import ConfigError, DataError
from sciresearcher.tasks.benchmark import Benchmark, shared_data_dir
from sciresearcher.tasks.loaders import file_layout, load_file

log = logging.getLogger(__name__)

# Pages that hold the benchmarks' questions and answers: refused by search/read during rollouts and evaluation.
BENCHMARK_PAGES = [
    r"huggingface\.co/datasets/(futurehouse|m-a-p|idavidrein|cais|qiaojin|allenai/scifact|xw27)",
    r"lastexam\.ai", r"agi\.safe\.ai",
    (r"github\.com/(centerforaisafety/hle|supergpqa|idavidrein/gpqa|future-house/lab-bench|mandyyyyii/scibench"
     r"|pubmedqa/pubmedqa|allenai/scifact)"),
]

Loader = Callable[[Path | None, dict[str, Any]], Benchmark]
JUDGED_LAYOUTS = ("hle", "query-free")  # free-form answers: the HLE judge by default, as for HLE
FILE_HINT = "pass its file: --benchmark {name} --benchmark-file FILE, or --benchmark {name}=FILE"


def _local(name: str, default: str | None, **kw: Any) -> Loader:
    """A benchmark read from a local file (the shared data folder's by default); the file's layout must be
    one of the benchmark's (layouts.check_named)."""
    def load(path: Path | None, opts: dict[str, Any]) -> Benchmark:
        target = path or (shared_data_dir() / default if default else None)
        if target is None or not target.is_file():
            raise DataError(f"benchmark '{name}' needs a local file" + (f"; {target} does not exist" if target else ""),
                            hint=FILE_HINT.format(name=name))
        return Benchmark(name, load_file(target, name), str(target), **kw)
    return load


def _hle(path: Path | None, opts: dict[str, Any]) -> Benchmark:
    if path is not None:
        return _local("hle-bio-chem-gold", None, grader="judge")(path, opts)
    from sciresearcher.tasks.hub import load_hle_gold

    return load_hle_gold(opts.get("revision"))


def _supergpqa(path: Path | None, opts: dict[str, Any]) -> Benchmark:
    target = path or shared_data_dir() / "eval" / "supergpqa_hard_bio.jsonl"
    if path is None and not target.is_file() and opts.get("hub"):
        from sciresearcher.tasks.hub import load_supergpqa_hard_bio

        return load_supergpqa_hard_bio(opts.get("revision"))
    return _local("supergpqa-hard-bio", None)(target, opts)


BENCHMARKS: dict[str, tuple[Loader, str]] = {
    "hle-bio-chem-gold": (_hle, "HLE-Bio/Chem-Gold (HF futurehouse/hle-gold-bio-chem, gated; or a local file)"),
    "supergpqa-hard-bio": (_supergpqa, "SuperGPQA hard biology, 92 items (local file, or HF m-a-p/SuperGPQA)"),
    "trqa-lit": (_local("trqa-lit", None), "TRQA-lit, multi-select ({id, query, gt} JSON/JSONL, or CSV data_id,question,answer)"),
    "gpqa-diamond": (_local("gpqa-diamond", None, shuffle_options=True), "GPQA-Diamond CSV"),
    "pubmedqa": (_local("pubmedqa", "eval/pubmedqa_dev.jsonl"), "PubMedQA yes/no/maybe (JSONL, or ori_pqal.json)"),
    "scibench": (_local("scibench", "eval/scibench_chem.jsonl"), "SciBench chemistry, numeric"),
    "litqa2": (_local("litqa2", None, shuffle_options=True), "LitQA2 with 'insufficient information'"),
    "scifact": (_local("scifact", "eval/scifact_claims_train.jsonl"), "SciFact claim verification"),
}
ALIASES = {"hle": "hle-bio-chem-gold", "supergpqa": "supergpqa-hard-bio", "trqa": "trqa-lit", "gpqa": "gpqa-diamond",
           "scifact-claims": "scifact"}


def benchmark_name(name: str) -> str | None:
    """The registered name for a name or alias (any case), or None."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    return key if key in BENCHMARKS else None


def split_name_file(spec: str | Path, path: str | Path | None = None) -> tuple[str, str | Path | None]:
    """'NAME=FILE' -> (NAME, FILE) when NAME is a known benchmark; anything else comes back as given.

    A FILE given both ways is a ConfigError (which one was meant is not clear)."""
    text = str(spec)
    name, sep, file = text.partition("=")
    if not sep or benchmark_name(name) is None or Path(text).is_file():
        return text, path
    if path is not None and str(path) != file:
        raise ConfigError(f"benchmark {text!r} names a file and --benchmark-file {path} names another",
                          hint="give the file once: NAME=FILE, or --benchmark NAME --benchmark-file FILE")
    return name, file


def load_benchmark(name_or_file: str | Path, *, path: str | Path | None = None, limit: int | None = None,
                   **opts: Any) -> Benchmark:
    """Loads a named benchmark (from `path`, or `NAME=FILE`, or its default source) or any local file.

    A file given under a name must be that benchmark's (a DataError says what it looks like otherwise); a
    file given alone is read by its layout, and one with free-form answers (HLE) defaults to the judge. Logs the counts."""
    key, path = split_name_file(name_or_file, path)
    name = benchmark_name(key)
    if name is not None:
        bench = BENCHMARKS[name][0](Path(path) if path else None, opts)
    elif Path(key).is_file():
        if path is not None:
            raise ConfigError(f"--benchmark-file {path} is given with a file, not a benchmark name ({key})",
                              hint="name the benchmark (--benchmark trqa-lit --benchmark-file FILE), or give the file alone")
        tasks = load_file(Path(key))
        bench = Benchmark(Path(key).stem, tasks, key, grader="judge" if file_layout(Path(key)) in JUDGED_LAYOUTS else "rules",
                          shuffle_options=any(t.metadata.get("shuffle") for t in tasks))
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
