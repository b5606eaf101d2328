"""The fake `claude` itself: every verb, rules, the call log and the merge helper."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.repos import (
    commit_file,
    fake_calls,
    git,
    install_fake_claude,
    prodigy_env,
    write_rules,
)

STREAM = ["-p", "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return prodigy_env(tmp_path)


@pytest.fixture
def home(env: dict[str, str]) -> Path:
    return Path(env["HOME"])


def claude(
    env: dict[str, str], cwd: Path, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["claude", *args],
        cwd=cwd,
        env={**env, **(extra or {})},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
        check=False,
    )


def stream(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_installed_on_path_with_this_python(env: dict[str, str], tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "claude"
    assert os.access(fake, os.X_OK) and fake.read_text().startswith("#!/")
    result = claude(env, tmp_path, "--version")
    assert (result.returncode, result.stdout) == (0, "0.0.0-fake (Claude Code)\n")
    assert fake_calls(Path(env["HOME"])) == []  # version probes are not calls
    assert install_fake_claude(tmp_path / "other") == tmp_path / "other" / "claude"


def test_stream_mode_prints_init_assistant_and_a_realistic_result(
    env: dict[str, str], repo: Path
) -> None:
    result = claude(env, repo, *STREAM, "--", "/fake-echo hello 'world' $HOME")
    assert result.returncode == 0
    init, assistant, final = stream(result.stdout)
    assert init == {"type": "system", "subtype": "init", "session_id": "fake-1", "model": "fake"}
    assert assistant["message"] == {"content": [{"type": "text", "text": "hello 'world' $HOME"}]}
    assert final["type"] == "result" and final["subtype"] == "success"
    assert final["is_error"] is False and final["result"] == "hello 'world' $HOME"
    assert final["session_id"] == "fake-1" and final["total_cost_usd"] == 0.0012
    assert final["usage"] == {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def test_print_and_bare_modes_print_plain_text(env: dict[str, str], repo: Path) -> None:
    printed = claude(env, repo, "--print", "--dangerously-skip-permissions", "/fake-echo hi")
    bare = claude(env, repo, "/fake-echo there")
    assert (printed.stdout, bare.stdout) == ("hi\n", "there\n")
    assert [c["mode"] for c in fake_calls(Path(env["HOME"]))] == ["print", "bare"]


def test_write_append_and_commit_verbs(env: dict[str, str], repo: Path) -> None:
    assert claude(env, repo, "/fake-write notes/a.md line one").returncode == 0
    claude(env, repo, "/fake-append notes/a.md línea dos")
    assert (repo / "notes" / "a.md").read_text() == "line one\nlínea dos\n"
    claude(env, repo, "/fake-commit add notes")
    assert git(repo, "log", "-1", "--format=%s").strip() == "add notes"
    claude(env, repo, "/fake-commit nothing staged")  # no change: no commit
    assert git(repo, "log", "-1", "--format=%s").strip() == "add notes"
    claude(env, repo, "/fake-write-commit b.txt bee")
    assert git(repo, "log", "-1", "--format=%s").strip() == "fake: b.txt"
    assert git(repo, "show", "HEAD:b.txt") == "bee\n"


def test_fail_noop_unknown_and_sleep(env: dict[str, str], repo: Path) -> None:
    failed = claude(env, repo, *STREAM, "/fake-fail 7 it broke")
    assert (failed.returncode, failed.stderr) == (7, "it broke\n")
    final = stream(failed.stdout)[-1]
    assert final["subtype"] == "error" and final["is_error"] is True
    assert claude(env, repo, "/fake-noop").returncode == 0
    assert claude(env, repo, "/lint src/main.rs").returncode == 0
    start = time.monotonic()
    assert claude(env, repo, "/fake-sleep 0.3").returncode == 0
    assert time.monotonic() - start >= 0.3


def test_flaky_fails_n_times_then_succeeds(env: dict[str, str], repo: Path) -> None:
    results = [claude(env, repo, "/fake-flaky k1 2") for _ in range(3)]
    assert [r.returncode for r in results] == [1, 1, 0]
    assert [r.stderr for r in results] == ["flaky failure 1/2\n", "flaky failure 2/2\n", ""]
    assert claude(env, repo, "/fake-flaky other 1").returncode == 1  # counters are per key


def test_noresult_and_ratelimit(env: dict[str, str], repo: Path) -> None:
    silent = claude(env, repo, *STREAM, "/fake-noresult")
    assert silent.returncode == 0
    assert [r["type"] for r in stream(silent.stdout)] == ["system", "assistant"]

    limited = claude(env, repo, *STREAM, "/fake-ratelimit")
    final = stream(limited.stdout)[-1]
    assert limited.returncode == 1 and final["is_error"] is True
    assert str(final["result"]).startswith('API Error: 429 {"type":"error","error":{"type":')
    assert "rate_limit_error" in str(final["result"])
    assert claude(env, repo, *STREAM, "/fake-ratelimit 0").returncode == 0  # exit 0, is_error


def test_rules_override_verbs_and_run_out(env: dict[str, str], home: Path, repo: Path) -> None:
    write_rules(
        home,
        [
            {
                "match": r"^/fake-echo special",
                "exit": 3,
                "stdout": "ruled",
                "stderr": "e\n",
                "times": 2,
            },
            {"match": "slow", "sleep": 0.2},
        ],
    )
    first = claude(env, repo, "/fake-echo special one")
    assert (first.returncode, first.stdout, first.stderr) == (3, "ruled\n", "e\n")
    assert claude(env, repo, "/fake-echo special two").returncode == 3
    third = claude(env, repo, "/fake-echo special three")  # times ran out: the verb again
    assert (third.returncode, third.stdout) == (0, "special three\n")
    start = time.monotonic()
    assert claude(env, repo, "/fake-noop slow").returncode == 0
    assert time.monotonic() - start >= 0.2


def test_call_log_records_each_call(env: dict[str, str], home: Path, repo: Path) -> None:
    extra = {"PRODIGY_AUTOMATION": "true", "PRODIGY_ITEM": "x", "SECRET_TOKEN": "s3cr3t"}
    claude(env, repo, *STREAM, "--", "/fake-fail 2 no", extra=extra)
    claude(env, repo, "/fake-noop")
    calls = fake_calls(home)
    assert [c["seq"] for c in calls] == [1, 2]
    first = calls[0]
    assert first["argv"] == [*STREAM, "--", "/fake-fail 2 no"]
    assert first["prompt"] == "/fake-fail 2 no" and first["mode"] == "stream"
    assert first["cwd"] == str(repo) and first["exit"] == 2
    assert first["env"] == {
        "PRODIGY_AUTOMATION": "true",
        "PRODIGY_ITEM": "x",
        "PRODIGY_HOME": env["PRODIGY_HOME"],
    }
    assert first["start"] <= first["end"]
    raw = (home / ".fake-claude" / "calls.jsonl").read_text()
    assert "s3cr3t" not in raw
    assert [json.loads(line)["phase"] for line in raw.splitlines()] == [
        "begin",
        "end",
        "begin",
        "end",
    ]


def test_a_killed_call_leaves_its_begin_record(env: dict[str, str], home: Path, repo: Path) -> None:
    proc = subprocess.Popen(["claude", "/fake-sleep 30"], cwd=repo, env=env)
    log = home / ".fake-claude" / "calls.jsonl"
    deadline = time.monotonic() + 10
    while not (log.exists() and log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (call,) = fake_calls(home)
    assert call["prompt"] == "/fake-sleep 30" and "end" not in call and "exit" not in call


def test_parallel_calls_get_distinct_sequence_numbers(env: dict[str, str], repo: Path) -> None:
    procs = [
        subprocess.Popen(
            ["claude", f"/fake-echo {i}"], cwd=repo, env=env, stdout=subprocess.DEVNULL
        )
        for i in range(8)
    ]
    assert all(p.wait() == 0 for p in procs)
    calls = fake_calls(Path(env["HOME"]))
    assert sorted(c["seq"] for c in calls) == list(range(1, 9))
    assert all("exit" in c for c in calls)


def _conflicting_worktree(repo: Path, tmp_path: Path) -> Path:
    """A linked worktree on `agent` whose shared.txt conflicts with master's."""
    commit_file(repo, "shared.txt", "base\n")
    wt = tmp_path / "agent-wt"
    git(repo, "worktree", "add", "-q", "-b", "agent", str(wt))
    commit_file(wt, "shared.txt", "agent line\n", "agent edit")
    commit_file(wt, "only-agent.txt", "a\n", "agent file")
    commit_file(repo, "shared.txt", "master line\n", "master edit")
    return wt


def test_merge_helper_union_resolves_a_real_conflict(
    env: dict[str, str], repo: Path, tmp_path: Path
) -> None:
    wt = _conflicting_worktree(repo, tmp_path)
    # two-argument form from the session worktree: merge `agent` into master's checkout
    result = claude(env, wt, *STREAM, "/prodigy-merge-worktree agent master")
    assert result.returncode == 0, result.stderr
    assert (repo / "shared.txt").read_text() == "master line\nagent line\n"
    assert (repo / "only-agent.txt").exists()
    assert git(repo, "log", "-1", "--format=%P").count(" ") == 1  # a merge commit
    assert git(repo, "status", "--porcelain") == ""


def test_merge_helper_one_argument_form_and_clean_merge(
    env: dict[str, str], repo: Path, tmp_path: Path
) -> None:
    git(repo, "branch", "side")
    wt = tmp_path / "side-wt"
    git(repo, "worktree", "add", "-q", str(wt), "side")
    commit_file(wt, "side.txt", "s\n")
    assert claude(env, repo, "/prodigy-merge-worktree side").returncode == 0
    assert git(repo, "log", "-1", "--format=%s").strip() == "Merge worktree 'side' into master"
    assert (repo / "side.txt").exists()


def test_merge_helper_target_not_checked_out(env: dict[str, str], repo: Path) -> None:
    git(repo, "branch", "nowhere")
    result = claude(env, repo, "/prodigy-merge-worktree master nowhere")
    assert result.returncode == 2 and "not checked out" in result.stderr
