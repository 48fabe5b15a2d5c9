"""The `sciresearcher` command: one subcommand per arrow of the data flow (docs/architecture.md).

This module only mounts the command groups of cli/ (each calls library functions, never another command),
and heavy imports (torch, transformers, faiss) happen inside the command functions, so `--help` is instant.
Errors that cross a boundary on purpose (`SciResearcherError`) are printed as one clear message on stderr
with a non-zero exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from sciresearcher.cli.ask import ask_command
from sciresearcher.cli.data import data_app
from sciresearcher.cli.eval import eval_app, report_command
from sciresearcher.cli.knowledge import index_app, read_command, search_command
from sciresearcher.cli.pipeline import pipeline_command
from sciresearcher.cli.sandbox import sandbox_app
from sciresearcher.cli.synth import synth_app
from sciresearcher.cli.train import train_app
from sciresearcher.errors import ConfigError, SciResearcherError

err_console = Console(stderr=True)

app = typer.Typer(
    name="sciresearcher",
    help="Deep-research agents for biology and chemistry: index, synthesize, roll out, train, evaluate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Show or write the default config of a command.", no_args_is_help=True)

# command name -> "module:Class" of its typed config (imported lazily)
CONFIGS: dict[str, str] = {
    "ask": "sciresearcher.agent.ask_config:AskConfig",
    "eval": "sciresearcher.eval.config:EvalConfig",
    "rollout": "sciresearcher.rollout.config:RolloutConfig",
    "sft": "sciresearcher.train.sft:SFTRunConfig",
    "grpo": "sciresearcher.train.grpo:GRPORunConfig",
    "sandbox": "sciresearcher.sandbox.config:SandboxConfig",
    "knowledge": "sciresearcher.knowledge.config:KnowledgeConfig",
    "clean": "sciresearcher.data.config:ScreenConfig",
    "filter": "sciresearcher.data.config:FilterConfig",
    "export": "sciresearcher.data.config:ExportConfig",
    "synth": "sciresearcher.synth.config:SynthConfig",
    "conceptual": "sciresearcher.synth.config:ConceptualConfig",
    "seeds": "sciresearcher.synth.seeds:SeedConfig",
    "pipeline": "sciresearcher.pipeline.recipe:Recipe",
}


# how each config file is used
USAGE: dict[str, str] = {
    "ask": "sciresearcher ask QUESTION --config FILE",
    "eval": "sciresearcher eval run --config FILE",
    "rollout": "sciresearcher data rollout TASKS --config FILE",
    "sft": "sciresearcher train sft FILE",
    "grpo": "sciresearcher train grpo FILE",
    "sandbox": "sciresearcher sandbox exec --config FILE",
    "knowledge": "sciresearcher search QUERY --config FILE (also the tools.knowledge section of ask, eval, rollout)",
    "clean": "sciresearcher data clean TASKS --out DIR --config FILE",
    "filter": "sciresearcher data filter RUN_DIR --out DIR --config FILE",
    "export": "sciresearcher data export SRC --out DIR --config FILE",
    "synth": "sciresearcher synth computational --config FILE",
    "conceptual": "sciresearcher synth conceptual --config FILE",
    "seeds": "sciresearcher synth seeds --corpus PAPERS --out SEEDS.jsonl --config FILE",
}


def _config_class(command: str) -> Any:
    if command not in CONFIGS:
        close = difflib.get_close_matches(command, CONFIGS, n=1)
        raise ConfigError(f"no config for '{command}'" + (f"; did you mean '{close[0]}'?" if close else ""),
                          hint=f"known: {', '.join(sorted(CONFIGS))}")
    module, name = CONFIGS[command].split(":")
    return getattr(importlib.import_module(module), name)


@config_app.command("show")
def config_show(
    command: str = typer.Argument("ask", help=f"one of: {', '.join(sorted(CONFIGS))}"),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML file to resolve"),
) -> None:
    """Print the resolved config of COMMAND (defaults, then --config) as YAML; required keys show "<required>"."""
    from sciresearcher.cli.common import load_command_config
    from sciresearcher.cli.templates import default_config
    from sciresearcher.config import dump_config

    model = _config_class(command)
    resolved = load_command_config(command, model, config) if config is not None else default_config(model)
    typer.echo(dump_config(resolved), nl=False)


@config_app.command("init")
def config_init(
    command: str = typer.Argument("ask", help=f"one of: {', '.join(sorted(CONFIGS))}"),
    out: Path | None = typer.Option(None, "--out", "-o", help="where to write it (default COMMAND.yaml)"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing file"),
) -> None:
    """Write COMMAND's config as commented YAML (every key on its default, each described) to edit and pass back."""
    from sciresearcher.cli.templates import REQUIRED, default_config, template, unfilled

    model = _config_class(command)
    out = out or Path(f"{command}.yaml")
    if out.exists() and not force:
        raise ConfigError(f"{out} exists", hint="pass --force to overwrite it or choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(template(model, USAGE.get(command, "").replace("FILE", str(out))))
    todo = unfilled(default_config(model))
    err_console.print(f"wrote {escape(str(out))}" + (f"; fill in {', '.join(todo)} (now \"{REQUIRED}\")" if todo else "")
                      + (f"; use it with: {escape(USAGE[command].replace('FILE', str(out)))}" if command in USAGE
                         and "FILE" in USAGE[command] else ""), highlight=False)


app.add_typer(config_app, name="config")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(index_app, name="index")
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")
app.add_typer(synth_app, name="synth")
app.add_typer(data_app, name="data")
_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}
app.command("search", help="Search the configured literature index and sources.", context_settings=_EXTRA)(
    search_command)
app.command("read", help="Run the reader sub-agent on one document for a goal.", context_settings=_EXTRA)(
    read_command)
app.command("report", help="Write a self-contained HTML report with a trajectory viewer for a run.")(report_command)
app.command(
    "ask", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)(ask_command)
app.command(
    "pipeline", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help="Run a recipe end to end (documents -> tasks -> teacher -> SFT -> GRPO -> eval -> report); `demo` is "
    "built in.",
)(pipeline_command)


@app.callback()
def _root(verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="-v info, -vv debug logs")) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    # The handler's level decides what the console shows: some libraries set their own loggers to DEBUG (bm25s),
    # and a run directory raises the package's loggers to INFO for its run.log (runs.RunDir.attach_log).
    handler = RichHandler(console=err_console, show_path=False, level=level)
    logging.basicConfig(level=level, format="%(name)s: %(message)s", datefmt="[%X]", handlers=[handler], force=True)


def main() -> None:
    try:
        app()
    except SciResearcherError as exc:
        err_console.print("[bold red]error:[/]", escape(str(exc)), highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted; finished records are kept and the run can be resumed")
        sys.exit(130)


if __name__ == "__main__":
    main()
