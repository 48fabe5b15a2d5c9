"""What a pipeline stage is: its result (output paths and figures), the context it runs in, its declaration.

The stages themselves are `data_stages.py` (world to export) and `model_stages.py` (training, evaluation,
the report); their order is `stages.STAGES`; deciding which to run is `runner.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciresearcher.errors import ConfigError
from sciresearcher.pipeline.recipe import Recipe


@dataclass
class StageResult:
    outputs: dict[str, str]
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What a running stage can see: the recipe, its file, the pipeline directory and earlier stages' results."""

    recipe: Recipe
    recipe_path: Path
    root: Path
    results: dict[str, StageResult] = field(default_factory=dict)
    show_progress: bool = True

    def output(self, stage: str, name: str) -> Path:
        try:
            return Path(self.results[stage].outputs[name])
        except KeyError as exc:
            raise ConfigError(f"stage {stage!r} has no output {name!r} yet",
                              hint="run the earlier stages first (without --from)") from exc


@dataclass(frozen=True)
class Stage:
    name: str
    summary: str
    needs: tuple[str, ...]
    config: Callable[[Recipe], Any]
    run: Callable[[Context, Path], StageResult]
    outputs: tuple[str, ...]
    external: Callable[[Recipe, Path], list[Path]] = lambda recipe, base: []


def dump(model: Any) -> Any:
    """A config as it enters a stage key: the settings that differ from their defaults, so a release that adds a
    setting (defaulting to the old behaviour) keeps finished stages; changing a default bumps runner.FORMAT."""
    return model.model_dump(mode="json", exclude_defaults=True) if hasattr(model, "model_dump") else model


def write_tasks(path: Path, tasks: list[Any]) -> Path:
    from sciresearcher.runs import write_jsonl_atomic

    return write_jsonl_atomic(path, tasks)


def training_tools(ctx: Context, tools: Any, *, rl: bool = False) -> Any:
    """The recipe's tools over the TRAINING index (no evaluation item's documents in it); with `rl`, over GRPO's
    (the same documents and those of the rl split's own entities, which only GRPO sees), where the split made one."""
    split = ctx.results.get("split")
    name = "rl_index" if rl and split is not None and "rl_index" in split.outputs else "train_index"
    knowledge = tools.knowledge.model_copy(update={"index": ctx.output("split", name)})
    return tools.model_copy(update={"knowledge": knowledge})


def rounded(x: Any, digits: int = 3) -> Any:
    """A figure for the summary table."""
    return round(x, digits) if isinstance(x, float) else x


def set_cpu_math(recipe: Recipe, *, training: bool = True) -> str:
    """Sets the recipe's torch CPU threads and float32 matrix products for this process: `cpu_matmul` for a
    stage that trains, the default kernels for one that only generates (evaluation, rollouts: oneDNN is slower
    at decoding). Returns the products' mode in force (`ieee` where the CPU cannot do `bf16`)."""
    from sciresearcher.train.cpu_matmul import apply_cpu_matmul

    if recipe.threads:
        import torch

        torch.set_num_threads(recipe.threads)
    return apply_cpu_matmul(recipe.cpu_matmul if training else "ieee")


def cpu_math_key(recipe: Recipe) -> dict[str, Any]:
    """What a model stage's key adds for `cpu_matmul`: nothing at the default, so that runs made before the
    setting existed keep their keys."""
    return {"cpu_matmul": recipe.cpu_matmul} if recipe.cpu_matmul != "ieee" else {}
