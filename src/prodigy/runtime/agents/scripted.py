"""The scripted agent: follows `@write`/`@run`/`@commit`... directives in the prompt, offline.

Deterministic and free, for the demo, for tests, and for trying a workflow without tokens.
It returns the same AgentResult and writes the same stream-json log shapes as `claude`.
"""

from __future__ import annotations

import asyncio
import fcntl
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prodigy.core.agent_result import AgentResult, ErrorKind, classify_failure
from prodigy.core.config import Config
from prodigy.core.directives import (
    AppendFile,
    Commit,
    Directive,
    DirectiveError,
    Fail,
    Flaky,
    PrintText,
    RunCommand,
    Sleep,
    WriteFile,
    describe,
    parse_script,
)
from prodigy.core.errors import ProdigyError
from prodigy.core.provenance import Marked
from prodigy.runtime.agents.base import (
    AgentPlugin,
    AgentRequest,
    AgentSettings,
    slash_merge_prompt,
)
from prodigy.runtime.agents.slash import expand_marked
from prodigy.runtime.agents.stream_json import StreamRecorder, open_recorder
from prodigy.runtime.process import ProcessRequest, ProcessResult, run_process

MODEL = "scripted"
STATE_ENV = "PRODIGY_SCRIPTED_STATE"
_ZERO_TOKENS = {
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}


@dataclass(frozen=True, slots=True)
class _Stop:
    """Why a script stopped early: exit code, message, and the failing command's output."""

    code: int | None
    message: str
    kind: ErrorKind
    output: str = ""


class ScriptedAgent:
    """Executes the prompt's directives in `request.cwd`; see docs/scripted-agent.md."""

    name = "scripted"

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings

    def merge_prompt(self, branch: str, target: str | None = None) -> str:
        # slash commands are expanded from .claude/commands, as Claude Code does
        return slash_merge_prompt(branch, target)

    async def run(self, request: AgentRequest) -> AgentResult:
        if not request.cwd.is_dir():  # a caller bug, raised as run_process does for claude
            raise ProdigyError(f"{request.label}: working directory {request.cwd} does not exist")
        started = time.monotonic()
        session_id = f"scripted-{uuid.uuid4().hex[:12]}"
        with open_recorder(request.log_path, request.on_text, request.mask) as recorder:
            recorder.feed_record(_init_record(session_id, request.cwd))
            done: list[Directive] = []
            try:
                async with asyncio.timeout(request.timeout):
                    stop, text = await self._execute(request, recorder, session_id, done)
            except TimeoutError:
                stop = _Stop(None, f"timed out after {request.timeout or 0:g} s", "timeout")
                text = ""
            result_text = text if stop is None else stop.message
            duration_ms = round((time.monotonic() - started) * 1000)
            recorder.feed_record(
                _result_record(session_id, stop, result_text, len(done), duration_ms)
            )
        summary = recorder.summary
        return AgentResult(
            success=stop is None,
            exit_code=0 if stop is None else stop.code,
            text=summary.result_text,
            is_error=summary.is_error,
            session_id=summary.session_id,
            usage=summary.usage(),
            log_path=request.log_path,
            error_kind=None if stop is None else stop.kind,
            error_message="" if stop is None else f"{request.label}: {stop.message}",
            stderr_tail="" if stop is None else stop.output,
        )

    async def _execute(
        self,
        request: AgentRequest,
        recorder: StreamRecorder,
        session_id: str,
        done: list[Directive],
    ) -> tuple[_Stop | None, str]:
        """Run the directives in order, appending each to `done`; (why it stopped, result text)."""
        home = request.env.get("HOME")
        marked = Marked(request.prompt, request.data)
        prompt = expand_marked(marked, request.cwd, Path(home) if home else None)
        try:
            script = parse_script(prompt)
        except DirectiveError as err:
            return _Stop(2, str(err), "task"), ""
        printed: list[str] = []
        for directive in script.directives:
            recorder.feed_record(_assistant_record(session_id, describe(directive)))
            done.append(directive)
            try:
                stop = await self._apply(directive, request, printed)
            except (OSError, ProdigyError) as err:  # e.g. a path that is a directory, no bash
                stop = _Stop(1, f"line {directive.line}: {describe(directive)}: {err}", "task")
            if stop is not None:
                return stop, ""
        any_print = any(isinstance(d, PrintText) for d in script.directives)
        return None, "\n".join(printed) if any_print else script.prose

    async def _apply(
        self, directive: Directive, request: AgentRequest, printed: list[str]
    ) -> _Stop | None:
        match directive:
            case WriteFile(path=path, content=content) | AppendFile(path=path, content=content):
                return _write(request.cwd, path, content, append=isinstance(directive, AppendFile))
            case RunCommand(command=command, env=env):
                outcome = await self._process(request, ("bash", "-c", command), dict(env))
                if outcome.returncode == 0:
                    return None
                first = command.strip().split("\n", 1)[0]
                return _failed(outcome, f"@run exited with code {outcome.returncode}: {first}")
            case Commit(message=message):
                return await self._commit(request, message)
            case PrintText(text=text):
                printed.append(text)
                return None
            case Fail(code=code, message=message):
                text = message or f"@fail {code}"
                return _Stop(code, text, classify_failure(text))
            case Sleep(seconds=seconds):
                await asyncio.sleep(seconds)
                return None
            case Flaky(key=key, failures=failures):
                return _flaky(request, key, failures)

    async def _commit(self, request: AgentRequest, message: str) -> _Stop | None:
        added = await self._process(request, ("git", "add", "-A"))
        if added.returncode != 0:
            return _failed(added, "@commit: `git add -A` failed")
        staged = await self._process(request, ("git", "diff", "--cached", "--quiet"))
        if staged.returncode == 0:
            return None  # nothing to commit is not an error, as with the fake claude
        committed = await self._process(request, ("git", "commit", "-q", "-m", message))
        if committed.returncode != 0:
            return _failed(committed, "@commit: `git commit` failed")
        return None

    async def _process(
        self, request: AgentRequest, argv: tuple[str, ...], env: dict[str, str] | None = None
    ) -> ProcessResult:
        # no timeout here: the whole run is under asyncio.timeout, and cancellation kills the group
        process = ProcessRequest(
            argv=argv,
            cwd=request.cwd,
            env={**request.env, **(env or {})},
            grace_period=self.settings.grace_period,
        )
        return await run_process(process)


def _failed(outcome: ProcessResult, message: str) -> _Stop:
    output = outcome.tail()
    return _Stop(outcome.returncode, message, classify_failure(message, output), output)


def _write(cwd: Path, relative: str, content: str, *, append: bool) -> _Stop | None:
    root = cwd.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        return _Stop(2, f"{relative!r} is outside the working directory {root}", "task")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a" if append else "w", encoding="utf-8") as handle:
        handle.write(content)
    return None


def _flaky(request: AgentRequest, key: str, failures: int) -> _Stop | None:
    state = state_dir(request.env)
    if state is None:
        return _Stop(2, f"@flaky needs {STATE_ENV} or PRODIGY_HOME in the agent env", "task")
    count = bump_counter(state / "counters" / key)
    if count <= failures:
        return _Stop(1, f"flaky failure {count}/{failures}", "task")
    return None


def state_dir(env: Mapping[str, str]) -> Path | None:
    """Where @flaky counters live: $PRODIGY_SCRIPTED_STATE, else $PRODIGY_HOME/scripted."""
    explicit, home = env.get(STATE_ENV), env.get("PRODIGY_HOME")
    if explicit:
        return Path(explicit)
    return Path(home) / "scripted" if home else None


def bump_counter(path: Path) -> int:
    """Increment the counter file and return its new value; safe across parallel agents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read().strip()
        count = (int(text) if text.isdigit() else 0) + 1
        handle.seek(0)
        handle.truncate()
        handle.write(str(count))
    return count


def _init_record(session_id: str, cwd: Path) -> dict[str, object]:
    return {
        "type": "system",
        "subtype": "init",
        "session_id": session_id,
        "model": MODEL,
        "cwd": str(cwd),
        "tools": ["Write", "Bash"],
    }


def _assistant_record(session_id: str, text: str) -> dict[str, object]:
    message = {"role": "assistant", "model": MODEL, "content": [{"type": "text", "text": text}]}
    return {"type": "assistant", "message": message, "session_id": session_id}


def _result_record(
    session_id: str, stop: _Stop | None, text: str, turns: int, duration_ms: int
) -> dict[str, object]:
    return {
        "type": "result",
        "subtype": "success" if stop is None else "error_during_execution",
        "is_error": stop is not None,
        "result": text,
        "session_id": session_id,
        "num_turns": turns,
        "duration_ms": duration_ms,
        "total_cost_usd": 0.0,
        "usage": dict(_ZERO_TOKENS),
    }


def _settings(config: Config, grace_period: float) -> AgentSettings:
    del config  # nothing to configure: the prompt is the whole script
    return AgentSettings(grace_period=grace_period)


PLUGIN = AgentPlugin(
    name="scripted",
    summary="offline, no model: follows directives in the prompt",
    settings_type=AgentSettings,
    create=ScriptedAgent,
    from_config=_settings,
)
