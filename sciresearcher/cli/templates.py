"""Config templates for `config init` / `config show`, and the check that a template's placeholders were filled.

`default_config(Model)` is a command's config on its defaults, with every required key (e.g. the model and
dataset of `train sft`) set to the placeholder `"<required>"` so that the defaults always validate;
`template(Model)` writes it as YAML with each key's description as a comment above it (and the allowed values
of a choice), which loads back to `default_config(Model)`. `require_filled(config, source)` is what a command
calls before doing work: a key still holding the placeholder is a ConfigError naming it and what it wants.
"""

from __future__ import annotations

import textwrap
import types
import typing
from typing import Any, Literal

import yaml
from pydantic import BaseModel

from sciresearcher.errors import ConfigError

REQUIRED = "<required>"
_WIDTH = 100


def default_config(model: type[BaseModel]) -> BaseModel:
    """`model` on its defaults; required keys hold the `REQUIRED` placeholder."""
    return model.model_validate({name: REQUIRED for name, field in model.model_fields.items() if field.is_required()})


def unfilled(config: BaseModel, prefix: str = "") -> list[str]:
    """Dotted keys of `config` that still hold the placeholder."""
    keys = []
    for name in type(config).model_fields:
        value = getattr(config, name)
        if value == REQUIRED:
            keys.append(prefix + name)
        elif isinstance(value, BaseModel):
            keys += unfilled(value, f"{prefix}{name}.")
    return keys


def require_filled(config: BaseModel, source: object, overrides_hint: str = "") -> None:
    """ConfigError naming every key of `config` (read from `source`) that is still `"<required>"`."""
    keys = unfilled(config)
    if not keys:
        return
    fields = type(config).model_fields
    wants = "; ".join(f"{k}: {fields[k].description}" if k in fields and fields[k].description else k for k in keys)
    raise ConfigError(f"{source}: {', '.join(keys)} still {'hold' if len(keys) > 1 else 'holds'} the placeholder "
                      f"'{REQUIRED}' ({wants})",
                      hint=f"edit {source} and set {' and '.join(keys)}" + (f", or {overrides_hint}" if overrides_hint
                                                                           else ""))


def _choices(annotation: Any) -> list[Any]:
    """The allowed values of a Literal (also inside Optional / unions)."""
    if typing.get_origin(annotation) is Literal:
        return list(typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [v for arg in typing.get_args(annotation) for v in _choices(arg)]
    return []


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The config class a field holds (also `Model | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        return models[0] if len(models) == 1 else None
    return None


def _scalar(value: Any) -> str:
    """One-line YAML for a value (flow style for lists and mappings)."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**9, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _comment(text: str, indent: str) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), _WIDTH - len(indent) - 2, initial_indent=indent + "# ",
                         subsequent_indent=indent + "# ", break_on_hyphens=False)


def _lines(config: BaseModel, indent: str) -> list[str]:
    lines: list[str] = []
    for name, field in type(config).model_fields.items():
        value = getattr(config, name)
        notes = []
        if field.description:
            notes.append(field.description)
        nested = _nested_model(field.annotation)
        if nested is not None and not isinstance(value, BaseModel):
            doc = (nested.__doc__ or "").strip().split("\n\n")[0]
            notes.append("null, or a mapping" + (f" ({' '.join(doc.split()).rstrip('.')})" if doc else "")
                         + " with keys: " + ", ".join(nested.model_fields))
        choices = _choices(field.annotation)
        if choices and not all(str(c) in (field.description or "") for c in choices):
            notes.append("one of: " + " | ".join(_scalar(c) for c in choices))
        if field.is_required():
            notes.append("REQUIRED: replace the placeholder")
        for note in notes:
            lines += _comment(note, indent)
        if isinstance(value, BaseModel):
            inner = _lines(value, indent + "  ")
            lines += [f"{indent}{name}:", *inner] if inner else [f"{indent}{name}: {{}}"]
        else:
            lines.append(f"{indent}{name}: {_scalar(value)}")
    return lines


def template(model: type[BaseModel], usage: str = "") -> str:
    """Commented YAML of `model`'s defaults (required keys as placeholders); loads to `default_config(model)`.
    `usage` (e.g. "sciresearcher train sft FILE") says how the file is used."""
    head = [f"# {model.__name__}" + (f": use with `{usage}`" if usage else "")]
    doc = (model.__doc__ or "").strip()
    if doc:
        head += _comment(doc.split("\n\n")[0], "")
    if unfilled(default_config(model)):
        head.append(f"# Keys set to \"{REQUIRED}\" must be filled in before the command runs.")
    return "\n".join([*head, *_lines(default_config(model), "")]) + "\n"
