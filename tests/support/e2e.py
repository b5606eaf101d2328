"""Helpers for the e2e tier: run prompts through our claude agent, find leftover processes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from prodigy.core.agent_result import AgentResult
from prodigy.runtime.agents import AgentRequest, ClaudeSettings, get_agent


class ClaudeRunner:
    """Runs prompts through our `claude` agent with the real CLI, as a step would."""

    def __init__(self, cli: Path, env: dict[str, str], logs: Path) -> None:
        self.cli, self.env, self.logs = cli, env, logs
        self.texts: list[str] = []

    def run(
        self, prompt: str, cwd: Path, *, timeout: float = 45.0, label: str = "step"
    ) -> AgentResult:
        agent = get_agent("claude", ClaudeSettings(executable=str(self.cli), grace_period=2))
        request = AgentRequest(
            prompt=prompt,
            cwd=cwd,
            env=self.env,
            timeout=timeout,
            log_path=self.logs / f"{label}.jsonl",
            label=label,
            on_text=self.texts.append,
        )
        return asyncio.run(agent.run(request))


def processes_mentioning(marker: str) -> list[int]:
    """Pids whose command line contains `marker` (the prompt is an argv element)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    return found
