"""Decide the answer to one model request from the prompt's directives, for any wire format.

Failures map to HTTP errors, the only way a model can make an agent CLI end a headless run
with an error: a rate-limit message gives 429 (`rate_limit_error` in the Messages API), an
overload message 529 (both as `classify_failure` reads them), anything else 400, which the
CLIs do not retry. The wire modules dress the answer in each vendor's shape.
"""

from __future__ import annotations

import threading

from prodigy.core.agent_result import classify_failure
from prodigy.core.directives import DirectiveError, Fail, Flaky, Sleep, parse_script
from prodigy.runtime.model_server.conversation import Conversation
from prodigy.runtime.model_server.plan import Gate, Plan, plan_script
from prodigy.runtime.model_server.toolsets import Toolset
from prodigy.runtime.model_server.wire import Answer, ApiError, Reply, text_block, tool_use_block

_STATUS_BY_KIND = {"rate_limit": 429, "overloaded": 529}
_DETAIL_CHARS = 500
SIDE_ANSWER = "scripted model server"


class Responder:
    """Answers requests; holds the only state that outlives a conversation: @flaky counters."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop  # set when the server closes: cuts @sleep short
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def reply(self, conversation: Conversation, tools: Toolset) -> Reply:
        if not conversation.has_tools:
            # the CLIs' own side requests (titles, summaries, routing) carry no tools
            return Answer((text_block(SIDE_ANSWER),), "end_turn")
        try:
            plan = plan_script(parse_script(conversation.prompt), conversation.cwd, tools)
        except DirectiveError as err:
            return ApiError(400, f"scripted model server: {err}")
        return self._turn(plan, conversation)

    def _turn(self, plan: Plan, conversation: Conversation) -> Reply:
        index = min(conversation.tool_results, len(plan.turns) - 1)
        previous = plan.turns[index - 1].call if index > 0 else None
        failed = conversation.failed_result
        if failed is not None and previous is not None and not previous.may_fail:
            return failure(f"{previous.note} failed: {_shorten(failed)}")
        turn = plan.turns[index]
        for gate in turn.gates:
            error = self._pass(gate)
            if error is not None:
                return error
        if turn.call is None:
            return Answer((text_block(plan.final_text),), "end_turn")
        tool = tool_use_block(f"toolu_scripted_{index:04d}", turn.call.name, turn.call.input)
        return Answer((text_block(turn.call.note), tool), "tool_use")

    def _pass(self, gate: Gate) -> ApiError | None:
        match gate:
            case Sleep(seconds=seconds):
                self._stop.wait(seconds)
                return None
            case Fail(code=code, message=message):
                return failure(f"@fail {code}: {message}" if message else f"@fail {code}")
            case Flaky(key=key, failures=failures):
                with self._lock:
                    count = self._counters[key] = self._counters.get(key, 0) + 1
                if count <= failures:
                    return failure(f"flaky failure {count}/{failures}")
                return None


def failure(message: str) -> ApiError:
    """The HTTP error that makes Claude Code fail with `message` and the right error kind."""
    return ApiError(_STATUS_BY_KIND.get(classify_failure(message), 400), message)


def _shorten(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"
