"""Fixtures for training tests: SFT rows built from real Trajectory records (a two-tool research episode)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from train_helpers import make_trajectory, python_gold_row


def _import_trl_without_test_dirs_named_vllm() -> None:
    """tests/vllm (another area's test folder) on sys.path looks like a `vllm` package to TRL, whose version
    check then fails ("Invalid version: 'N/A'"). Import TRL's GRPO module once with such folders hidden."""
    import importlib.util
    import sys

    try:
        spec = importlib.util.find_spec("vllm")
    except (ImportError, ValueError):
        return
    if spec is None or spec.origin is not None:  # absent, or a real vllm install
        return
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if not (Path(p or ".") / "vllm").is_dir()]
    sys.modules.pop("vllm", None)
    try:
        import trl.trainer.grpo_trainer  # noqa: F401
    except ImportError:
        pass
    finally:
        sys.path[:] = saved


_import_trl_without_test_dirs_named_vllm()


@pytest.fixture
def sft_rows() -> list[dict[str, Any]]:
    from sciresearcher.train.rows import trajectory_to_sft_row

    return [trajectory_to_sft_row(make_trajectory(i)) for i in range(4)]


@pytest.fixture
def sft_jsonl(tmp_path: Path, sft_rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in sft_rows))
    return path


@pytest.fixture
def tiny_tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Any:
    """One torch thread: on a small shared CPU, more threads make tiny-model steps several times slower."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def python_agent_model(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model after SFT on one python-tool trajectory until it replays it (about 20 s on one core).

    It calls `python` with `print(6 * 7)` and answers from the tool's output, so GRPO rollouts really go
    through the sandbox, the tool loop and the grader.
    """
    import torch

    from sciresearcher.train.sft import SFTRunConfig, run_sft

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("python-agent")
        rows = out / "rows.jsonl"
        rows.write_text(json.dumps(python_gold_row()) + "\n")  # with reasoning: token-exact as one sequence
        run_sft(SFTRunConfig(model=str(tiny_model_dir), dataset=str(rows), output_dir=str(out / "run"),
                             max_length=1024, max_steps=80, learning_rate=3e-3, warmup_ratio=0.0,
                             lr_scheduler_type="constant", per_device_train_batch_size=1,
                             gradient_accumulation_steps=1, logging_steps=10, save_steps=1000, use_cpu=True))
    finally:
        torch.set_num_threads(threads)
    return out / "run" / "final"
