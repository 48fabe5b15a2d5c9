"""Cost in an eval run: the HLE judge through the OpenAI Batch API with its batch ids in the run directory, and
summary.json / the report showing billed cost next to list price with the cache and batch split."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from eval_helpers import SampleAwareLLM, echo_tools

from sciresearcher.eval.config import EvalConfig
from sciresearcher.eval.harness import run_eval
from sciresearcher.eval.report import render_report
from sciresearcher.llm.provider_server import ProviderServer


def verdict(provider, body):
    prompt = body["messages"][-1]["content"]
    gold = prompt.split("[correct_answer]: ")[1].split("\n")[0]
    correct = "yes" if f"Answer: {gold}" in prompt else "no"
    return {"content": json.dumps({"extracted_final_answer": gold, "reasoning": "compared", "correct": correct,
                                   "confidence": 90, "strict": True}), "output_tokens": 60}


def test_judge_goes_through_the_batch_api_and_the_summary_splits_cost(tmp_path: Path, tasks_file: Path):
    out = tmp_path / "run"
    with ProviderServer(verdict) as srv:
        judge = {"backend": "openai", "model": "o3-mini-2025-01-31", "base_url": srv.openai_base_url, "batch": True,
                 "batch_window_s": 0.3, "batch_poll_s": 0.01}
        cfg = EvalConfig(benchmark=str(tasks_file), samples=1, concurrency=4, grader="judge",
                         llm={"backend": "openai", "model": "scripted"}, tools={"enabled": []},
                         judge={"llm": judge})
        summary = asyncio.run(run_eval(cfg, out, llm=SampleAwareLLM(), tools_factory=echo_tools,
                                       show_progress=False))
    assert summary["grader"] == "hle_judge" and 1 <= len(srv.submissions) <= 2
    records = [json.loads(x) for x in (out / "batches" / "judge" / "batches.jsonl").read_text().splitlines()]
    assert sum(len(r["custom_ids"]) for r in records if r["status"] == "collected") == 4
    judged = summary["session_cost"]["judge"]
    assert judged["batched_calls"] == 4 and judged["unpriced_calls"] == 0
    assert judged["batch_saved_usd"] > 0 and abs(judged["cost_usd"] * 2 - judged["list_cost_usd"]) < 1e-5
    assert set(summary["cost"]) >= {"cost_usd", "list_cost_usd", "cache_saved_usd", "batch_saved_usd",
                                    "cache_hit_share", "unpriced_calls"}
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["session_cost"]["judge"]["batched_calls"] == 4
    html = render_report(out)
    assert "cost at list price" in html and "judge cost" in html and "4 batched" in html
