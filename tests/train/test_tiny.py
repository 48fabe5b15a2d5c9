"""The tiny offline Qwen3: loads with Auto classes, carries TRL's qwen3 template byte for byte, deterministic."""

from __future__ import annotations

import hashlib

import pytest

pytest.importorskip("trl")

from sciresearcher.train.tiny import ADDED_TOKENS, SPECIAL_TOKENS, build_tiny_model, qwen3_chat_template


def _digest(path):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


def test_tiny_model_loads_and_matches_qwen3_conventions(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert tok.chat_template == qwen3_chat_template()
    for token in SPECIAL_TOKENS + ADDED_TOKENS:
        assert len(tok(token, add_special_tokens=False)["input_ids"]) == 1, token
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    assert model.config.model_type == "qwen3" and 5e5 < model.num_parameters() < 1e7
    text = "The Km of hexokinase is 0.1 mM."
    assert tok.decode(tok(text)["input_ids"]) == text


def test_same_seed_same_bytes(tmp_path):
    a = build_tiny_model(tmp_path / "a", seed=3)
    b = build_tiny_model(tmp_path / "b", seed=3)
    assert _digest(a) == _digest(b)


def test_a_tokenizer_trained_on_the_runs_own_texts(tmp_path):
    """corpus=: entities are few tokens; split_digits: one token per digit; fixed_texts: the system turn is ONE
    token, and the conversation still renders through the real Qwen3 template byte for byte."""
    from transformers import AutoTokenizer

    from sciresearcher.train.tiny import render_chat, system_block

    tools = [{"type": "function", "function": {"name": "search", "description": "Search.", "parameters": {
        "type": "object", "properties": {"query": {"type": "string", "description": "q"}}, "required": ["query"]}}}]
    chat = [{"role": "system", "content": "You are a research agent."},
            {"role": "user", "content": "What is the standard atomic weight of cobalt?"}]
    block = system_block(chat, tools)
    assert block.startswith("You are a research agent.") and "<tools>" in block and "<|im_start|>" not in block
    corpus = [render_chat(chat, tools)] * 20 + ["The standard atomic weight of cobalt is 58.93319 g/mol."] * 20
    path = build_tiny_model(tmp_path / "m", corpus=corpus, split_digits=True, fixed_texts=[block], vocab_size=600)
    tok = AutoTokenizer.from_pretrained(path)
    text = tok.apply_chat_template(chat, tools=tools, tokenize=False, add_generation_prompt=True)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.convert_tokens_to_ids(block) in ids and len(ids) < 40
    assert len(tok(" cobalt", add_special_tokens=False)["input_ids"]) == 1
    assert len(tok("58.93319", add_special_tokens=False)["input_ids"]) == 8
    assert tok.decode(ids) == render_chat(chat, tools) + "<|im_start|>assistant\n"
