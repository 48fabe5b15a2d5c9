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

import typer

index_app = typer.Typer(help="Build and inspect local literature indexes.", no_args_is_help=True)


@index_app.command("build")
def build_command(
    sources: list[Path] = typer.Argument(..., help="files or folders: JSONL corpus, PDF, JATS XML, HTML, TXT, MD"),
    out: Path = typer.Option(..., "--out", "-o", help="index folder (created, reused or updated)"),
    dense: bool = typer.Option(True, "--dense/--no-dense", help="also build the dense (embedding) part"),
    model: str | None = typer.Option(None, "--model", help="sentence-transformers model (default: bundled MiniLM)"),
    max_paragraph_words: int = typer.Option(400, help="longer paragraphs are cut at sentence boundaries"),
    precision: str = typer.Option("int8", "--precision", help="int8: the model's int8 ONNX twin (faster on CPU, "
                                  "cosine >= 0.99 to fp32); fp32: sentence-transformers as is (use on a GPU)"),
    max_tokens: int | None = typer.Option(None, "--max-tokens", help="tokens of each passage the model reads "
                                          "(default 160; 0 = the model's own limit, 256 for MiniLM); BM25 reads all"),
    embedding_cache: Path | None = typer.Option(
        None, "--embedding-cache", help="folder of embeddings kept across builds (default "
        "$SCIRESEARCHER_CACHE_DIR/embeddings or ~/.cache/sciresearcher/embeddings)"),
    no_embedding_cache: bool = typer.Option(False, "--no-embedding-cache", help="embed every passage afresh"),
) -> None:
    """Build (or incrementally update) a local literature index.

    Passages embedded by an earlier build with the same model and settings (any index) come from the embedding
    cache; the last line says how long the build took, in documents per second."""
    import time

    from sciresearcher.cli.common import spinner
    from sciresearcher.errors import ConfigError
    from sciresearcher.knowledge.embedding import EmbeddingStore
    from sciresearcher.knowledge.index import INDEX_MAX_TOKENS
    from sciresearcher.knowledge.index_build import build_index
    from sciresearcher.knowledge.loaders import load_sources

    if precision not in ("int8", "fp32"):
        raise ConfigError(f"--precision must be int8 or fp32, not {precision!r}")
    if max_tokens is not None and max_tokens < 0:
        raise ConfigError(f"--max-tokens must be 0 (the model's limit) or a positive number, not {max_tokens}")
    started = time.perf_counter()
    with spinner(f"loading {len(sources)} source(s)"):
        loaded = load_sources(sources)
    store = None if no_embedding_cache or not dense else EmbeddingStore(embedding_cache)
    index = build_index(loaded.documents, out, dense=dense, model=model, max_paragraph_words=max_paragraph_words,
                        sources=[str(s) for s in sources], embedding_store=store, precision=precision,  # type: ignore[arg-type]
                        max_tokens=INDEX_MAX_TOKENS if max_tokens is None else max_tokens or None)
    typer.echo(f"index {out}: {len(index.documents)} documents, {len(index.passages)} passages, "
               f"modes {', '.join(index.modes)}" + (f", model {index.manifest['model']}" if index.dense is not None else ""))
    stats = index.build_stats or {}
    elapsed = time.perf_counter() - started
    if stats.get("documents_added"):
        cached = stats.get("embeddings_from_cache", 0)
        typer.echo(f"built in {elapsed:.1f}s with loading: {stats['documents_added']} documents, "
                   f"{stats['documents_added'] / elapsed:.1f} documents/s"
                   + (f"; {stats['passages_embedded']} passages embedded in {stats['embed_s']:.1f}s, {cached} from "
                      f"the embedding cache" if dense else ""), err=True)
    else:
        typer.echo(f"up to date: nothing to add ({elapsed:.1f}s)", err=True)
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


def _config(config: Path | None, overrides: list[str], index: Path | None, mode: str | None,
            backends: list[str] | None, model: str | None, top_k: int | None = None):
    """The KnowledgeConfig: --config file, then dotted overrides, then the named options."""
    from sciresearcher.cli.common import load_command_config
    from sciresearcher.knowledge.config import KnowledgeConfig

    options = {"index": str(index) if index else None, "mode": mode, "backends": backends or None, "model": model,
               "top_k": top_k}
    return load_command_config("knowledge", KnowledgeConfig, config, overrides, options)


def _run_tool(tool, *args: str):
    """Runs a search/read tool once; returns its text and the sub-call it recorded (None when none was)."""
    import asyncio

    from sciresearcher.agent.subcalls import collect_subcalls
    from sciresearcher.errors import ToolError

    async def go():
        with collect_subcalls() as calls:
            try:
                text = await tool(*args)
            except ToolError as exc:  # a failed call: the text the model would see
                text = str(exc)
        return text, (calls[-1] if calls else None)

    return asyncio.run(go())


def search_command(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="what to search for"),
    index: Path | None = typer.Option(None, "--index", "-i", help="local index folder"),
    mode: str | None = typer.Option(None, "--mode", help="bm25 | dense | hybrid (default hybrid)"),
    k: int | None = typer.Option(None, "--k", "-k", help="number of hits (default 10, or the config's top_k)"),
    backend: list[str] | None = typer.Option(None, "--backend", "-b", help="online source (repeatable), e.g. europepmc"),
    model: str | None = typer.Option(None, "--model", help="embedding model the index was built with"),
    config: Path | None = typer.Option(None, "--config", "-c", help="KnowledgeConfig YAML (`config init knowledge`)"),
) -> None:
    """Search the local index and/or online sources; prints ranked hits with ids and snippets.

    Extra flags override config keys, e.g. --max_retries 0. Exits 2 when no source is configured or every
    source failed; sources that failed while others answered are named on stderr."""
    from sciresearcher.agent.toolbox import knowledge_tools
    from sciresearcher.cli.common import muted, spinner
    from sciresearcher.errors import ConfigError, SourceError

    cfg = _config(config, list(ctx.args), index, mode, backend, model, k if k is not None or config else 10)
    if cfg.index is None and not cfg.backends:
        raise ConfigError("no search source is configured: no --index and no --backend",
                          hint="pass --index DIR (built with `sciresearcher index build SOURCES... --out DIR`) "
                               "or --backend europepmc (repeatable; also ncbi, arxiv, openalex, ...)")
    search, _ = knowledge_tools(cfg)
    with spinner(f"searching for {query!r}"), muted("sciresearcher.agent.search_tool"):  # failures reported below
        text, call = _run_tool(search, query)
    failed = call.error if call is not None else None
    if failed and not (call and call.evidence):
        raise SourceError(f"every source failed: {failed}",
                          hint="check the network and the source names, or search a local --index")
    typer.echo(text.split("\n\nSources that failed: ")[0])
    if failed:
        typer.echo(f"some sources failed: {failed}", err=True)


def read_command(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., help="an id from search results, a DOI or a URL"),
    goal: str = typer.Option(..., "--goal", "-g", help="what to learn from the document"),
    index: Path | None = typer.Option(None, "--index", "-i", help="local index folder"),
    backend: list[str] | None = typer.Option(None, "--backend", "-b", help="online source (repeatable)"),
    model: str | None = typer.Option(None, "--model", help="embedding model the index was built with"),
    no_dense: bool = typer.Option(False, "--no-dense", help="lexical evidence scoring only (faster)"),
    config: Path | None = typer.Option(None, "--config", "-c", help="KnowledgeConfig YAML (`config init knowledge`)"),
) -> None:
    """Read a document for a goal: prints the selected evidence (three-level selection).

    Extra flags override config keys, e.g. --evidence.top_sentences 5. Exits 2 when the document cannot be
    found or fetched."""
    from sciresearcher.agent.toolbox import knowledge_tools
    from sciresearcher.cli.common import spinner
    from sciresearcher.errors import SourceError

    cfg = _config(config, list(ctx.args), index, "bm25" if no_dense else None, backend, model)
    if no_dense:
        cfg = cfg.model_copy(update={"evidence": cfg.evidence.model_copy(update={"use_dense": False})})
    _, read = knowledge_tools(cfg)
    with spinner(f"reading {doc_id}"):
        text, call = _run_tool(read, doc_id, goal)
    if call is not None and call.kind == "fetch" and call.error:
        raise SourceError(call.error)
    typer.echo(text)
