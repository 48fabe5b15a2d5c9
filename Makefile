# One venv, installed from this repository's own files. torch==2.13.0 is pinned inside the extras, so
# pip resolves it in the same install as transformers/trl (a bare torch would pull a multi-GB CUDA build).
PY := .venv/bin/python
TINY := .cache/tiny-qwen3
# (`make .cache/tiny-qwen3` builds the tiny model alone; .ci/verl_step.sh uses it)
QUESTION ?= Which enzyme catalyses the first committed step of glycolysis, and what is its product?

.PHONY: install demo test test-slow test-all bench lint clean

$(PY):
	python3 -m venv .venv
	.venv/bin/pip install -q -e ".[all,dev]"

install: $(PY)

$(TINY): | $(PY)
	$(PY) -m sciresearcher train tiny-model --out $(TINY)

# The main job on the embedded defaults: the agent with the local backend on a tiny offline model.
demo: $(PY) $(TINY)
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
