"""A tiny, randomly initialised Qwen3 with a locally trained tokenizer: every model path runs offline.

`build_tiny_model(out_dir, seed)` writes a directory that `AutoModelForCausalLM` and `AutoTokenizer` load
like a hub checkpoint: a Qwen3ForCausalLM of about 2M parameters, a byte-level BPE tokenizer trained here
on a fixed built-in text (so the result never depends on what files exist), Qwen3's special and added
tokens (`<|im_start|>`, `<|im_end|>`, `<think>`, `<tool_call>`, `<tool_response>`, ...), and TRL's bundled
`qwen3.jinja` as its chat template byte for byte, so TRL recognises it and renders conversations exactly
as for a real Qwen3. The same seed gives byte-identical files.

`chat_template="qwen3-training"` gives it TRL's Qwen3 *training* template instead: every assistant turn keeps
its `<think>` block, so the template is prefix-preserving and what the model sees at inference is what it
trained on. Whole conversations are then token-exact SFT rows (one row trains every turn); with Qwen3's own
template the history drops the empty think blocks and a conversation must be cut into one row per turn. The
pipeline's student uses it (its prompts at evaluation and in GRPO keep those blocks too).

`corpus=` trains the tokenizer on your own texts instead (the pipeline demo passes its documents and rendered
teacher trajectories, so every entity name is a token or two), `split_digits=True` makes each digit one token
(numbers copy digit by digit, as in Qwen3), and `fixed_texts=` adds each given text as ONE token: the demo
passes its system turn (system prompt and tools block, identical in every conversation), so a 2-core CPU
trains on ~500-token rows instead of ~1,300. The model still reads that text through the real chat template;
it just reads it as a single token. `system_block(messages, tools)` renders that text.

It is for tests, CI and laptops: its outputs are random until trained. It is not a model-quality claim.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sciresearcher.errors import ConfigError

# Qwen3's special tokens (special=True) and its added, non-special control tokens, in Qwen3's order.
SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
]
ADDED_TOKENS = [
    "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>", "</think>",
]
_NON_SPECIAL = {"<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>"}

_WORDS = ["the", "of", "and", "to", "in", "is", "that", "for", "with", "as", "by", "on", "are", "from", "this", "protein", "gene", "cell", "cells", "enzyme", "binding", "receptor", "expression", "pathway", "mutation", "acid", "molecule", "reaction", "rate", "constant", "concentration", "temperature", "pressure", "energy", "mass", "molar", "mol", "mM", "uM", "nM", "kDa", "kJ", "kcal", "K", "Pa", "atm", "L", "mL", "g", "mg", "ug", "hydrogen", "carbon", "nitrogen", "oxygen", "sulfur", "phosphorus", "sodium", "potassium", "calcium", "magnesium", "iron", "zinc", "copper", "chloride", "DNA", "RNA", "mRNA", "kinase", "phosphatase", "inhibitor", "activation", "glucose", "ATP", "NADH", "pH", "pKa", "Km", "Vmax", "kcat", "half-life", "yield", "question", "answer", "explanation", "confidence", "search", "read", "python", "print", "import", "numpy", "math", "result", "evidence", "paper", "study", "patients", "mice", "tumor", "apoptosis", "p53", "BRCA1", "CRISPR", "sequence", "amino", "residue", "helix", "domain", "Explanation:", "Answer:", "Confidence:", "tool", "arguments", "name", "query", "goal", "code", "doc_id", "what", "which", "how", "many", "calculate", "compute", "value", "equals", "approximately", "increase", "decrease", "significant", "found", "reported"]


_MARKUP = ["<|im_start|>system\n", "<|im_start|>user\n", "<|im_start|>assistant\n", "<|im_end|>\n",
           "<think>\n\n</think>\n\n", "<tool_call>\n", "\n</tool_call>", "<tool_response>\n", "\n</tool_response>",
           "0123456789 .,;:!?()[]{}<>+-*/=_'\"#%&@$^~`|\\"]


def _training_text(seed: int) -> list[str]:
    """A fixed pseudo-corpus: words, numbers, JSON tool calls and chat markup, reproducible from `seed`."""
    rng = random.Random(seed)
    lines = []
    for _ in range(4000):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(4, 16))]
        if rng.random() < 0.4:
            words.insert(rng.randrange(len(words) + 1), f"{rng.uniform(0, 1000):.{rng.randint(0, 4)}f}")
        lines.append(" ".join(words))
        if rng.random() < 0.2:
            args = {"query": " ".join(rng.choice(_WORDS) for _ in range(3))}
            lines.append(json.dumps({"name": rng.choice(["search", "read", "python"]), "arguments": args}))
    lines += _MARKUP
    # the chat template's fixed text, so that the markup of every turn costs few tokens
    header = ("# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided "
              "with function signatures within <tools></tools> XML tags:\n<tools>\n{\"type\": \"function\", "
              "\"function\": {\"name\": \"search\", \"description\": \"\", \"parameters\": {\"type\": "
              "\"object\", \"properties\": {}, \"required\": []}}}\n</tools>\n\nFor each function call, return a "
              "json object with function name and arguments within <tool_call></tool_call> XML tags:\n"
              "system user assistant tool string integer number boolean description")
    return lines + [header] * 50


CHAT_TEMPLATES = {"qwen3": "qwen3_chat_template", "qwen3-training": "qwen3_training_chat_template"}


def qwen3_chat_template(kind: str = "qwen3") -> str:
    """TRL's bundled Qwen3 chat template (`qwen3`) or its training variant (`qwen3-training`), as TRL ships it."""
    if kind not in CHAT_TEMPLATES:
        raise ConfigError(f"unknown tiny-model chat template {kind!r}", hint=f"use one of {sorted(CHAT_TEMPLATES)}")
    try:
        import trl.chat_template_utils as templates
    except ImportError as exc:
        raise ConfigError("the tiny model needs TRL's qwen3 chat template", hint="pip install -e '.[train]'") from exc
    return str(getattr(templates, CHAT_TEMPLATES[kind]))


def _template_renderer(kind: str = "qwen3") -> Any:
    """A vocabulary-free tokenizer object carrying a Qwen3 template: renders conversations to text."""
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.BPE()))
    fast.chat_template = qwen3_chat_template(kind)
    return fast


def render_chat(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
                template: str = "qwen3") -> str:
    """A conversation as the Qwen3 template (or `template`, see CHAT_TEMPLATES) writes it (for tokenizer corpora)."""
    return _template_renderer(template).apply_chat_template(messages, tools=tools or None, tokenize=False)


def system_block(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> str:
    """The text of the system turn (system prompt and tools block) as the Qwen3 template writes it."""
    text = render_chat([m for m in messages if m.get("role") == "system"][:1] or [{"role": "user", "content": ""}],
                       tools)
    if not text.startswith("<|im_start|>system\n"):
        raise ConfigError("the conversation renders no system turn", hint="pass a system message or tools")
    return text.removeprefix("<|im_start|>system\n").split("<|im_end|>", 1)[0]


def build_tiny_model(out_dir: str | Path, seed: int = 0, *, vocab_size: int = 4096, hidden_size: int = 128,
                     num_layers: int = 4, max_positions: int = 8192, num_heads: int = 4, num_kv_heads: int = 2,
                     intermediate_size: int | None = None, corpus: Iterable[str] | None = None,
                     split_digits: bool = False, fixed_texts: Sequence[str] = (), chat_template: str = "qwen3") -> Path:
    """Writes a tiny random Qwen3 + tokenizer + generation config to `out_dir`; returns the path."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    template = qwen3_chat_template(chat_template)  # an unknown name fails before anything is written
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    tok = Tokenizer(models.BPE())
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.pre_tokenizer = (pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
                         if split_digits else byte_level)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    texts = _training_text(seed) if corpus is None else [*_MARKUP, *corpus]
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=max_positions)
    fast.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS})
    fast.add_tokens([t for t in ADDED_TOKENS if t not in _NON_SPECIAL], special_tokens=True)
    fast.add_tokens([t for t in ADDED_TOKENS if t in _NON_SPECIAL], special_tokens=False)
    if fixed_texts:
        fast.add_tokens(list(dict.fromkeys(fixed_texts)), special_tokens=False)
    fast.eos_token = "<|im_end|>"
    fast.pad_token = "<|endoftext|>"
    fast.bos_token = None
    fast.chat_template = template
    fast.save_pretrained(out)

    torch.manual_seed(seed)
    config = Qwen3Config(
        vocab_size=len(fast), hidden_size=hidden_size, intermediate_size=intermediate_size or hidden_size * 3,
        num_hidden_layers=num_layers, num_attention_heads=num_heads, num_key_value_heads=num_kv_heads,
        head_dim=hidden_size // num_heads,
        max_position_embeddings=max_positions, tie_word_embeddings=True, rope_theta=1_000_000.0,
        bos_token_id=None, eos_token_id=fast.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=fast.convert_tokens_to_ids("<|endoftext|>"),
    )
    model = Qwen3ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=[config.eos_token_id, fast.convert_tokens_to_ids("<|endoftext|>")],
        pad_token_id=config.pad_token_id, do_sample=True, temperature=0.6, top_p=0.95, top_k=20,
    )
    model.save_pretrained(out, safe_serialization=True)
    return out
