"""`sciresearcher index ...`, `search` and `read` commands.

`index build SOURCES... --out DIR` loads files and folders (JSONL, PDF, JATS XML, HTML, TXT, MD), builds
or incrementally updates the index there, and lists skipped files at the end; `index info DIR` prints its
manifest. `search_command` and `read_command` are plain functions the top-level app mounts as
`sciresearcher search` and `sciresearcher read`: they print the same text the agent's tools return
(built by `agent.toolbox.knowledge_tools`).
Heavy imports stay inside the functions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

index_app = typer.Typer(help="Build and inspect local literature indexes.", no_args_is_help=True)


@index_app.command("build")
def build_command(
    sources: list[Path] = typer.Argument(..., help="files or folders: JSONL corpus, PDF, JATS XML, HTML, TXT, MD"),
    out: Path = typer.Option(..., "--out", "-o", help="index folder (created, reused or updated)"),
    dense: bool = typer.Option(True, "--dense/--no-dense", help="also build the dense (embedding) part"),
    model: str | None = typer.Option(None, "--model", help="sentence-transformers model (default: bundled MiniLM)"),
    max_paragraph_words: int = typer.Option(400, help="longer paragraphs are cut at sentence boundaries"),
) -> None:
    """Build (or incrementally update) a local literature index."""
    from sciresearcher.knowledge.index import build_index
    from sciresearcher.knowledge.loaders import load_sources

    loaded = load_sources(sources)
    index = build_index(loaded.documents, out, dense=dense, model=model,
                        max_paragraph_words=max_paragraph_words, sources=[str(s) for s in sources])
    typer.echo(f"index {out}: {len(index.documents)} documents, {len(index.passages)} passages, "
               f"modes {', '.join(index.modes)}" + (f", model {index.manifest['model']}" if index.dense is not None else ""))
    if loaded.skipped:
        typer.echo(f"skipped {len(loaded.skipped)} file(s):", err=True)
        for path, reason in loaded.skipped:
            typer.echo(f"  {path}: {reason}", err=True)


@index_app.command("info")
def info_command(index: Path = typer.Argument(..., help="index folder")) -> None:
    """Print an index's manifest (corpus hash, model, parameters, counts)."""
    from sciresearcher.errors import ConfigError

    manifest = index / "manifest.json"
    if not manifest.exists():
        raise ConfigError(f"no index at {index} (manifest.json missing)")
    typer.echo(json.dumps(json.loads(manifest.read_text()), indent=2))


def _config(index: Path | None, mode: str, backends: list[str] | None, model: str | None):
    from pydantic import ValidationError

    from sciresearcher.errors import ConfigError
    from sciresearcher.knowledge.config import KnowledgeConfig

    try:
        return KnowledgeConfig(index=index, mode=mode, backends=backends or [], model=model)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"bad option {'.'.join(str(x) for x in err['loc'])}: {err['msg']}",
                          hint="modes: bm25 | dense | hybrid; backends: europepmc, ncbi, arxiv, openalex, "
                               "semanticscholar, crossref, serper, tavily, brave, searxng") from None


def search_command(
    query: str = typer.Argument(..., help="what to search for"),
    index: Path | None = typer.Option(None, "--index", "-i", help="local index folder"),
    mode: str = typer.Option("hybrid", "--mode", help="bm25 | dense | hybrid"),
    k: int = typer.Option(10, "--k", "-k", help="number of hits"),
    backend: list[str] | None = typer.Option(None, "--backend", "-b", help="online source (repeatable), e.g. europepmc"),
    model: str | None = typer.Option(None, "--model", help="embedding model the index was built with"),
) -> None:
    """Search the local index and/or online sources; prints ranked hits with ids and snippets."""
    import asyncio

    from sciresearcher.agent.toolbox import knowledge_tools

    config = _config(index, mode, backend, model).model_copy(update={"top_k": k})
    search, _ = knowledge_tools(config)
    typer.echo(_tool_text(asyncio.run, search(query)))


def read_command(
    doc_id: str = typer.Argument(..., help="an id from search results, a DOI or a URL"),
    goal: str = typer.Option(..., "--goal", "-g", help="what to learn from the document"),
    index: Path | None = typer.Option(None, "--index", "-i", help="local index folder"),
    backend: list[str] | None = typer.Option(None, "--backend", "-b", help="online source (repeatable)"),
    model: str | None = typer.Option(None, "--model", help="embedding model the index was built with"),
    no_dense: bool = typer.Option(False, "--no-dense", help="lexical evidence scoring only (faster)"),
) -> None:
    """Read a document for a goal: prints the selected evidence (three-level selection)."""
    import asyncio

    from sciresearcher.agent.toolbox import knowledge_tools

    config = _config(index, "bm25" if no_dense else "hybrid", backend, model)
    if no_dense:
        config = config.model_copy(update={"evidence": config.evidence.model_copy(update={"use_dense": False})})
    _, read = knowledge_tools(config)
    typer.echo(_tool_text(asyncio.run, read(doc_id, goal)))


def _tool_text(run: Any, call: Any) -> str:
    """What the tool showed the model, also when the call failed (a ToolError carries that text)."""
    from sciresearcher.errors import ToolError

    try:
        return run(call)
    except ToolError as exc:
        return str(exc)
