"""In-process transformers backend (the embedded default) and the Qwen3/Hermes reply parser.

`LocalClient` loads a model directory (or a hub id when online) once, renders each request with the
model's own chat template (tools included, `enable_thinking` passed through), generates in a worker
thread so the event loop stays free, and parses the reply with `reply_format.parse_qwen_reply`: `<think>...</think>` becomes
`reasoning_content`, each `<tool_call>{"name": ..., "arguments": ...}</tool_call>` a ToolCall (arguments
re-serialised as a JSON string; an unparseable block is kept raw so the agent loop can tell the model).
One lock serialises generation, so one model serves many concurrent trajectories safely.

Not for throughput: serve a model with vLLM or SGLang and use the `openai` backend for that.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from sciresearcher.errors import ConfigError, ProviderError
from sciresearcher.llm.base import ChatResult
from sciresearcher.llm.config import NO_MODEL_HINT, LLMConfig
from sciresearcher.llm.managed import ManagedClient
from sciresearcher.llm.reply_format import parse_qwen_reply
from sciresearcher.records import Message, Usage


class LocalClient(ManagedClient):
    backend = "local"

    def __init__(self, config: LLMConfig) -> None:
        super().__init__(config)
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise ConfigError("the local backend needs torch and transformers",
                              hint="pip install -e '.[train]'") from exc
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.model)
            dtype = getattr(torch, config.dtype) if config.dtype not in (None, "auto") else "auto"
            self.hf_model = AutoModelForCausalLM.from_pretrained(self.model, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"could not load a transformers model from '{self.model}': {exc}",
                              hint=NO_MODEL_HINT) from exc
        device = config.device if config.device not in (None, "auto") else (
            "cuda" if torch.cuda.is_available() else "cpu")
        self.hf_model.to(device).eval()
        self.device = device
        if not self.tokenizer.chat_template:
            raise ConfigError(f"the tokenizer in '{self.model}' has no chat template",
                              hint="use an instruct/chat model, or set tokenizer.chat_template")
        self._lock = threading.Lock()
        self.chat_template: str | None = None  # None: the tokenizer's own (BatchedLocalClient sets the training one)

    def render(self, messages: list[Message], tools: list[dict[str, Any]] | None,
               enable_thinking: bool | None = None) -> str:
        """The prompt text: the model's chat template over the messages and tools, generation prompt added."""
        kwargs: dict[str, Any] = {}
        thinking = self.config.enable_thinking if enable_thinking is None else enable_thinking
        if thinking is not None:
            kwargs["enable_thinking"] = thinking
        chat = []
        for m in messages:
            d = m.to_openai()
            for call in d.get("tool_calls") or []:  # templates expect arguments as a mapping
                try:
                    call["function"]["arguments"] = json.loads(call["function"]["arguments"])
                except json.JSONDecodeError:
                    pass
            chat.append(d)
        if self.chat_template is not None:
            kwargs["chat_template"] = self.chat_template
        return self.tokenizer.apply_chat_template(chat, tools=tools or None, tokenize=False,
                                                  add_generation_prompt=True, **kwargs)

    def _generation_kwargs(self, sampling: dict[str, Any]) -> dict[str, Any]:
        max_new = int(sampling.get("max_tokens") or sampling.get("max_new_tokens") or 512)
        temperature = float(sampling.get("temperature", 0.6))
        gen: dict[str, Any] = {"max_new_tokens": max_new, "do_sample": temperature > 0}
        if temperature > 0:
            gen.update(temperature=temperature, top_p=float(sampling.get("top_p", 1.0)))
            for key in ("top_k", "min_p"):
                if sampling.get(key):
                    gen[key] = sampling[key]
        if sampling.get("repetition_penalty"):
            gen["repetition_penalty"] = float(sampling["repetition_penalty"])
        stop = sampling.get("stop")
        if stop:
            gen.update(stop_strings=[stop] if isinstance(stop, str) else list(stop), tokenizer=self.tokenizer)
        if self.config.kv_cache == "static":
            gen["cache_implementation"] = "static"
        pad = self.tokenizer.pad_token_id
        gen["pad_token_id"] = pad if pad is not None else self.tokenizer.eos_token_id
        return gen

    def end_ids(self) -> set[int]:
        """The token ids that end a reply (the generation config's eos ids)."""
        from sciresearcher.llm.loop_stop import end_ids

        return end_ids(self.hf_model.generation_config)

    def _reply(self, new: list[int], stop_at: int | None = None) -> tuple[str, int, bool]:
        """(text, tokens kept, ended with an end-of-turn token) of the tokens generated after a prompt: cut at
        `stop_at` (where `LoopStop` saw a loop), then after the first end token (a batch pads finished rows)."""
        new = new[:stop_at]
        end_ids = self.end_ids()
        ended = next((k for k, t in enumerate(new) if t in end_ids), None)
        kept = new if ended is None else new[: ended + 1]
        text = self.tokenizer.decode(kept, skip_special_tokens=False)
        for marker in ("<|im_end|>", "<|endoftext|>"):
            text = text.split(marker)[0]
        return text, len(kept), ended is not None

    def _loop_stop(self, prompt_width: int, gen: dict[str, Any]) -> Any:
        """A `LoopStop` added to `gen`'s stopping criteria when `loop_stop` is on (else None)."""
        if not self.config.loop_stop:
            return None
        from transformers import StoppingCriteriaList

        from sciresearcher.llm.loop_stop import LoopStop

        criterion = LoopStop(prompt_width, self.config.loop_stop, self.end_ids())
        gen["stopping_criteria"] = StoppingCriteriaList([criterion])
        return criterion

    def generate_text(self, prompt: str, sampling: dict[str, Any]) -> tuple[str, int, int, str]:
        """Blocking generation: (completion text, prompt tokens, new tokens, stop | length)."""
        import torch

        inputs = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.device)
        gen = self._generation_kwargs(sampling)
        loop_stop = self._loop_stop(inputs["input_ids"].shape[1], gen)
        with self._lock, torch.inference_mode():  # one generation at a time; the seed is set under the lock
            if sampling.get("seed") is not None:
                torch.manual_seed(int(sampling["seed"]))
            output = self.hf_model.generate(**inputs, **gen)
        width = inputs["input_ids"].shape[1]
        text, n_new, finished = self._reply(output[0, width:].tolist(),
                                            loop_stop.stopped.get(0) if loop_stop is not None else None)
        stopped = bool(gen.get("stop_strings")) and any(text.endswith(s) for s in gen["stop_strings"])
        return text, int(width), n_new, "stop" if finished or stopped else "length"

    async def _chat_once(self, messages: list[Message], tools: list[dict[str, Any]] | None,
                         sampling: dict[str, Any]) -> ChatResult:
        try:
            prompt = self.render(messages, tools, sampling.get("enable_thinking"))
            text, n_prompt, n_new, finish = await asyncio.to_thread(self.generate_text, prompt, sampling)
        except Exception as exc:  # generation errors (OOM, bad template) are provider failures, not crashes
            raise ProviderError(f"local generation failed: {type(exc).__name__}: {exc}") from exc
        message = parse_qwen_reply(text)
        if message.tool_calls and finish == "stop":
            finish = "tool_calls"
        return ChatResult(message=message, usage=Usage(prompt_tokens=n_prompt, completion_tokens=n_new),
                          finish_reason=finish, model=self.model)
