"""Off-policy guidance for agentic GRPO: a teacher's solved trajectory placed in a group whose samples all failed.

GRPO learns from a group only when its rewards differ. A task every sample of the policy gets wrong gives a group
of zeros and no gradient, however many steps run; those are the tasks an evaluation counts against it. Mixed-policy
GRPO (LUFFY, Yan et al. 2025, "Learning to Reason under Off-Policy Guidance") puts a solved off-policy trajectory
into such a group: it is graded like the others by the same outcome reward, its advantage comes from the group's
rewards like theirs, and its tokens enter the same loss (tool outputs masked), so the failures are pushed down and
the solution up within one objective.

`GuidanceConfig` names a JSONL of SFT rows (`{"messages", "tools"}`: the filter's kept teacher trajectories as the
export writes them) and when to use them: `all_failed` (a group whose sampled completions all grade wrong gets its
last completion replaced by the task's trajectory) or `always` (every group with a trajectory). Rows are matched to
GRPO prompts by the text of their user turn; a question that different tasks share gets no guidance.
`guided_grpo_trainer(trl.GRPOTrainer)` returns the trainer class that does it: the replaced completion is tokenised
the way TRL builds a multi-turn rollout (each assistant turn as the model writes it, through its end-of-turn token,
then TRL's own tool-response suffix, masked), so its tokens are those the policy would hold had it sampled that
trajectory; a turn of weight 0 (a demonstrated mistake, `Message.weight`) stays in it, masked, as in SFT. The
importance ratio of those tokens is the policy's (old log-probabilities are the current ones with one update per
generation), as in LUFFY without its policy shaping.

Not here: the trainer's config (grpo.py), the rewards (rewards.py), the environments (environment.py). Transformers
generation only: with vLLM, TRL's importance-sampling correction needs sampling log-probabilities a teacher's
trajectory does not have, and `build_grpo_trainer` refuses the combination.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sciresearcher.errors import TrainingError

log = logging.getLogger(__name__)


class GuidanceConfig(BaseModel):
    """Which trajectories guide GRPO, and which groups get one."""

    model_config = ConfigDict(extra="forbid")

    trajectories: str = Field(..., description="JSONL of SFT rows ({messages, tools}) whose user turn is a GRPO "
                              "prompt's question, e.g. the export's train.jsonl")
    when: Literal["all_failed", "always"] = Field(
        "all_failed", description="all_failed: only groups whose every sample grades wrong; always: every group")


def question_key(messages: list[dict[str, Any]]) -> str | None:
    """The text of the first user turn, which pairs a GRPO prompt with its task's trajectory."""
    for message in messages:
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content, sort_keys=True)
    return None


def load_guidance(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Question text -> the trajectory's messages after its first user turn (the first row of each question)."""
    from sciresearcher.train.rows import read_sft_rows

    found: dict[str, list[dict[str, Any]]] = {}
    for row in read_sft_rows(path):
        if "prompt" in row:
            raise TrainingError(f"guidance file {path} holds prompt-completion rows (one turn each)",
                                hint="guide with whole-conversation rows: `data export --turns sequence`")
        messages = row["messages"]
        key = question_key(messages)
        if key is None:
            continue
        start = next(i for i, m in enumerate(messages) if m["role"] == "user") + 1
        found.setdefault(key, [_plain(m) for m in messages[start:]])
    if not found:
        raise TrainingError(f"guidance file {path} has no row with a user turn")
    return found


def prompt_tasks(rows: Any) -> dict[str, str]:
    """Question text -> the Task record's JSON (as the reward reads it) of the GRPO rows with a `task` column.

    A question that several different tasks share is left out, with a warning: a trajectory matched by its text
    could be another task's, and guidance would then push the group toward that task's answer."""
    found: dict[str, str] = {}
    shared: set[str] = set()
    for row in rows:
        key = question_key(row["prompt"])
        if key is None or "task" not in row:
            continue
        if found.setdefault(key, row["task"]) != row["task"]:
            shared.add(key)
    for key in shared:
        del found[key]
        log.warning("guidance: none for %r, which different tasks ask (its trajectory could be either's)", key[:60])
    return found


def _plain(message: dict[str, Any]) -> dict[str, Any]:
    """A row's message for the chat template: dict tool-call arguments, no empty keys."""
    out = {k: v for k, v in message.items() if v is not None}
    if out.get("tool_calls"):
        out["tool_calls"] = [{**c, "function": {**c["function"], "arguments": _args(c["function"]["arguments"])}}
                             for c in out["tool_calls"]]
    else:
        out.pop("tool_calls", None)
    return out


def _args(arguments: Any) -> Any:
    return json.loads(arguments) if isinstance(arguments, str) else arguments


def group_spans(keys: list[str | None], size: int) -> list[tuple[int, int]]:
    """[start, end) of each group: consecutive samples of one prompt, at most `size` long (TRL repeats a prompt
    `num_generations` times in a row)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start] or i - start == size:
            spans.append((start, i))
            start = i
    return spans


def guided_grpo_trainer(base: type) -> type:
    """A subclass of TRL's `GRPOTrainer` (`base`) that places guidance trajectories in groups; constructed with
    `guidance=GuidanceConfig(...)` besides GRPOTrainer's own arguments."""

    class GuidedGRPOTrainer(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, guidance: GuidanceConfig, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._guidance = guidance
            self._guide_messages = load_guidance(guidance.trajectories)
            self._guide_tasks = prompt_tasks(self.train_dataset)
            for key in set(self._guide_messages) - set(self._guide_tasks):
                del self._guide_messages[key]  # no prompt, or a question several tasks share
            self._guide_ids: dict[tuple[str, int], tuple[list[int], list[int]] | None] = {}
            log.info("guidance: %d of %d GRPO prompts have a trajectory in %s (%s)", len(self._guide_messages),
                     len(self._guide_tasks), guidance.trajectories, guidance.when)
            if not self._guide_messages:
                raise TrainingError(f"no GRPO prompt has a trajectory in {guidance.trajectories}",
                                    hint="guide with rows of the same tasks, rendered with the same question text")

        def _generate(self, prompts: list) -> tuple:
            out = list(super()._generate(prompts))
            if not self.model.training:
                return tuple(out)
            prompt_ids, completion_ids, tool_mask, completions, logprobs = out[0], out[1], out[2], out[3], out[4]
            keys = [question_key(p) for p in prompts]
            spans = group_spans(keys, self.num_generations)
            guided = 0
            for start, end in spans:
                key = keys[start]
                if key not in self._guide_messages or (end - start) < 2:
                    continue
                if self._guidance.when == "all_failed" and self._any_solved(key, completions[start:end]):
                    continue
                i = end - 1
                tools = self._prompt_tools(i)
                built = self._guide_tokens(key, prompts[i], prompt_ids[i], tools)
                if built is None:
                    continue
                ids, mask = built
                completion_ids[i] = ids
                if tool_mask is not None:
                    tool_mask[i] = mask
                if logprobs is not None:
                    logprobs[i] = [0.0] * len(ids)
                completions[i] = [dict(m) for m in self._guide_messages[key]]
                guided += 1
            self._metrics["train"]["guidance/groups_guided"].append(guided / max(1, len(spans)))
            return tuple(out)

        def _any_solved(self, key: str, group: list[Any]) -> bool:
            """Whether the outcome reward (the deterministic grader) accepts any completion of the group."""
            from sciresearcher.train.rewards import outcome_reward

            return any(outcome_reward(group, [self._guide_tasks[key]] * len(group)))  # every guided key has a task

        def _prompt_tools(self, i: int) -> Any:
            if getattr(self, "environment_factories", None) is not None:
                return self._env_tools[self._batch_environments[i]] or None
            return self.tools or None

        def _guide_tokens(self, key: str, prompt: list[dict[str, Any]], prompt_ids: list[int],
                          tools: Any) -> tuple[list[int], list[int]] | None:
            cache_key = (key, len(prompt_ids))
            if cache_key not in self._guide_ids:
                self._guide_ids[cache_key] = self._tokenise(key, prompt, tools)
            return self._guide_ids[cache_key]

        def _tokenise(self, key: str, prompt: list[dict[str, Any]], tools: Any) -> tuple[list[int], list[int]] | None:
            """The trajectory's completion tokens as TRL's tool loop would concatenate them, and their mask."""
            from sciresearcher.train.token_check import completion_text

            tokenizer = self._tokenizer
            eos = set(self.eos_token_ids)
            context = [dict(m) for m in prompt]
            ids: list[int] = []
            mask: list[int] = []
            pending_tools: list[dict[str, Any]] = []
            for message in self._guide_messages[key]:
                if message["role"] == "tool":
                    pending_tools.append({"role": "tool", "name": message.get("name", ""),
                                          "content": message.get("content", "")})
                    context.append(message)
                    continue
                if message["role"] != "assistant":
                    log.warning("guidance for %r skipped: a %s turn inside the trajectory", key[:60], message["role"])
                    return None
                if pending_tools:
                    suffix = list(self._get_tool_suffix_ids(pending_tools))
                    ids += suffix
                    mask += [0] * len(suffix)
                    pending_tools = []
                text = completion_text(tokenizer, context + [message], len(context), tools, self.chat_template)
                turn = list(tokenizer(text, add_special_tokens=False)["input_ids"])
                ids += turn
                mask += [0 if message.get("weight") == 0 else 1] * len(turn)  # a turn SFT does not train either
                context.append(message)
            if pending_tools or not ids or ids[-1] not in eos:
                log.warning("guidance for %r skipped: the trajectory does not end with an answer turn", key[:60])
                return None
            if len(ids) > self.max_completion_length:
                log.warning("guidance for %r skipped: %d completion tokens, over max_completion_length %d",
                            key[:60], len(ids), self.max_completion_length)
                return None
            return ids, mask

    return GuidedGRPOTrainer
