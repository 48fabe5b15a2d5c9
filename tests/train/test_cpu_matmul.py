"""`train/cpu_matmul.py`: how float32 matrix products run on the CPU (exact, or bfloat16 products with float32
sums), the CPU check, and the fallback where the CPU has no native bfloat16. Not here: the pipeline's keys for
the setting (tests/pipeline/test_pipeline_recipes.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from sciresearcher.train.cpu_matmul import apply_cpu_matmul, cpu_has_bf16

FLAGS = "processor\t: 0\nflags\t\t: fpu sse sse2 avx2 avx512f {extra}\n"


@pytest.fixture(autouse=True)
def exact_after() -> Iterator[None]:
    yield
    torch.backends.mkldnn.matmul.fp32_precision = "ieee"


def cpuinfo(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(FLAGS.format(extra=extra))
    return path


def test_the_cpu_check_reads_the_bf16_flags(tmp_path: Path):
    assert cpu_has_bf16(cpuinfo(tmp_path, "avx512_bf16 avx_vnni"))
    assert cpu_has_bf16(cpuinfo(tmp_path, "amx_bf16 amx_tile"))
    assert not cpu_has_bf16(cpuinfo(tmp_path, "avx512_vnni avx512bw"))  # a prefix of the flag is not the flag
    assert not cpu_has_bf16(tmp_path / "no-such-file")


def test_bf16_falls_back_to_float32_on_a_cpu_without_it(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING):
        assert apply_cpu_matmul("bf16", cpuinfo=cpuinfo(tmp_path, "avx2")) == "ieee"
    assert torch.backends.mkldnn.matmul.fp32_precision == "ieee"
    assert "no native bfloat16" in caplog.text
    with pytest.raises(ValueError, match="'ieee' or 'bf16'"):
        apply_cpu_matmul("tf32")  # type: ignore[arg-type]


def test_each_mode_sets_torchs_flag_and_ieee_undoes_bf16(tmp_path: Path):
    bf16_cpu = cpuinfo(tmp_path, "avx512_bf16")
    assert apply_cpu_matmul("bf16", cpuinfo=bf16_cpu) == "bf16"
    assert torch.backends.mkldnn.matmul.fp32_precision == "bf16"
    assert apply_cpu_matmul("ieee", cpuinfo=bf16_cpu) == "ieee"
    assert torch.backends.mkldnn.matmul.fp32_precision == "ieee"


def amx() -> bool:
    return Path("/proc/cpuinfo").is_file() and "amx_bf16" in Path("/proc/cpuinfo").read_text().split()


@pytest.mark.skipif(not cpu_has_bf16() or amx(), reason="measured on AVX-512 BF16 without AMX (oneDNN may round "
                    "to bfloat16 with AMX)")
def test_bf16_keeps_a_training_step_within_float32_rounding_here():
    """What `bf16` does to a real step on this machine: the same loss, and gradients that stay within what
    bfloat16-rounded inputs could not (bfloat16 keeps 8 bits; its error on these sums would be ~1e-3 relative)."""
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    model = Qwen3ForCausalLM(Qwen3Config(vocab_size=300, hidden_size=128, intermediate_size=512, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2, head_dim=32))
    ids = torch.randint(0, 300, (4, 128))

    def step() -> tuple[float, list[torch.Tensor]]:
        out = model(ids, labels=ids)
        out.loss.backward()
        grads = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        return out.loss.item(), grads

    apply_cpu_matmul("ieee")
    loss, grads = step()
    apply_cpu_matmul("bf16")
    loss_bf16, grads_bf16 = step()
    assert abs(loss - loss_bf16) < 1e-5
    worst = max(((a - b).norm() / a.norm()).item() for a, b in zip(grads, grads_bf16, strict=True))
    assert worst < 1e-4, f"gradients {worst:.1e} apart (relative): the products were rounded to bfloat16"


def test_generation_runs_on_the_default_kernels_and_training_keeps_its_mode(tmp_path: Path):
    """GRPO samples between its updates: its model's generate decodes on the default kernels (oneDNN is slower
    there) and hands the process its mode back, also when generation fails."""
    from sciresearcher.train.cpu_matmul import default_kernels, generate_on_default_kernels

    seen: list[str] = []

    class Model:
        def generate(self, fail: bool = False) -> str:
            seen.append(torch.backends.mkldnn.matmul.fp32_precision)
            if fail:
                raise RuntimeError("decoding failed")
            return "tokens"

    model = generate_on_default_kernels(generate_on_default_kernels(Model()))  # wrapped once
    apply_cpu_matmul("bf16", cpuinfo=cpuinfo(tmp_path, "avx512_bf16"))
    assert model.generate() == "tokens"
    with pytest.raises(RuntimeError, match="decoding failed"):
        model.generate(fail=True)
    assert seen == ["ieee", "ieee"] and torch.backends.mkldnn.matmul.fp32_precision == "bf16"
    with default_kernels():
        assert torch.backends.mkldnn.matmul.fp32_precision == "ieee"
    assert torch.backends.mkldnn.matmul.fp32_precision == "bf16"
