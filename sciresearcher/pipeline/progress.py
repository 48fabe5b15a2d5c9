"""The pipeline's progress bar for a training stage: one line with the step, the loss or reward, the time.

`training_progress(label, show)` returns a transformers `TrainerCallback` that draws a rich progress bar instead
of the trainer's own tqdm bar and printed log dicts (`train.sft.attach_callbacks`), so SFT and GRPO show up in
the pipeline's display like every other stage. `step_progress(label, total, show)` is the same bar for a loop of
our own (copy pretraining): a context manager yielding `update(step, metric)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def training_progress(label: str, show: bool = True) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from transformers import TrainerCallback

    class _Progress(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.progress: Progress | None = None
            self.bar: Any = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if not state.is_world_process_zero:
                return
            self.progress = Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[metric]}"), TimeElapsedColumn(), disable=not show)
            self.progress.start()
            self.bar = self.progress.add_task(label, total=state.max_steps, completed=state.global_step, metric="")

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if self.progress is not None:
                self.progress.update(self.bar, completed=state.global_step)

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
            if self.progress is None or not logs:
                return
            shown = [f"{k} {float(logs[k]):.3f}" for k in ("loss", "reward") if k in logs]
            if shown:
                self.progress.update(self.bar, metric=" · ".join(shown))

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if self.progress is not None:
                self.progress.stop()
                self.progress = None

    return _Progress()


@contextmanager
def step_progress(label: str, total: int, show: bool = True) -> Iterator[Callable[[int, str], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[metric]}"),
                  TimeElapsedColumn(), disable=not show) as progress:
        bar = progress.add_task(label, total=total, metric="")

        def update(step: int, metric: str) -> None:
            progress.update(bar, completed=step, metric=metric)

        yield update
