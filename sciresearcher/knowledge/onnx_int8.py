"""An int8 ONNX Runtime twin of a sentence-transformers text encoder, for fast embedding on CPUs.

`Int8Embedder.for_model(model, label)` exports the model's transformer to ONNX once (torch.onnx, TorchScript
exporter), quantises its weights to int8 (onnxruntime dynamic quantisation, per channel) and keeps the
result in the cache folder it is given (the `Encoder` gives `$SCIRESEARCHER_CACHE_DIR/onnx`, else
`~/.cache/sciresearcher/onnx`), keyed by a hash of the model's weights, so every later process loads it in a second. `encode` tokenises with the model's own
tokenizer, runs each text alone (one worker thread per core), and pools (mean or CLS, as the model's Pooling
module says) and L2-normalises as the sentence-transformers pipeline does. On the bundled all-MiniLM-L6-v2 the
embeddings have cosine >= 0.99 to the fp32 ones at 3.4x the speed on 2 cores (same token limit), and SciFact
nDCG@10 is unchanged (benchmarks/index_build.py, benchmarks/retrieval.py).

It covers text encoders made of a Hugging Face transformer, a mean or CLS Pooling module and an optional
Normalize module (the all-MiniLM / mpnet / bge family). Other pipelines (dense layers, prompts, image
inputs) raise `ConfigError` and stay on the fp32 sentence-transformers path; GPUs stay there too.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from sciresearcher.errors import ConfigError

log = logging.getLogger(__name__)

_FORMAT = "int8-dynamic-per-channel-v1"  # bump when the export or quantisation recipe changes
_POOLING = ("mean", "cls")


def _model_hash(transformer, pooling: str) -> str:
    """What the exported graph depends on: the transformer's weights and config, the pooling, the export recipe
    (hashed from the loaded model, so a hub name and a local copy of the same weights share one export)."""
    import torch

    h = hashlib.sha256(f"{_FORMAT}|{pooling}|{transformer.auto_model.config.to_json_string()}".encode())
    for name, tensor in sorted(transformer.auto_model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().to(torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _pipeline(model) -> tuple[object, str]:
    """(the Transformer module, the pooling mode) of a sentence-transformers model this backend can run."""
    modules = list(model)
    kinds = [type(m).__name__ for m in modules]
    if len(modules) not in (2, 3) or kinds[0] != "Transformer" or kinds[1] != "Pooling" or \
            (len(modules) == 3 and kinds[2] != "Normalize"):
        raise ConfigError(f"int8 embedding supports Transformer -> Pooling [-> Normalize] models, not {' -> '.join(kinds)}",
                          hint="use embedding precision fp32 for this model")
    mode = getattr(modules[1], "pooling_mode", None)
    if mode not in _POOLING:
        raise ConfigError(f"int8 embedding supports mean or CLS pooling, not {mode!r}",
                          hint="use embedding precision fp32 for this model")
    if not hasattr(modules[0], "auto_model"):
        raise ConfigError("int8 embedding needs a Hugging Face transformer module", hint="use embedding precision fp32")
    return modules[0], str(mode)


def _export(transformer, tokenizer, out: Path) -> None:
    """ONNX export of the transformer (fp32), then int8 weights; written to a temporary file and renamed, so a
    killed export never leaves a half-written model behind."""
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise ConfigError("int8 embedding needs onnxruntime and onnx",
                          hint="pip install 'sciresearcher[retrieval]', or use embedding precision fp32") from None
    bert = transformer.auto_model.eval()
    sample = tokenizer(["a short sentence", "and another one"], return_tensors="pt", padding=True)
    names = list(sample.keys())

    class _Wrapper(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *tensors):
            return self.inner(**dict(zip(names, tensors))).last_hidden_state

    out.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    level = root.level
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as tmp, warnings.catch_warnings():
        # the tracer's notes on constant shape checks (true for an encoder's full attention mask) and the
        # quantiser's advice on root's logger are noise here
        warnings.simplefilter("ignore")
        root.setLevel(logging.ERROR)
        fp32 = Path(tmp) / "model.onnx"
        int8 = Path(tmp) / "model-int8.onnx"
        try:
            with torch.no_grad():
                torch.onnx.export(_Wrapper(bert), tuple(sample[n] for n in names), str(fp32), input_names=names,
                                  output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                                  dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]})
            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.setLevel(level)
        os.replace(int8, out)


class Int8Embedder:
    """An ONNX Runtime session over the int8 export of one sentence-transformers model."""

    def __init__(self, session, tokenizer, pooling: str, normalize: bool, dim: int) -> None:
        self.session = session  # onnxruntime sessions may be run from several threads at once
        self.workers = _threads()
        self.export_s = 0.0  # seconds spent exporting it (0 when it came from the cache)
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.normalize = normalize
        self.dim = dim
        self.input_names = [i.name for i in session.get_inputs()]

    @classmethod
    def for_model(cls, model, label: str, cache_dir: Path) -> Int8Embedder:
        """The int8 twin of the loaded sentence-transformers `model` (named `label` in the cache folder), exported
        on the first call for these weights and read from the cache after that."""
        try:
            import onnxruntime as ort
        except ImportError:
            raise ConfigError("int8 embedding needs onnxruntime",
                              hint="pip install 'sciresearcher[retrieval]', or use embedding precision fp32") from None
        transformer, pooling = _pipeline(model)
        folder = f"{re.sub(r'[^A-Za-z0-9._-]+', '_', label)[-60:]}-{_model_hash(transformer, pooling)}"
        target = cache_dir / folder / "model-int8.onnx"
        export_s = 0.0
        for attempt in (1, 2):
            if not target.exists():
                log.info("exporting %s to int8 ONNX (once; cached in %s)", label, target.parent)
                started = time.perf_counter()
                _export(transformer, model.tokenizer, target)
                export_s += time.perf_counter() - started
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1  # parallel over texts instead (see `encode`)
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            try:
                session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
                break
            except Exception as exc:  # noqa: BLE001 (onnxruntime errors subclass Exception only): a damaged file
                if attempt == 2:
                    raise ConfigError(f"cannot load the int8 ONNX model {target}: {exc}",
                                      hint="delete that folder, or use embedding precision fp32") from None
                log.warning("the cached int8 model %s is unreadable (%s); exporting it again", target, exc)
                target.unlink(missing_ok=True)
        made = cls(session, model.tokenizer, pooling, len(list(model)) == 3,
                   int(transformer.auto_model.config.hidden_size))  # mean / CLS pooling keeps the hidden size
        made.export_s = export_s
        return made

    def encode(self, texts: list[str], *, max_tokens: int, progress: bool = False) -> np.ndarray:
        """Embeddings of `texts` (float32, one row per text), each cut at `max_tokens` tokens.

        Each text runs alone: dynamic int8 quantisation scales a run's activations by their largest value, so in a
        padded batch a text's vector would depend on its batch-mates. Alone, a text always gets the same vector
        (bit for bit, whatever the corpus around it), and no time is lost: one single-threaded session run from
        one worker thread per core embeds 1.4x faster than batches of 64 on two threads (benchmarks/index_build.py).
        """
        from concurrent.futures import ThreadPoolExecutor

        from sciresearcher.knowledge.progress import track

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        chunks = [range(i, min(i + 32, len(texts))) for i in range(0, len(texts), 32)]

        def run(rows: range) -> int:
            for i in rows:
                out[i] = self._one(texts[i], max_tokens)
            return len(rows)

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="int8-embed") as pool:
            done = pool.map(run, chunks)
            for _ in (track(done, "embedding", total=len(chunks)) if progress else done):
                pass
        return out

    def _one(self, text: str, max_tokens: int) -> np.ndarray:
        enc = self.tokenizer([text], truncation=True, max_length=max_tokens, return_tensors="np")
        hidden = self.session.run(None, {n: enc[n].astype(np.int64) for n in self.input_names})[0][0]
        vec = hidden[0] if self.pooling == "cls" else hidden.mean(0)  # one text, no padding: the mean is over its tokens
        if self.normalize:
            vec = vec / max(float(np.linalg.norm(vec)), 1e-12)
        return vec


def _threads() -> int:
    try:
        import torch

        return max(1, torch.get_num_threads())
    except ImportError:
        return max(1, os.cpu_count() or 1)


_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def _cached(model, label: str, cache_dir: str) -> Int8Embedder:
    return Int8Embedder.for_model(model, label, Path(cache_dir))


def int8_embedder(model, label: str, cache_dir: Path) -> Int8Embedder:
    """One `Int8Embedder` per loaded sentence-transformers `model` and process (loading it is not repeated)."""
    with _lock:
        return _cached(model, label, str(cache_dir))
