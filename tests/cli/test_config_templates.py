"""`config init CMD` writes a commented template for every command that loads back to the defaults, with required
keys as placeholders that `train` refuses until they are filled; `config show` works for every command."""

from __future__ import annotations

import importlib

import pytest
import yaml
from typer.testing import CliRunner

from sciresearcher.cli import app
from sciresearcher.cli.app import CONFIGS
from sciresearcher.cli.templates import REQUIRED, default_config, template, unfilled
from sciresearcher.config import load_config
from sciresearcher.errors import ConfigError


def _model(command: str):
    module, name = CONFIGS[command].split(":")
    return getattr(importlib.import_module(module), name)


def _run(*args: str):
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.mark.parametrize("command", sorted(CONFIGS))
def test_config_init_round_trips_for_every_command(command, tmp_path):
    out = tmp_path / f"{command}.yaml"
    result = _run("config", "init", command, "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    model = _model(command)
    loaded = load_config(model, out)
    assert loaded == default_config(model)
    # equal to the class defaults except the placeholders
    placeholders = unfilled(loaded)
    assert all(loaded.model_dump()[k] == REQUIRED for k in placeholders if "." not in k)
    assert placeholders == [n for n, f in model.model_fields.items() if f.is_required()]
    # every described field's description is there as a comment, above its key
    comments = " ".join(line.strip().lstrip("# ") for line in text.splitlines() if line.lstrip().startswith("#"))
    for name, field in model.model_fields.items():
        if field.description:
            assert " ".join(field.description.split())[:40] in comments, name
        assert f"\n{name}:" in "\n" + text
    # `config show` prints the same values (plain YAML), with and without the file
    shown = _run("config", "show", command, "--config", str(out))
    assert shown.exit_code == 0 and yaml.safe_load(shown.stdout) == yaml.safe_load(text)
    assert yaml.safe_load(_run("config", "show", command).stdout) == yaml.safe_load(text)


def test_required_keys_are_placeholders_that_train_refuses(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in ("sft", "grpo"):
        assert _run("config", "init", command).exit_code == 0
        text = (tmp_path / f"{command}.yaml").read_text()
        assert f"model: {REQUIRED}" in text and f"dataset: {REQUIRED}" in text and "REQUIRED" in text
        with pytest.raises(ConfigError) as info:
            _run("train", command, f"{command}.yaml")
        assert "model, dataset still hold the placeholder" in str(info.value)
        assert "--model DIR --dataset FILE" in str(info.value)
        # one key filled by an override: the other is still named
        with pytest.raises(ConfigError, match="dataset still holds the placeholder"):
            _run("train", command, f"{command}.yaml", "--model", "somewhere")


def test_missing_config_file_hint_names_the_command(tmp_path):
    with pytest.raises(ConfigError) as info:
        _run("train", "sft", str(tmp_path / "missing.yaml"))
    assert "config init sft" in str(info.value)
    with pytest.raises(ConfigError) as info:
        _run("data", "filter", str(tmp_path), "--out", str(tmp_path / "o"), "--config", str(tmp_path / "f.yaml"))
    assert "config init filter" in str(info.value)


def test_unknown_command_suggests_the_closest(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'sft'"):
        _run("config", "init", "sf", "--out", str(tmp_path / "x.yaml"))


def test_template_comments_choices_and_optional_sections():
    from sciresearcher.synth.config import ConceptualConfig
    from sciresearcher.train.sft import SFTRunConfig

    sft = template(SFTRunConfig)
    assert "# one of: error | drop\noverlong: error" in sft
    conceptual = template(ConceptualConfig)
    assert "# null, or a mapping with keys: backend, model" in conceptual
