# One venv, installed from this repository's own files. torch==2.13.0 is pinned inside the extras, so
# pip resolves it in the same install as transformers/trl (a bare torch would pull a multi-GB CUDA build).
PY := .venv/bin/python
TINY := .cache/tiny-qwen3
# (`make .cache/tiny-qwen3` builds the tiny model alone; .ci/verl_step.sh uses it)
QUESTION ?= Which enzyme catalyses the first committed step of glycolysis, and what is its product?

.PHONY: install demo ask test test-slow test-all bench lint clean

# pip's "Collecting ..." / "Downloading ..." lines are the progress; the "Location ... is ignored" warning that a
# machine-wide pip config pointing at absent local indexes prints once per package is filtered out (errors stay).
# A failed install removes .venv, so that the next `make` tries again instead of taking it as installed.
SHELL := /bin/bash
PIP_NOISE := -e "is ignored: it is neither a file nor a directory" -e "^Requirement already satisfied"
$(PY):
	python3 -m venv .venv
	@echo "installing SciResearcher and every extra into .venv (torch 2.13 CPU, transformers, TRL, ...: several minutes)"
	@set -o pipefail; .venv/bin/pip install --progress-bar off -e ".[all,dev]" 2>&1 \
		| { grep --line-buffered -v $(PIP_NOISE) || true; } || { rm -rf .venv; echo "make: pip install failed" >&2; exit 1; }

install: $(PY)

$(TINY): | $(PY)
	$(PY) -m sciresearcher train tiny-model --out $(TINY)

# The product end to end, offline: synthesize tasks, teacher trajectories (the reference policy through the real
# tools), SFT then GRPO of a tiny Qwen3, base / SFT / GRPO on unseen tasks, an HTML report (`sciresearcher pipeline demo`).
demo: $(PY)
	HF_HUB_OFFLINE=1 $(PY) -m sciresearcher pipeline demo

# A tour of the agent loop: the agent once, live, on a tiny random model (its answer is noise).
ask: $(PY) $(TINY)
	HF_HUB_OFFLINE=1 $(PY) -m sciresearcher ask "$(QUESTION)" --llm.backend local --llm.model $(TINY) \
		--agent.max-turns 3 --agent.sampling '{"max_tokens": 48, "temperature": 0.7}'

test: $(PY)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m "not slow and not vllm and not verl and not live"

test-slow: $(PY)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m "slow and not vllm and not verl and not live"

test-all: test test-slow

lint: $(PY)
	$(PY) -m ruff check sciresearcher tests benchmarks

clean:
	rm -rf .cache runs .pytest_cache
