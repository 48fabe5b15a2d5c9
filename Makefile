# One venv, installed from this repository's own files. torch==2.13.0 is pinned inside the extras, so
# pip resolves it in the same install as transformers/trl (a bare torch would pull a multi-GB CUDA build).
PY := .venv/bin/python
TINY := .cache/tiny-qwen3
QUESTION ?= Which enzyme catalyses the first committed step of glycolysis, and what is its product?

.PHONY: install demo ask test test-slow test-all bench lint clean

$(PY):
	python3 -m venv .venv
	.venv/bin/pip install -q -e ".[all,dev]"

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
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m "not slow and not vllm and not live"

test-slow: $(PY)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -m "slow and not vllm and not live"

test-all: test test-slow

lint: $(PY)
	$(PY) -m ruff check sciresearcher tests benchmarks

clean:
	rm -rf .cache runs .pytest_cache
