"""Running one action (shell, claude, write_file) once; options are handled by step_runner."""

from __future__ import annotations

import codecs
import json
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prodigy.core.budget import Limits, spent_up
from prodigy.core.config import Config
from prodigy.core.errors import NotImplementedYetError, StepFailedError
from prodigy.core.interpolation import interpolate
from prodigy.core.progress import Note, QuotaWarned, StepOutput
from prodigy.core.provenance import interpolate_marked
from prodigy.core.quota import describe_warning
from prodigy.core.results import CAPTURE_LIMIT, OUTPUT_TAIL_BYTES, StepResult
from prodigy.core.shellsafe import interpolate_shell
from prodigy.core.variables import Scope
from prodigy.core.workflow import ClaudeAction, ShellAction, Step, WriteFileAction
from prodigy.runtime.agents import agent_from_config
from prodigy.runtime.agents.base import AgentRequest
from prodigy.runtime.private_files import open_private, private_dir
from prodigy.runtime.process import ProcessRequest, ProcessResult, run_process
from prodigy.runtime.steps.context import StepContext
from prodigy.runtime.steps.tally import add_usage


def action_kind(step: Step) -> str:
    """The variable family a step's output lands in: shell, claude, write_file ..."""
    return "test" if step.deprecated_test else step.action.kind


def step_label(step: Step) -> str:
    """How a step is named in messages: its name or id, else its kind and command."""
    if step.name or step.id:
        return str(step.name or step.id)
    action = step.action
    if isinstance(action, ShellAction):
        text = f"shell: {action.command}"
    elif isinstance(action, ClaudeAction):
        text = f"claude: {action.prompt}"
    elif isinstance(action, WriteFileAction):
        text = f"write_file: {action.path}"
    else:
        text = action.kind
    kind, _, body = text.partition(": ")
    if body and "\n" in body.strip():
        text = f"{kind}: {_first_meaningful_line(body)}"
    first = text.strip().splitlines()[0] if text.strip() else text
    return first if len(first) <= 80 else first[:77] + "..."


_FILLER = re.compile(r"^(?:[{}()\[\];|&\\]*|set -[a-z]+(?: -?o? ?pipefail)?|#.*)$")


def _first_meaningful_line(body: str) -> str:
    """`shell: {` says nothing: the first line that is not a brace, comment or `set -e`,
    with how many lines follow."""
    lines = [line.strip() for line in body.strip().splitlines()]
    for index, line in enumerate(lines):
        if line and not _FILLER.match(line):
            rest = sum(1 for later in lines[index + 1 :] if later and not _FILLER.match(later))
            more = f" (+{rest} line{'s' if rest > 1 else ''})" if rest else ""
            return line + more
    return lines[0]


async def run_action(
    step: Step, scope: Scope, ctx: StepContext, *, index: int, env: Mapping[str, str]
) -> StepResult:
    """Run the step's action once with the given child environment."""
    action = step.action
    cwd = ctx.inside(interpolate(step.working_dir, scope)) if step.working_dir else ctx.worktree
    if not cwd.is_dir():
        # a step failure (resumable once the directory exists), not a crash of the run
        return StepResult(
            success=False,
            exit_code=1,
            error=(
                f"working_dir {step.working_dir} does not exist in the worktree ({cwd});"
                " create it in an earlier step or commit it"
            ),
        )
    timeout = float(step.timeout) if step.timeout else ctx.default_timeout
    if isinstance(action, ShellAction):
        saved = ctx.inside(interpolate(step.output_file, scope)) if step.output_file else None
        call = _Call(
            cwd, env, timeout, index, step_label(step), step.capture, saved, step.shell_trusted_vars
        )
        return await _shell(action, scope, ctx, call)
    if isinstance(action, ClaudeAction):
        return await _claude(
            step, action, scope, ctx, _Call(cwd, env, timeout, index, step_label(step))
        )
    if isinstance(action, WriteFileAction):
        return _write_file(action, scope, ctx, cwd)
    raise NotImplementedYetError(f"{step.location}: `{action.kind}` steps")


def _echo(ctx: StepContext, index: int, stream: str):  # type: ignore[no-untyped-def]
    if ctx.verbosity < 2:
        return None

    def emit(line: str) -> None:
        ctx.reporter.emit(StepOutput(index=index, stream=stream, line=ctx.masker.text(line)))  # type: ignore[arg-type]

    return emit


@dataclass(frozen=True, slots=True)
class _Call:
    """Where and how one action runs."""

    cwd: Path
    env: Mapping[str, str]
    timeout: float | None
    index: int
    label: str
    capture: str | None = None  # a named capture needs the complete stdout
    output_file: Path | None = None  # `output_file:`, resolved inside the worktree
    trusted: bool = False  # `shell_trusted_vars: true`: values are spliced as shell code


async def _shell(action: ShellAction, scope: Scope, ctx: StepContext, call: _Call) -> StepResult:
    command = interpolate_shell(action.command, scope, trusted=call.trusted)
    child_env = {**call.env, **command.env}
    scratch = private_dir(ctx.scratch_dir) if ctx.scratch_dir else None
    with tempfile.TemporaryDirectory(prefix="prodigy-values-", dir=scratch) as spill:
        # Values too large for one environment string travel as private files (see shellsafe).
        for name, content in command.files.items():
            path = Path(spill) / name
            path.write_text(content, encoding="utf-8")
            path.chmod(0o600)
            child_env[f"{name}_FILE"] = str(path)
        # The output goes to private spool files; memory keeps a bounded tail (issue 12 #14).
        spool = Path(spill) / "output"
        spool.mkdir(mode=0o700)
        result = await run_process(
            ProcessRequest(
                argv=("bash", "-c", command.script),
                cwd=call.cwd,
                env=child_env,
                timeout=call.timeout,
                grace_period=ctx.grace_period,
                track=True,
                tail_bytes=OUTPUT_TAIL_BYTES,
                spool_dir=spool,
            ),
            on_stdout=_echo(ctx, call.index, "stdout"),
            on_stderr=_echo(ctx, call.index, "stderr"),
        )
        log_path = _save_shell_log(ctx, call.label, command.script, result, spool)
        full = _complete_stdout(call, spool / "stdout", result) if call.capture else None
        if call.output_file is not None:
            call.output_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(spool / "stdout", call.output_file)
    error = ""
    if result.timed_out:
        error = f"timed out after {call.timeout:g} s"
    elif result.returncode != 0:
        error = f"exit code {result.returncode}"
    return StepResult(
        success=result.ok,
        exit_code=result.returncode,
        stdout=_noted(result.stdout, result.stdout_size, log_path),
        stderr=_noted(result.stderr, result.stderr_size, log_path),
        full_stdout=full,
        output_saved=call.output_file is not None,
        duration=result.duration,
        timed_out=result.timed_out,
        error=error,
        error_kind="timeout" if result.timed_out else None,
        log_path=str(log_path),
    )


def _noted(tail: str, size: int, log_path: Path) -> str:
    """The kept tail, saying so when earlier output was left out."""
    left_out = size - len(tail.encode("utf-8", errors="replace"))
    if size <= OUTPUT_TAIL_BYTES or left_out <= 0:
        return tail
    return f"[... {left_out} earlier bytes not kept here; all of it is in {log_path}]\n{tail}"


def _complete_stdout(call: _Call, path: Path, result: ProcessResult) -> str:
    """The whole stdout for `capture: NAME`, within CAPTURE_LIMIT."""
    if result.stdout_size > CAPTURE_LIMIT:
        raise StepFailedError(
            f"capture {call.capture}: the output is {result.stdout_size} bytes, more than the"
            f" {CAPTURE_LIMIT // (1024 * 1024)} MiB a capture may hold; write it to a file"
            " (or use output_file:) and capture only what you need"
        )
    return path.read_bytes().decode("utf-8", errors="replace")


_LOG_PIECE = 1 << 20


def _save_shell_log(
    ctx: StepContext, label: str, script: str, result: ProcessResult, spool: Path
) -> Path:
    """The step's full output as a file (masked), so a failure can point at all of it.

    Streamed from the spool files a piece at a time, so memory stays bounded however much
    the step printed."""
    path = ctx.log_path(label).with_suffix(".log")
    masker = ctx.masker
    head = (
        f"$ {script}\n--- exit code {result.returncode}"
        f"{' (timed out)' if result.timed_out else ''}, {result.duration:.2f} s\n"
    )
    timed_out = f"timed out after {result.stderr.rsplit('timed out after', 1)[-1]}"
    with open_private(path) as log:
        log.write(masker.text(head))
        for name, extra in (("stdout", "\n"), ("stderr", timed_out if result.timed_out else "")):
            log.write(f"--- {name}\n")
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            carry = ""
            with (spool / name).open("rb") as source:
                while piece := source.read(_LOG_PIECE):
                    done, carry = masker.stream_prefix(carry + decoder.decode(piece))
                    log.write(done)
            log.write(masker.text(carry + decoder.decode(b"", final=True)) + extra)
    return path


async def _claude(
    step: Step, action: ClaudeAction, scope: Scope, ctx: StepContext, call: _Call
) -> StepResult:
    prompt = interpolate_marked(action.prompt, scope)
    label = step_label(step)
    limits = ctx.spend.allowance() if ctx.spend is not None else None
    if limits is not None and spent_up(limits):
        # nothing left to spend: the agent is not started (a budget pause, not a failure)
        return StepResult(
            success=False,
            exit_code=-1,
            error=f"{label}: not started, the budget is spent ({_limits_text(limits)} left)",
            error_kind="budget",
        )
    log_path = ctx.log_path(label)
    echo = _echo(ctx, call.index, "agent")
    ctx.reporter.emit(Note("info", f"  {label}: log {log_path}"))
    started = time.monotonic()
    agent = ctx.agent
    if step.agent and step.agent != agent.name and not ctx.agent_override:
        agent = agent_from_config(step.agent, ctx.agent_config or Config())
    outcome = await agent.run(
        AgentRequest(
            prompt=prompt.text,
            data=prompt.data,
            cwd=call.cwd,
            env=call.env,
            timeout=call.timeout,
            log_path=log_path,
            label=label,
            on_text=echo,
            mask=ctx.masker.text,
            limits=limits,
        )
    )
    if outcome.quota_warning is not None:
        warning = describe_warning(outcome.quota_warning)
        ctx.reporter.emit(
            QuotaWarned("warn", f"{label}: {warning}", step=label, info=outcome.quota_warning)
        )
    add_usage(outcome.usage)
    if ctx.spend is not None:
        ctx.spend.charge(outcome.usage)
    error = ""
    if not outcome.success:
        error = outcome.error_message or f"{agent.name} failed (exit {outcome.exit_code})"
    return StepResult(
        success=outcome.success,
        exit_code=outcome.exit_code if outcome.exit_code is not None else -1,
        stdout=outcome.text,
        stderr=outcome.stderr_tail,
        duration=time.monotonic() - started,
        timed_out=outcome.error_kind == "timeout",
        error=error,
        usage=outcome.usage,
        log_path=str(outcome.log_path or log_path),
        error_kind=outcome.error_kind,
        resets_at=outcome.resets_at,
        limit_type=outcome.limit_type,
    )


def _limits_text(limits: Limits) -> str:
    parts = []
    if limits.max_cost_usd is not None:
        parts.append(f"${max(limits.max_cost_usd, 0.0):.4f}")
    if limits.max_tokens is not None:
        parts.append(f"{max(limits.max_tokens, 0)} tokens")
    return ", ".join(parts)


def _write_file(action: WriteFileAction, scope: Scope, ctx: StepContext, cwd: Path) -> StepResult:
    started = time.monotonic()
    target = ctx.inside(interpolate(action.path, scope), base=cwd)
    content = action.content if isinstance(action.content, str) else json.dumps(action.content)
    text = interpolate(content, scope)
    text = _formatted(text, action.format)
    if not target.parent.exists():
        if not action.create_dirs:
            raise StepFailedError(
                f"write_file: directory {target.parent} does not exist (set create_dirs: true)"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    target.chmod(int(action.mode, 8))
    return StepResult(
        success=True, exit_code=0, stdout=str(target), duration=time.monotonic() - started
    )


def _formatted(text: str, fmt: str) -> str:
    if fmt == "json":
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
        except RecursionError:
            raise StepFailedError("write_file: content is nested too deeply to format") from None
        except ValueError as exc:
            raise StepFailedError(f"write_file: content is not valid JSON ({exc})") from exc
    if fmt == "yaml":
        import io

        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        yaml = YAML(typ="safe")
        try:
            data = yaml.load(text)
            out = io.StringIO()
            yaml.default_flow_style = False
            yaml.dump(data, out)  # shared nodes stay anchors: an alias bomb is not expanded
        except RecursionError:
            raise StepFailedError("write_file: content is nested too deeply to format") from None
        except YAMLError as exc:
            raise StepFailedError(f"write_file: content is not valid YAML ({exc})") from exc
        return out.getvalue()
    return text
