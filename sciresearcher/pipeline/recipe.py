"""`Recipe`: the typed config of `sciresearcher pipeline RECIPE`, one section per stage (unknown keys are errors).

A recipe is a YAML file or the name of a built-in one (`sciresearcher/pipeline/recipes/NAME.yaml`). Each
section holds the config the stage's library code already takes (`SynthConfig`, `ScreenConfig`,
`RolloutConfig`, `FilterConfig`, `ExportConfig`, `SFTRunConfig`, `GRPORunConfig`...), minus what the pipeline
fills in from earlier stages (paths of tasks, indexes, datasets, models), so the demo and the real-scale recipe
run the same code with different settings. `seed` is every stage's seed. `prices` names a price table (USD per
million tokens, a YAML file a user edits) for `--dry-run`'s cost estimate; `estimates` holds the per-call
assumptions of that estimate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sciresearcher.data.config import ExportConfig, FilterConfig, ScreenConfig
from sciresearcher.data.split import SplitConfig
from sciresearcher.errors import ConfigError
from sciresearcher.llm.config import LLMConfig
from sciresearcher.rollout.config import RolloutConfig
from sciresearcher.synth.config import ConceptualConfig, SynthConfig
from sciresearcher.train.copy_pretrain import CopyPretrainConfig
from sciresearcher.train.cpu_matmul import CpuMatmul
from sciresearcher.train.grpo import GRPORunConfig
from sciresearcher.train.guidance import GuidanceConfig
from sciresearcher.train.sft import SFTRunConfig

BUILTIN = Path(__file__).with_name("recipes")
FILLED = "(set by the pipeline)"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorldConfig(_Strict):
    """The library the agent searches: the offline fact documents, or a corpus of papers; and its index."""

    source: Literal["facts", "corpus"] = Field("facts", description="facts: the synthesis fact documents "
                                               "(offline); corpus: the files or folders in `corpus`")
    corpus: list[str] = Field(default_factory=list, description="papers (JSONL, PDF, JATS, HTML...) for source corpus")
    dense: bool = Field(False, description="also build the dense (MiniLM) part of the index")
    model: str | None = Field(None, description="embedding model of the dense part (none = bundled MiniLM)")


class SynthStage(_Strict):
    pipeline: Literal["computational", "conceptual"] = "computational"
    computational: SynthConfig = Field(default_factory=SynthConfig,
                                       description="`synth computational` (corpus: the world's documents when empty)")
    conceptual: ConceptualConfig = Field(default_factory=ConceptualConfig,
                                         description="`synth conceptual` (corpus and index: the world's when empty)")


class TeacherConfig(_Strict):
    """Who writes the training trajectories, with which tools and limits (the rollout runner `data rollout` uses)."""

    policy: Literal["model", "reference"] = Field(
        "model", description="model: the LLM in rollout.llm; reference: the offline reference policy (not a model: it "
        "solves computational tasks from their evidence chain with the real tools)")
    reference_query: Literal["fact", "question", "echo"] = Field(
        "fact", description="the reference policy's first search: each cited fact without its number, the "
        "question word for word (then the fact of any cited document it did not find), or a fact query led by the "
        "question's own words around its entity (echo)")
    reference_printed: Literal["plain", "labelled"] = Field(
        "plain", description="how the reference policy's python prints the result: the bare number (plain), or "
        "`Answer: <value>`, which its answer line then copies after the same words (labelled)")
    reference_mistakes: float = Field(
        0.0, ge=0.0, le=1.0, description="the share of tasks whose reference trajectory first sends a python call cut "
        "inside its print (a turn of weight 0: in the context, not trained on), then the whole call after the error")
    rollout: RolloutConfig = Field(default_factory=RolloutConfig,
                                   description="tools.knowledge.index is the training index (set by the pipeline)")


class TinyModel(_Strict):
    """The tiny Qwen3 built when `student.model` is empty (train/tiny.py); its tokenizer is trained on the run's texts."""

    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int | None = None
    vocab_size: int = Field(4096, description="upper bound: a small corpus saturates earlier")
    split_digits: bool = Field(True, description="one token per digit (numbers are copied digit by digit)")
    fixed_system_block: bool = Field(True, description="the system turn (prompt + tools block) is one token")
    max_positions: int = 4096
    chat_template: Literal["qwen3", "qwen3-training"] = Field(
        "qwen3-training", description="qwen3-training: TRL's Qwen3 training template, every assistant turn keeps its "
        "think block, so whole conversations are token-exact SFT rows and evaluation and GRPO see what SFT trained on; "
        "qwen3: Qwen3's own (the history drops empty think blocks: one SFT row per turn)")
    tokenizer_corpus: Literal["train", "all"] = Field(
        "train", description="train: documents of the training index and the SFT rows; all: every world document too")
    copy_pretrain: CopyPretrainConfig = Field(
        default_factory=CopyPretrainConfig, description="copy pretraining on the training documents before SFT "
        "(train/copy_pretrain.py: the in-context copying a pretrained model has; steps 0 = none)")


class StudentConfig(_Strict):
    model: str | None = Field(None, description="the model to train (a local directory, e.g. Qwen3-8B); none = tiny")
    tiny: TinyModel = Field(default_factory=TinyModel)


class Launch(_Strict):
    """How a training stage runs: in this process, or under `accelerate launch` with a shipped config."""

    accelerate: str | None = Field(None, description="shipped accelerate config (single_gpu, ddp, fsdp, zero3, cpu); "
                                   "none = in this process")
    num_processes: int = Field(1, ge=1)


class SFTStage(SFTRunConfig):
    model: str = Field(FILLED, description="the student (set by the pipeline)")
    dataset: str = Field(FILLED, description="the export's train.jsonl (set by the pipeline)")
    output_dir: str = Field(FILLED, description="the stage's run directory (set by the pipeline)")
    launch: Launch = Field(default_factory=Launch)


class PromptFilter(_Strict):
    """GRPO's prompts chosen by the SFT model's own rollouts, before GRPO: a task is kept when its pass rate over
    `samples` rollouts lies in [`min_pass`, `max_pass`] (the offline difficulty filter of Polaris and Skywork-OR1:
    a task every sample solves, or none, gives a group no reward spread). One greedy rollout with `max_pass: 0`
    keeps the tasks whose greedy answer is wrong, the ones an evaluation counts. The rollouts run the eval stage's
    agent and model backend with the SFT model and GRPO's tools (the training index)."""

    samples: int = Field(1, ge=1, description="rollouts per task")
    temperature: float = Field(0.0, ge=0, description="their sampling temperature (0: greedy)")
    min_pass: float = Field(0.0, ge=0, le=1, description="keep a task whose pass rate is at least this")
    max_pass: float = Field(0.0, ge=0, le=1, description="and at most this")
    pool: int | None = Field(None, ge=1, description="tasks tried: the first N of a seeded shuffle of GRPO's tasks "
                             "(none: all of them)")

    @field_validator("max_pass")
    @classmethod
    def _ordered(cls, v: float, info: Any) -> float:
        if v < info.data.get("min_pass", 0.0):
            raise ValueError(f"max_pass {v} is below min_pass {info.data['min_pass']}: no task could be kept")
        return v


class GuidanceStage(GuidanceConfig):
    """Off-policy guidance (train/guidance.py) from the teacher's kept trajectories of GRPO's prompts: with an `rl`
    split the teacher rolls out its tasks too (kept apart from SFT's rows), without one GRPO's prompts are SFT's."""

    trajectories: str = Field(FILLED, description="the export's guidance rows or SFT rows (set by the pipeline)")


class GRPOStage(GRPORunConfig):
    model: str = Field(FILLED, description="the SFT model (set by the pipeline)")
    dataset: str = Field(FILLED, description="the train split's tasks (set by the pipeline)")
    output_dir: str = Field(FILLED, description="the stage's run directory (set by the pipeline)")
    max_tasks: int | None = Field(None, ge=1, description="train tasks GRPO samples prompts from (none = all)")
    prompt_filter: PromptFilter | None = Field(None, description="keep the tasks by the SFT model's pass rate on "
                                               "them (none: every task)")
    guidance: GuidanceStage | None = Field(None, description="the teacher's trajectory in groups whose samples all "  # type: ignore[assignment]
                                           "fail (none: on-policy samples only)")
    launch: Launch = Field(default_factory=Launch)


class EvalStage(_Strict):
    """Which models are evaluated on what, with the same rollout runner as `eval run`."""

    models: list[Literal["base", "sft", "grpo"]] = Field(default_factory=lambda: ["base", "sft", "grpo"])
    splits: list[Literal["train", "validation", "test"]] = Field(
        default_factory=lambda: ["test"], description="synthesized splits to evaluate on (choose settings on "
        "validation, report test)")
    benchmarks: list[str] = Field(default_factory=list, description="named benchmarks or task files, e.g. "
                                  "hle-bio-chem-gold=FILE")
    max_tasks: int | None = Field(None, ge=1, description="first N tasks of each split or benchmark")
    rollout: RolloutConfig = Field(default_factory=RolloutConfig,
                                   description="llm.model is each model's directory (set by the pipeline)")
    base_urls: dict[str, str] = Field(default_factory=dict, description="model name -> OpenAI-compatible endpoint "
                                      "serving it (rollout.llm.backend openai, e.g. one vLLM server per model)")
    k: list[int] = Field(default_factory=lambda: [1])


class Estimates(_Strict):
    """Assumptions of `--dry-run`'s estimate of model calls and tokens (per call unless named otherwise)."""

    turns_per_trajectory: float = Field(6.0, gt=0, description="agent turns (model calls) per trajectory")
    prompt_tokens: float = Field(6000.0, ge=0, description="mean prompt tokens per agent call (the context grows)")
    completion_tokens: float = Field(400.0, ge=0, description="mean completion tokens per agent call")
    writer_calls_per_task: float = Field(1.5, ge=0, description="writer calls per synthesized task")
    writer_prompt_tokens: float = Field(3000.0, ge=0)
    writer_completion_tokens: float = Field(600.0, ge=0)
    judge_prompt_tokens: float = Field(800.0, ge=0)
    judge_completion_tokens: float = Field(200.0, ge=0)
    kept_fraction: float = Field(0.8, gt=0, le=1, description="share of tasks that survive cleaning and splitting")
    benchmark_tasks: dict[str, int] = Field(default_factory=dict, description="tasks per eval benchmark (when not "
                                            "loadable here)")


class Recipe(_Strict):
    name: str = "recipe"
    description: str = ""
    out: str | None = Field(None, description="the pipeline directory (default runs/pipeline-<name>)")
    seed: int = Field(0, description="every stage's seed (synthesis, split, teacher, model init, SFT, GRPO, eval)")
    world: WorldConfig = Field(default_factory=WorldConfig)
    synth: SynthStage = Field(default_factory=SynthStage)
    clean: ScreenConfig = Field(default_factory=ScreenConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    teacher: TeacherConfig = Field(default_factory=TeacherConfig)
    filter: FilterConfig = Field(default_factory=FilterConfig)
    student: StudentConfig = Field(default_factory=StudentConfig)
    export: ExportConfig = Field(default_factory=ExportConfig, description="tokenizer and max_length default to "
                                 "the student's (its context length)")
    sft: SFTStage = Field(default_factory=SFTStage)
    grpo: GRPOStage = Field(default_factory=GRPOStage)
    eval: EvalStage = Field(default_factory=EvalStage)
    threads: int | None = Field(None, ge=1, description="torch CPU threads for training and local generation")
    cpu_matmul: CpuMatmul = Field("ieee", description="the training stages' float32 matrix products on the CPU: "
                                  "ieee (PyTorch's default kernels) or bf16 (oneDNN's, allowed bfloat16 arithmetic; "
                                  "on an AMD EPYC with AVX-512 BF16 still float32 and ~1.25x faster; ieee on a CPU "
                                  "without bfloat16); generation keeps the default kernels (train/cpu_matmul.py)")
    prices: str | None = Field(None, description="price table (YAML: model -> {input, output} USD per 1M tokens); "
                               "relative paths are relative to the recipe file")
    estimates: Estimates = Field(default_factory=Estimates)

    @field_validator("sft", "grpo")
    @classmethod
    def _filled(cls, value: Any) -> Any:
        for name in ("model", "dataset", "output_dir"):
            if getattr(value, name) != FILLED:
                raise ValueError(f"{name} is set by the pipeline; leave it out of the recipe")
        return value


def builtin_recipes() -> list[str]:
    return sorted(p.stem for p in BUILTIN.glob("*.yaml"))


def recipe_path(name_or_path: str | Path) -> Path:
    """A recipe file: an existing path, or the name of a built-in recipe."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    builtin = BUILTIN / f"{name_or_path}.yaml"
    if builtin.is_file():
        return builtin
    raise ConfigError(f"no recipe {str(name_or_path)!r}: not a file and not a built-in recipe",
                      hint=f"built-in recipes: {', '.join(builtin_recipes())}; or pass a YAML file")


def load_recipe(name_or_path: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> tuple[Recipe, Path]:
    """The validated recipe (YAML, then dotted overrides such as `--sft.max_steps 50`) and its file."""
    from sciresearcher.config import load_config

    path = recipe_path(name_or_path)
    return load_config(Recipe, path, overrides), path


def llm_of(config: LLMConfig | None) -> str | None:
    return config.model if config is not None else None
