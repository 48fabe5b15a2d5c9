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


def _conversation() -> tuple[list[dict], list[dict]]:
    tools = [{"type": "function", "function": {"name": "search", "description": "Search.", "parameters": {
        "type": "object", "properties": {"query": {"type": "string", "description": "q"}}, "required": ["query"]}}}]
    call = {"id": "c0", "type": "function", "function": {"name": "search", "arguments": '{"query": "cobalt"}'}}
    chat = [{"role": "system", "content": "You are a research agent."},
            {"role": "user", "content": "What is the standard atomic weight of cobalt?"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "content": "[1] mendeleev:element:Co Cobalt", "tool_call_id": "c0", "name": "search"},
            {"role": "assistant", "content": "Answer: 58.93 g/mol"}]
    return chat, tools


def test_the_training_template_makes_whole_conversations_token_exact(tmp_path):
    """chat_template='qwen3-training': TRL's Qwen3 training template, prefix-preserving, so a whole conversation is
    what the model saw at every turn; Qwen3's own template drops the earlier turn's empty think block."""
    import json

    from transformers import AutoTokenizer
    from trl.chat_template_utils import is_chat_template_prefix_preserving, qwen3_training_chat_template

    from sciresearcher.train.token_check import check_row

    chat, tools = _conversation()
    row = {"messages": chat, "tools": json.dumps(tools)}
    exact = AutoTokenizer.from_pretrained(build_tiny_model(tmp_path / "t", chat_template="qwen3-training"))
    assert exact.chat_template == qwen3_training_chat_template
    assert is_chat_template_prefix_preserving(exact) and check_row(exact, row) is None
    own = AutoTokenizer.from_pretrained(build_tiny_model(tmp_path / "q"))
    assert not is_chat_template_prefix_preserving(own)
    divergence = check_row(own, row)
    assert divergence is not None and "<think>" in divergence.training


def test_an_unknown_template_name_fails_before_writing(tmp_path):
    from sciresearcher.errors import ConfigError

    with pytest.raises(ConfigError, match="qwen3-training"):
        build_tiny_model(tmp_path / "m", chat_template="llama")
    assert not (tmp_path / "m").exists()


def test_the_cli_builds_either_template_and_names_the_choices(tmp_path):
    from transformers import AutoTokenizer
    from trl.chat_template_utils import qwen3_training_chat_template
    from typer.testing import CliRunner

    from sciresearcher.cli import app

    out = tmp_path / "m"
    result = CliRunner().invoke(app, ["train", "tiny-model", "--out", str(out), "--chat-template", "qwen3-training"])
    assert result.exit_code == 0, result.output
    assert AutoTokenizer.from_pretrained(out).chat_template == qwen3_training_chat_template
    bad = CliRunner().invoke(app, ["train", "tiny-model", "--out", str(tmp_path / "b"), "--chat-template", "x"])
    assert bad.exit_code != 0 and "qwen3-training" in str(bad.exception) and not (tmp_path / "b").exists()


def test_tool_calling_grpo_can_parse_replies_on_the_training_template(tmp_path):
    """TRL finds its reply parser by the chat template and does not know its own training variants: the parser of
    the template it derives from is set, so GRPO with tools runs on the demo's student (the pipeline test runs it)."""
    from transformers import AutoTokenizer

    from sciresearcher.train.templates import with_response_parser

    tok = AutoTokenizer.from_pretrained(build_tiny_model(tmp_path / "t", chat_template="qwen3-training"))
    template = tok.chat_template
    tok = with_response_parser(tok)
    assert tok.chat_template == template
    reply = '<tool_call>\n{"name": "search", "arguments": {"query": "cobalt"}}\n</tool_call><|im_end|>'
    call = tok.parse_response(reply, prefix="")["tool_calls"][0]["function"]
    assert call == {"name": "search", "arguments": {"query": "cobalt"}}
