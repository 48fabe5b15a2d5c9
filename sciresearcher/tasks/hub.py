"""Benchmarks from the Hugging Face Hub with `datasets`: HLE-Bio/Chem-Gold (gated) and SuperGPQA.

Only reached when no local file is given. The gated set needs a token from the environment (`HF_TOKEN` or
`HUGGING_FACE_HUB_TOKEN`) and an accepted access request; without one this raises ConfigError saying how
to get access, before any download. Revisions are pinned through `revision` (recorded in the run config;
pass a commit hash for exact reproducibility). Tests never reach this module (no network in tests): the
local-file loaders in `loaders.py` parse the same schemas.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from sciresearcher.errors import ConfigError, DataError

log = logging.getLogger(__name__)

HLE_GOLD_REPO = "futurehouse/hle-gold-bio-chem"
SUPERGPQA_REPO = "m-a-p/SuperGPQA"
DEFAULT_REVISION = "main"


def hf_token() -> str | None:
    return os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")


def _load(repo: str, revision: str | None, token: str | None, split: str = "train") -> Any:
    try:
        import datasets
    except ImportError as exc:
        raise ConfigError("loading from the Hub needs the `datasets` package",
                          hint="pip install 'sciresearcher[train]', or pass a local file") from exc
    try:
        return datasets.load_dataset(repo, split=split, revision=revision or DEFAULT_REVISION, token=token)
    except Exception as exc:
        raise DataError(f"could not load {repo}@{revision or DEFAULT_REVISION} from the Hub: {exc}",
                        hint="check the token's access, the revision, and the network; or pass a local file") from exc


def load_hle_gold(revision: str | None = None) -> Any:
    from sciresearcher.tasks.benchmark import Benchmark
    from sciresearcher.tasks.loaders import tasks_from_hle_rows

    token = hf_token()
    if not token:
        raise ConfigError(
            f"{HLE_GOLD_REPO} is a gated dataset and no Hugging Face token is set",
            hint=f"request access at https://huggingface.co/datasets/{HLE_GOLD_REPO} (log in, accept the terms), "
            "create a read token at https://huggingface.co/settings/tokens, then `export HF_TOKEN=hf_...`; "
            "or pass a local copy with --benchmark-file FILE (HLE schema or {id, query, gt, category, answer_type})",
        )
    ds = _load(HLE_GOLD_REPO, revision, token)
    rows = [dict(r) for r in ds]
    tasks = tasks_from_hle_rows(rows, "hle-bio-chem-gold", f"hf:{HLE_GOLD_REPO}")
    return Benchmark("hle-bio-chem-gold", tasks, f"hf:{HLE_GOLD_REPO}@{revision or DEFAULT_REVISION}", grader="judge")


def load_supergpqa_hard_bio(revision: str | None = None) -> Any:
    """SuperGPQA rows with field Biology and difficulty hard (options list + answer_letter)."""
    from sciresearcher.records import Provenance, Task
    from sciresearcher.tasks.benchmark import Benchmark

    ds = _load(SUPERGPQA_REPO, revision, hf_token())
    tasks = []
    for row in ds:
        if row.get("field") != "Biology" or row.get("difficulty") != "hard":
            continue
        tasks.append(Task(id=str(row["uuid"]), question=row["question"], answer=row["answer_letter"],
                          answer_type="multipleChoice", options=list(row["options"]),
                          category=f"{row.get('field')}/{row.get('subfield')}", difficulty="hard",
                          provenance=Provenance(pipeline="benchmark:supergpqa-hard-bio"), split="test"))
    return Benchmark("supergpqa-hard-bio", tasks, f"hf:{SUPERGPQA_REPO}@{revision or DEFAULT_REVISION}")
