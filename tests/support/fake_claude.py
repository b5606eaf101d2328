#!/usr/bin/env python3
"""Fake `claude` for tests, protocol v1 of spec/conformance.md §2 (stdlib only).

Installed as an executable named `claude` (tests.support.repos.install_fake_claude). The
prompt is the last argv element; all state lives under $HOME/.fake-claude/.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

VERSION = "0.0.0-fake (Claude Code)"
RATE_LIMIT_TEXT = (
    'API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":'
    '"This request would exceed your account\'s rate limit. Please try again later."},'
    '"request_id":"req_fake0000000000000000000"}'
)


def state_dir() -> Path:
    return Path(os.environ.get("HOME", ".")) / ".fake-claude"


def git(*args: str, cwd: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check)


def bump(name: str) -> int:
    """Increment counter `name` under flock; parallel fakes never lose a count."""
    path = state_dir() / "counters" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        n = int(f.read().strip() or 0) + 1
        f.seek(0)
        f.truncate()
        f.write(str(n))
    return n


def record(rec: dict[str, object]) -> None:
    state_dir().mkdir(parents=True, exist_ok=True)
    with (state_dir() / "calls.jsonl").open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(json.dumps(rec) + "\n")
        f.flush()


def split1(text: str) -> tuple[str, str]:
    head, _, tail = text.partition(" ")
    return head, tail


def write(path: str, content: str, *, append: bool = False) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a" if append else "w", encoding="utf-8") as f:
        f.write(content + "\n")


def commit(message: str) -> None:
    git("add", "-A")
    if git("diff", "--cached", "--quiet", check=False).returncode:
        git("commit", "-q", "-m", message)


def merge(src: str, tgt: str | None) -> int:
    """The /prodigy-merge-worktree helper: merge, resolving conflicts as ours + theirs."""
    tgt = tgt or git("rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
    where, cur = None, None
    for line in git("worktree", "list", "--porcelain").stdout.splitlines():
        if line.startswith("worktree "):
            cur = line[len("worktree ") :]
        elif line == "branch refs/heads/" + tgt:
            where = cur
    if where is None:
        sys.stderr.write(f"target branch {tgt} is not checked out in any worktree\n")
        return 2
    msg = f"Merge worktree '{src}' into {tgt}"
    if git("merge", "--no-ff", "--no-edit", "-m", msg, src, cwd=where, check=False).returncode == 0:
        return 0
    unmerged = git("diff", "--name-only", "--diff-filter=U", "-z", cwd=where).stdout.split("\0")
    if not any(unmerged):
        sys.stderr.write("merge failed without conflicts; nothing to resolve\n")
        git("merge", "--abort", cwd=where, check=False)
        return 1
    for p in filter(None, unmerged):
        sides = [git("show", f":{n}:{p}", cwd=where, check=False) for n in (2, 3)]
        (Path(where) / p).write_text("".join(s.stdout for s in sides if s.returncode == 0))
        git("add", "--", p, cwd=where)
    git("commit", "-q", "--no-edit", cwd=where)
    return 0


def apply_rule(prompt: str) -> tuple[int, str, str] | None:
    """The first matching rule with `times` left, as (exit, stdout, result-kind)."""
    rules_file = state_dir() / "rules.json"
    if not rules_file.exists():
        return None
    for i, rule in enumerate(json.loads(rules_file.read_text())):
        if not re.search(rule["match"], prompt, re.S):
            continue
        if "times" in rule and bump(f"rule-{i}") > rule["times"]:
            continue
        time.sleep(float(rule.get("sleep", 0)))
        sys.stderr.write(rule.get("stderr", ""))
        return int(rule.get("exit", 0)), rule.get("stdout", ""), "normal"
    return None


def run(prompt: str) -> tuple[int, str, str]:
    """Execute PROMPT; returns (exit code, output text, result kind)."""
    ruled = apply_rule(prompt)
    if ruled is not None:
        return ruled
    verb, rest = split1(prompt)
    if verb == "/fake-echo":
        return 0, rest, "normal"
    if verb in ("/fake-write", "/fake-append", "/fake-write-commit"):
        path, content = split1(rest)
        write(path, content, append=verb == "/fake-append")
        if verb == "/fake-write-commit":
            commit(f"fake: {path}")
        return 0, "", "normal"
    if verb == "/fake-commit":
        commit(rest or "fake commit")
        return 0, "", "normal"
    if verb == "/fake-fail":
        code, msg = split1(rest)
        sys.stderr.write(msg + "\n")
        return int(code or 1), "", "normal"
    if verb == "/fake-sleep":
        time.sleep(float(rest or 0))
        return 0, "", "normal"
    if verb == "/fake-flaky":
        key, n = split1(rest)
        k = bump("flaky-" + key)
        if k <= int(n or 0):
            sys.stderr.write(f"flaky failure {k}/{n}\n")
            return 1, "", "normal"
        return 0, "", "normal"
    if verb == "/fake-noresult":
        return 0, "", "noresult"
    if verb == "/fake-ratelimit":
        return int(rest or 1), RATE_LIMIT_TEXT, "ratelimit"
    if verb == "/prodigy-merge-worktree":
        args = rest.split()
        if not args:
            sys.stderr.write("usage: /prodigy-merge-worktree SRC [TGT]\n")
            return 2, "", "normal"
        return merge(args[0], args[1] if len(args) > 1 else None), "", "normal"
    return 0, "", "normal"  # /fake-noop and unknown verbs


def stream_records(seq: int, code: int, out: str, kind: str, started: float) -> list[dict]:
    records: list[dict] = [
        {"type": "system", "subtype": "init", "session_id": f"fake-{seq}", "model": "fake"},
        {"type": "assistant", "message": {"content": [{"type": "text", "text": out}]}},
    ]
    if kind == "noresult":
        return records
    is_error = code != 0 or kind == "ratelimit"
    records.append(
        {
            "type": "result",
            # Claude Code reports API errors as subtype "success" with is_error true.
            "subtype": "success" if code == 0 or kind == "ratelimit" else "error",
            "is_error": is_error,
            "result": out,
            "session_id": f"fake-{seq}",
            "num_turns": 1,
            "duration_ms": int((time.time() - started) * 1000),
            "total_cost_usd": 0.0012,
            "usage": {
                "input_tokens": 10,
                "output_tokens": 5,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }
    )
    return records


def main(argv: list[str]) -> int:
    if "--version" in argv and len(argv) == 1:
        print(VERSION)
        return 0
    mode = (
        "stream"
        if "stream-json" in argv
        else ("print" if {"--print", "-p"} & set(argv) else "bare")
    )
    prompt = argv[-1] if argv else ""
    started = time.time()
    seq = bump("seq")
    base: dict[str, object] = {
        "seq": seq,
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "argv": argv,
        "prompt": prompt,
        "mode": mode,
        "env": {k: v for k, v in os.environ.items() if k.startswith("PRODIGY_")},
    }
    record(dict(base, start=started, phase="begin"))
    code, out, kind = run(prompt)
    if mode == "stream":
        for obj in stream_records(seq, code, out, kind, started):
            print(json.dumps(obj), flush=True)
    elif out:
        print(out, flush=True)
    record(dict(base, start=started, end=time.time(), exit=code, phase="end"))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
