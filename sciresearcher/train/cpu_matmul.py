"""How float32 matrix products run on the CPU: PyTorch's default kernels (`ieee`), or oneDNN's with bfloat16
arithmetic allowed (`bf16`).

`bf16` sets `torch.backends.mkldnn.matmul.fp32_precision = "bf16"` (the CPU's counterpart of TF32 on a GPU): PyTorch
then hands float32 matrix products to oneDNN and lets it compute them in bfloat16 where it implements that. What
it does depends on the CPU, so both were measured, not assumed. On 2 cores of an AMD EPYC with AVX-512 BF16 and no
AMX, oneDNN still multiplies in float32: the forward pass is the same bit for bit, the gradients within 3e-6
(relative) of the default kernels', and training is ~1.25x faster because oneDNN's kernels beat the default ones
there (the demo's copy pretraining 0.21 -> 0.16-0.17 s a step, SFT 0.64 -> 0.45-0.47). On a CPU with AMX, oneDNN
may round the products' inputs to bfloat16 (float32 sums), as TF32 does on a GPU. On a CPU with neither flag,
`bf16` falls back to `ieee` with a warning. Either way the sums run in another order, so a model trained one way is another draw
than one trained the other way.

Generation keeps PyTorch's default kernels whatever the mode (`default_kernels`, and `generate_on_default_kernels`
for a model's `generate`): at decoding's small batches oneDNN is the slower one (100 rows, 40 tokens: 1.31 s
against 2.10).

This sets the process-wide flag; it does not choose the precision of weights (`bf16: true` in a training config
does that, and on a CPU is ~3x slower).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, get_args

log = logging.getLogger(__name__)

CpuMatmul = Literal["ieee", "bf16"]
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_bf16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """Whether the CPU multiplies bfloat16 natively (an AVX-512 BF16 or AMX flag in /proc/cpuinfo; False where
    the file does not exist, e.g. on macOS)."""
    try:
        flags = Path(cpuinfo).read_text(errors="replace").split()
    except OSError:
        return False
    return any(flag in flags for flag in BF16_FLAGS)


def apply_cpu_matmul(mode: CpuMatmul, *, cpuinfo: str | Path = "/proc/cpuinfo") -> CpuMatmul:
    """Sets how this process multiplies float32 matrices on the CPU; returns the mode in force (`ieee` when
    `bf16` was asked for on a CPU without native bfloat16). Every call sets the flag, so a later `ieee` undoes
    an earlier `bf16` in the same process."""
    import torch

    if mode not in get_args(CpuMatmul):
        raise ValueError(f"cpu_matmul must be 'ieee' or 'bf16', got {mode!r}")
    if mode == "bf16" and not cpu_has_bf16(cpuinfo):
        log.warning("cpu_matmul: bf16 asked for, but this CPU has no native bfloat16 (%s); multiplying in float32",
                    " / ".join(BF16_FLAGS))
        mode = "ieee"
    torch.backends.mkldnn.matmul.fp32_precision = mode
    return mode


@contextmanager
def default_kernels() -> Iterator[None]:
    """PyTorch's default float32 kernels inside the block (the mode before is restored after it)."""
    import torch

    before = torch.backends.mkldnn.matmul.fp32_precision
    torch.backends.mkldnn.matmul.fp32_precision = "ieee"
    try:
        yield
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = before


def generate_on_default_kernels(model: Any) -> Any:
    """Wraps `model.generate` in place (once) so that it decodes on the default kernels while training around it
    runs in the process's mode (GRPO samples its completions between its updates); returns the model."""
    if getattr(model, "_sciresearcher_default_kernels", False):
        return model
    generate = model.generate

    def generate_on_default(*args: Any, **kwargs: Any) -> Any:
        with default_kernels():
            return generate(*args, **kwargs)

    model.generate = generate_on_default
    model._sciresearcher_default_kernels = True
    return model
