"""Typed configs: YAML file, then dotted CLI overrides, validated by pydantic with helpful errors.

`load_config(Model, path, overrides)` reads an optional YAML file, applies overrides such as
`--llm.model Qwen/Qwen3-8B` or `llm.max_concurrency=8` (values parsed as YAML scalars), and validates.
Unknown keys are errors that name the key and suggest the closest valid one; a malformed file or a bad
value points at the key and, for files, the line. The resolved config dumps back to YAML that loads to
the same object, so a run directory's `config.yaml` can be fed back as input.

Hostile input stays cheap: `load_yaml` refuses files over `MAX_YAML_BYTES`, nesting deeper than Python can
read, and aliases that expand to more than `MAX_YAML_NODES` values (a "billion laughs" bomb is refused
while composing, before anything is built); an error echoes a value cut to `short(value)`, never whole.

The per-command config classes live beside the code they configure (`AskConfig` in agent/, `EvalConfig` in
eval/, `SFTRunConfig` in train/...); all use `extra="forbid"`. The command line is cli/.
"""

from __future__ import annotations

import difflib
import reprlib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sciresearcher.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
MAX_YAML_BYTES = 10 << 20
MAX_YAML_NODES = 100_000
_short = reprlib.Repr()
_short.maxstring = _short.maxother = 120
_short.maxlist = _short.maxtuple = _short.maxdict = _short.maxset = 6
_short.maxlevel = 3


def short(value: Any) -> str:
    """repr(value), bounded in size and time whatever `value` is (shared or huge structures included)."""
    return _short.repr(value)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """How many values the node graph expands to when aliases are copied out (stops past `limit`)."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            if size[key] > limit:
                return size[key]
        elif key not in size:
            if key in on_path:
                raise ValueError("a recursive alias (a value that contains itself)")
            on_path.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in _children(node) if id(c) not in size)
    return size[id(root)]


def load_yaml(text: str, source: str = "<yaml>") -> Any:
    """yaml.safe_load with the limits of the module docstring; ConfigError naming `source` otherwise."""
    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(f"{source}: {len(text)} bytes of YAML (at most {MAX_YAML_BYTES} are read)")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            n = _expanded_size(node, MAX_YAML_NODES)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        if n > MAX_YAML_NODES:
            raise ConfigError(f"{source}: YAML aliases expand to more than {MAX_YAML_NODES} values",
                              hint="write the values out, or use fewer nested aliases")
        return loader.construct_document(node)
    except RecursionError:
        raise ConfigError(f"{source}: YAML nested too deeply to read") from None
    finally:
        loader.dispose()


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
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
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
            value = load_yaml(raw, f"override '{key}'") if raw != "" else ""
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
            lines.append(f"{where}: unknown key '{dotted[:200]}'{suggestion} (valid here: {', '.join(valid)})")
        else:
            lines.append(f"{where}: {dotted[:200]}: {err['msg'][:300]} (got {short(err.get('input'))})")
        if len(lines) == 20 and len(exc.errors()) > 20:
            lines.append(f"... and {len(exc.errors()) - 20} more")
            break
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
        if path.stat().st_size > MAX_YAML_BYTES:
            raise ConfigError(f"{path}: {path.stat().st_size} bytes (a config file has at most {MAX_YAML_BYTES})")
        text, source = path.read_text(), str(path)
        try:
            loaded = load_yaml(text, source)
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
