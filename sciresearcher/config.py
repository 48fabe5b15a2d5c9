"""Typed configs: YAML file, then dotted CLI overrides, validated by pydantic with helpful errors.

`load_config(Model, path, overrides)` reads an optional YAML file, applies overrides such as
`--llm.model Qwen/Qwen3-8B` or `llm.max_concurrency=8` (values parsed as YAML scalars), and validates.
Unknown keys are errors that name the key and suggest the closest valid one; a malformed file or a bad
value points at the key and, for files, the line. The resolved config dumps back to YAML that loads to
the same object, so a run directory's `config.yaml` can be fed back as input.

The per-command config classes live beside the code they configure (`AskConfig` in agent/, `EvalConfig` in
eval/, `SFTRunConfig` in train/...); all use `extra="forbid"`. The command line is cli/.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sciresearcher.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def _field_names(model: type[BaseModel], path: list[str]) -> list[str] | None:
    """Valid keys at `path` inside `model` (None when the path leaves typed models)."""
    current: Any = model
    for part in path:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = field.annotation
        # unwrap Optional[Model]
        args = getattr(current, "__args__", None)
        if args:
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            current = models[0] if len(models) == 1 else current
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return None


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the key at `loc` in a YAML document, when it is there."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        for key_node, value_node in node.value:
            if key_node.value == str(part):
                line, node = key_node.start_mark.line + 1, value_node
                break
        else:
            break
    return line


def parse_overrides(args: list[str]) -> dict[str, Any]:
    """`['--llm.model', 'x', 'agent.max_turns=8', '--flag']` -> nested dict (values YAML-parsed)."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") and "=" not in arg:
            raise ConfigError(f"unexpected argument '{arg}'", hint="overrides look like --section.key VALUE")
        key = arg.removeprefix("--")
        if "=" in key:
            key, raw = key.split("=", 1)
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            raw = args[i + 1]
            i += 1
        else:
            raw = "true"
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            value = raw
        if isinstance(value, (dict, list)) and not raw.strip().startswith(("{", "[")):
            value = raw
        node = out
        parts = key.replace("-", "_").split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override '{key}' conflicts with another override of '{part}'")
        node[parts[-1]] = value
        i += 1
    return out


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _drop_none(options: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in options.items():
        if isinstance(value, dict):
            value = _drop_none(value)
            if not value:
                continue
        if value is not None:
            out[key] = value
    return out


def _explain(model: type[BaseModel], exc: ValidationError, source: str, text: str | None) -> ConfigError:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        dotted = ".".join(str(p) for p in loc)
        where = source
        if text is not None:
            line = _line_of(text, loc)
            if line:
                where = f"{source}:{line}"
        if err["type"] == "extra_forbidden":
            valid = _field_names(model, [str(p) for p in loc[:-1]]) or []
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
            suggestion = f"; did you mean '{'.'.join([*map(str, loc[:-1]), close[0]])}'?" if close else ""
            lines.append(f"{where}: unknown key '{dotted}'{suggestion} (valid here: {', '.join(valid)})")
        else:
            lines.append(f"{where}: {dotted}: {err['msg']} (got {err.get('input')!r})")
    return ConfigError("invalid config:\n  " + "\n  ".join(lines))


def load_config(model: type[M], path: str | Path | None = None, overrides: list[str] | dict[str, Any] | None = None,
                options: dict[str, Any] | None = None) -> M:
    """Builds `model` from a YAML file (optional), then dotted overrides, then `options` (a command's named
    options, already nested; None values are skipped); raises ConfigError explaining any problem."""
    data: dict[str, Any] = {}
    text: str | None = None
    source = "<defaults>"
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist",
                              hint="`sciresearcher config init COMMAND --out FILE` writes a commented template")
        text, source = path.read_text(), str(path)
        try:
            loaded = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            line = f":{mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"{path}{line}: malformed YAML: {exc.problem}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of keys, got {type(loaded).__name__}")
        data = loaded or {}
    extra = parse_overrides(overrides) if isinstance(overrides, list) else dict(overrides or {})
    extra = _merge(extra, _drop_none(options or {}))
    if extra:
        data = _merge(data, extra)
        if text is not None:
            text = None  # line numbers would no longer match after overrides
            source = f"{source} + overrides"
        else:
            source = "overrides"
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _explain(model, exc, source, text) from None


def dump_config(config: BaseModel) -> str:
    """YAML for a resolved config; `load_config` of it gives an equal object."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
