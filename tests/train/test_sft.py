"""Tiny-model SFT end to end: a few steps, run-directory artefacts, resume, the CLI and bad-input errors."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from sciresearcher.cli.train import train_app
from sciresearcher.errors import ConfigError, RunError, TrainingError
from sciresearcher.train.sft import SFTRunConfig, run_sft


def _config(tiny_model_dir, sft_jsonl, out, **kw) -> SFTRunConfig:
    base = dict(model=str(tiny_model_dir), dataset=str(sft_jsonl), output_dir=str(out), max_length=1024,  # noqa: C408
                max_steps=3, learning_rate=1e-3, per_device_train_batch_size=2, gradient_accumulation_steps=1,
                logging_steps=1, save_steps=2, use_cpu=True)
    return SFTRunConfig(**{**base, **kw})


def test_sft_trains_writes_artefacts_and_resumes(tiny_model_dir, sft_jsonl, tmp_path):
    out = tmp_path / "run"
    config = _config(tiny_model_dir, sft_jsonl, out)
    summary = run_sft(config)
    assert summary["global_step"] == 3
    assert summary["last_loss"] < summary["first_loss"]
    for name in ("config.yaml", "loss.png", "summary.json", "final/config.json", "final/tokenizer_config.json",
                 "checkpoint-2", "checkpoint-3"):
        assert (out / name).exists(), name
    assert yaml.safe_load((out / "config.yaml").read_text())["max_steps"] == 3
    assert json.loads((out / "summary.json").read_text())["kind"] == "sft"
    runtime = [h["train_runtime"] for h in summary["log_history"] if "train_runtime" in h][-1]
    assert summary["seconds_per_step"] == pytest.approx(runtime / 3)  # the machine's pace: the run's time per step

    # same config again: the last checkpoint already reached max_steps, nothing to do
    assert run_sft(config)["global_step"] == 3
    # interrupted after checkpoint-2: the rerun resumes there and trains step 3 only
    shutil.rmtree(out / "checkpoint-3")
    (out / "summary.json").unlink()
    again = run_sft(config)
    assert again["global_step"] == 3
    assert [h["step"] for h in again["log_history"] if "loss" in h] == [1, 2, 3]
    runtime = [h["train_runtime"] for h in again["log_history"] if "train_runtime" in h][-1]
    assert again["seconds_per_step"] == pytest.approx(runtime / 1)  # the resumed run took one step, not three
    # another config in the same directory is refused, naming the difference
    with pytest.raises(RunError, match="max_steps"):
        run_sft(_config(tiny_model_dir, sft_jsonl, out, max_steps=5))


def test_short_run_logs_first_and_last_loss_whatever_logging_steps(tiny_model_dir, sft_jsonl, tmp_path):
    out = tmp_path / "short"
    summary = run_sft(_config(tiny_model_dir, sft_jsonl, out, max_steps=3, logging_steps=10, save_steps=100))
    assert summary["global_step"] == 3
    assert [h["step"] for h in summary["log_history"] if "loss" in h] == [1, 3]
    assert summary["first_loss"] is not None and summary["last_loss"] is not None
    assert (out / "loss.png").stat().st_size > 0 and summary["loss_png"] == str(out / "loss.png")
    # run.log records the start, the resolved config, each logged step and the end
    text = (out / "run.log").read_text()
    for needle in ("run started in", "config.yaml", "SFT rows from", "step 1/3: loss", "step 3/3: loss",
                   "wrote summary.json", "run ended after"):
        assert needle in text, needle


def test_sft_lora(tiny_model_dir, sft_jsonl, tmp_path):
    config = _config(tiny_model_dir, sft_jsonl, tmp_path / "lora", max_steps=1, save_steps=100,
                     lora={"enabled": True, "r": 4, "alpha": 8})
    summary = run_sft(config)
    assert summary["global_step"] == 1
    assert (tmp_path / "lora" / "final" / "adapter_config.json").is_file()


def test_bad_inputs_are_clear(tiny_model_dir, sft_jsonl, tmp_path):
    with pytest.raises(ConfigError, match="not a model directory"):
        run_sft(_config(tmp_path / "nowhere", sft_jsonl, tmp_path / "a"))
    with pytest.raises(TrainingError, match="over max_length=64"):
        run_sft(_config(tiny_model_dir, sft_jsonl, tmp_path / "b", max_length=64))
    with pytest.raises(Exception, match="extra"):
        SFTRunConfig(model="m", dataset="d", learning_rat=1.0)


def test_cli_with_overrides(tiny_model_dir, sft_jsonl, tmp_path):
    cfg = tmp_path / "sft.yaml"
    out = tmp_path / "cli-run"
    cfg.write_text(yaml.safe_dump({"model": str(tiny_model_dir), "dataset": str(sft_jsonl), "output_dir": str(out),
                                   "max_length": 1024, "per_device_train_batch_size": 2, "use_cpu": True,
                                   "gradient_accumulation_steps": 1, "logging_steps": 1}))
    result = CliRunner().invoke(train_app, ["sft", str(cfg), "--max_steps", "1", "--save_steps", "100"])
    assert result.exit_code == 0, result.output
    assert "step 1" in result.output
    assert yaml.safe_load((out / "config.yaml").read_text())["max_steps"] == 1


def test_accelerate_config_command():
    result = CliRunner().invoke(train_app, ["accelerate-config", "fsdp"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("fsdp.yaml")
    bad = CliRunner().invoke(train_app, ["accelerate-config", "nope"])
    assert bad.exit_code != 0


def test_sft_refuses_a_divergent_sequence_row_and_trains_its_exact_turns(tiny_model_dir, tmp_path):
    from train_helpers import python_gold_row

    from sciresearcher.train.token_check import turn_rows

    row = python_gold_row(reasoning=None)  # one sequence is not token-exact under Qwen3's template
    seq = tmp_path / "seq.jsonl"
    seq.write_text(json.dumps(row) + "\n")
    base = {"model": str(tiny_model_dir), "max_length": 1024, "max_steps": 2, "gradient_accumulation_steps": 1,
                "logging_steps": 1, "save_steps": 1000, "use_cpu": True, "resume": False}
    with pytest.raises(TrainingError, match="differ from the prompt the policy saw"):
        run_sft(SFTRunConfig(dataset=str(seq), output_dir=str(tmp_path / "a"), **base))
    turns = tmp_path / "turns.jsonl"
    turns.write_text("".join(json.dumps(r) + "\n" for r in turn_rows(row)))
    summary = run_sft(SFTRunConfig(dataset=str(turns), output_dir=str(tmp_path / "b"), **base))
    assert summary["global_step"] == 2 and summary["first_loss"] is not None


def test_a_training_runs_step_logs_go_to_its_own_logger(caplog):
    from types import SimpleNamespace

    from sciresearcher.train.sft import step_logger

    state = SimpleNamespace(global_step=3, max_steps=8)
    with caplog.at_level("INFO", logger="sciresearcher"):
        step_logger("grpo").on_log(None, state, None, logs={"loss": 0.5, "note": "x"})
    assert [(r.name, r.getMessage()) for r in caplog.records] == [("sciresearcher.train.grpo", "step 3/8: loss 0.5")]
