"""Issue 19: every command that takes an id takes a unique prefix; -v works everywhere."""

from __future__ import annotations

import json

import click
import pytest

from prodigy.cli.tree import cli
from tests.support.mapreduce import MapReduceRepo

FAILING = """
name: failing
steps:
  - shell: echo start
  - shell: exit 3
"""
PASSING = """
name: passing
steps:
  - shell: echo fine
"""
MAP = """
name: small-map
mode: mapreduce
map:
  input: items.json
  json_path: "$[*]"
  agent_template:
    - shell: test "${item.ok}" = yes
"""


def _session_ids(mr: MapReduceRepo) -> list[str]:
    return [str(r["id"]) for r in mr.query("SELECT id FROM sessions ORDER BY started_at")]


def test_every_session_command_takes_a_shortened_id(tmp_path: object) -> None:
    mr = MapReduceRepo(tmp_path)  # type: ignore[arg-type]
    assert mr.run(FAILING).returncode == 1
    (session,) = _session_ids(mr)
    short = session.removeprefix("session-")[:8]
    for text in (short, f"session-{short}"):
        resumed = mr.prodigy("resume", text, "-y")
        assert "no session" not in resumed.stderr
        assert f"Resuming {session}" in resumed.stdout
        for command in (
            ("sessions", "show", text),
            ("checkpoints", "show", text),
            ("checkpoints", "list", text),
            ("logs", text),
        ):
            done = mr.prodigy(*command)
            assert done.returncode == 0, (command, done.stderr)
            assert session in done.stdout, command
    merged = mr.prodigy("worktree", "merge", short)
    assert merged.returncode == 2
    assert f"{session} is failed, not completed" in merged.stderr


def test_an_ambiguous_prefix_lists_the_candidates_on_stderr(tmp_path: object) -> None:
    mr = MapReduceRepo(tmp_path)  # type: ignore[arg-type]
    assert mr.run(FAILING).returncode == 1
    assert mr.run(FAILING).returncode == 1
    first, second = _session_ids(mr)
    for command in (
        ("resume", "session-"),
        ("sessions", "show", "session-"),
        ("checkpoints", "show", "session-"),
        ("logs", "session-"),
        ("worktree", "merge", "session-"),
        ("worktree", "clean", "session-"),
    ):
        done = mr.prodigy(*command)
        assert done.returncode == 2, command
        assert "matches 2 sessions; give more of the id" in done.stderr, command
        assert first in done.stderr and second in done.stderr, command
        assert first not in done.stdout, command


def test_job_commands_take_a_shortened_job_or_session_id(tmp_path: object) -> None:
    mr = MapReduceRepo(tmp_path)  # type: ignore[arg-type]
    mr.items([{"ok": "yes"}, {"ok": "no"}])
    assert mr.run(MAP).returncode == 0
    job = mr.job_id()
    (session,) = _session_ids(mr)
    short_job = job.removeprefix("mapreduce-")[:15]
    listed = mr.prodigy("dlq", "list", "--job", short_job, "--json")
    assert listed.returncode == 0, listed.stderr
    assert [item["job_id"] for item in json.loads(listed.stdout)] == [job]
    events = mr.prodigy("events", "ls", "--job", f"mapreduce-{short_job}", "--json")
    assert events.returncode == 0, events.stderr
    assert json.loads(events.stdout)
    assert {e["correlation_id"] for e in json.loads(events.stdout)} == {job}
    shown = mr.prodigy("sessions", "show", job)
    assert shown.returncode == 0 and session in shown.stdout
    retried = mr.prodigy("dlq", "retry", session[:16], "--dry-run")
    assert retried.returncode == 0, retried.stderr
    assert "item_1" in retried.stdout
    resumed = mr.prodigy("resume-job", short_job)
    assert resumed.returncode == 0, resumed.stderr
    assert "nothing to resume" in resumed.stdout
    unknown = mr.prodigy("dlq", "retry", "nonesuch")
    assert unknown.returncode == 2
    assert "job 'nonesuch'" in unknown.stderr


def _leaf_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            paths += _leaf_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


@pytest.mark.parametrize("path", _leaf_paths(cli), ids=" ".join)
def test_every_subcommand_accepts_the_verbosity_flags(path: tuple[str, ...]) -> None:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, path
        command = found
    assert any("-v" in p.opts for p in command.params if isinstance(p, click.Option)), path


def test_resume_takes_vv_after_the_subcommand(tmp_path: object) -> None:
    mr = MapReduceRepo(tmp_path)  # type: ignore[arg-type]
    assert mr.run(FAILING).returncode == 1
    done = mr.prodigy("resume", "-vv", "-y")
    assert "No such option" not in done.stderr
    assert done.returncode == 1
    assert "$ exit 3" in done.stdout or "exit 3" in done.stdout
    listed = mr.prodigy("sessions", "ls", "-v")
    assert listed.returncode == 0, listed.stderr
