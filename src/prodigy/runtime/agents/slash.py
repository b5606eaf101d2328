"""Claude-style slash commands: `/name args` -> the text of `.claude/commands/name.md`.

Used by agents that do not run Claude Code itself (the scripted agent), so that workflows
written for Claude (`claude: /lint ${item.path}`) run unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from prodigy.core.provenance import Marked

_SLASH = re.compile(r"/([A-Za-z0-9_][\w.-]*(?::[A-Za-z0-9_][\w.-]*)*)(?:[ \t\r\n](.*))?\Z", re.S)
ARGUMENTS = "$ARGUMENTS"
# `$ARGUMENTS` is the whole argument text, `$1`, `$2`… its whitespace-separated words
_PLACEHOLDER = re.compile(r"\$ARGUMENTS|\$([1-9][0-9]?)")


def expand_marked(prompt: Marked, cwd: Path, home: Path | None = None) -> Marked:
    """`expand_slash_command` for a prompt that knows which of its text is data: the command
    name must be the workflow's own text; the arguments keep their data ranges wherever
    `$ARGUMENTS` puts them, and the command file itself is the repository's text."""
    match = _SLASH.match(prompt.text)
    if match is None or prompt.flags()[: match.end(1)].count(True):
        return prompt
    path = find_command(match.group(1), cwd, home)
    if path is None:
        return prompt
    raw = match.group(2) or ""
    start = match.start(2) if match.group(2) is not None else len(prompt.text)
    stripped = raw.strip()
    offset = start + (len(raw) - len(raw.lstrip()))
    flags = prompt.flags()[offset : offset + len(stripped)]
    arguments = Marked(stripped, _ranges(flags))
    return _fill(strip_frontmatter(path.read_text(encoding="utf-8")), arguments)


def _ranges(flags: list[bool]) -> tuple[tuple[int, int], ...]:
    ranges: list[tuple[int, int]] = []
    for i, flag in enumerate(flags):
        if not flag:
            continue
        if ranges and ranges[-1][1] == i:
            ranges[-1] = (ranges[-1][0], i + 1)
        else:
            ranges.append((i, i + 1))
    return tuple(ranges)


def expand_slash_command(prompt: str, cwd: Path, home: Path | None = None) -> str:
    """The command file's text with `$ARGUMENTS` filled in, or `prompt` unchanged.

    A prompt is a slash command when it starts with `/name`; `name` is looked up in
    `.claude/commands/` of `cwd` and its ancestors up to the repository root, then of `home`.
    `/dir:name` means `.claude/commands/dir/name.md`, as in Claude Code.
    """
    match = _SLASH.match(prompt)
    if match is None:
        return prompt
    path = find_command(match.group(1), cwd, home)
    if path is None:
        return prompt
    return render_command(path.read_text(encoding="utf-8"), (match.group(2) or "").strip())


def find_command(name: str, cwd: Path, home: Path | None = None) -> Path | None:
    """The `.md` file defining `/name`, nearest directory first, or None."""
    *folders, stem = name.split(":")
    relative = Path(".claude", "commands", *folders, f"{stem}.md")
    roots = list(_repo_dirs(cwd))
    if home is not None:
        roots.append(home)
    return next((root / relative for root in roots if (root / relative).is_file()), None)


def _repo_dirs(cwd: Path) -> Iterator[Path]:
    """`cwd` and its ancestors up to the one holding `.git`; only `cwd` outside a repository."""
    start = cwd.resolve()
    chain = [start, *start.parents]
    for index, directory in enumerate(chain):
        if (directory / ".git").exists():
            yield from chain[: index + 1]
            return
    yield start


def render_command(text: str, arguments: str) -> str:
    """Command file text without its `---` frontmatter, `$ARGUMENTS` and `$1`, `$2`… replaced.

    `$N` is the Nth whitespace-separated word of the arguments, '' if there are fewer.
    """
    return _fill(strip_frontmatter(text), Marked(arguments)).text


def _fill(template: str, arguments: Marked) -> Marked:
    """`template` (trusted text) with its placeholders replaced, keeping the data ranges."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", arguments.text)]
    parts: list[str] = []
    ranges: list[tuple[int, int]] = []
    position = 0

    def add(text: str, data: tuple[tuple[int, int], ...] = ()) -> None:
        nonlocal position
        parts.append(text)
        ranges.extend((start + position, end + position) for start, end in data)
        position += len(text)

    last = 0
    for match in _PLACEHOLDER.finditer(template):
        add(template[last : match.start()])
        last = match.end()
        if match.group(1) is None:
            add(arguments.text, arguments.data)
            continue
        number = int(match.group(1))
        if number <= len(words):
            start, end = words[number - 1]
            add(arguments.text[start:end], _clip(arguments.data, start, end))
    add(template[last:])
    return Marked("".join(parts), tuple(ranges))


def _clip(data: tuple[tuple[int, int], ...], start: int, end: int) -> tuple[tuple[int, int], ...]:
    """The parts of `data` inside [start, end), relative to `start`."""
    return tuple(
        (max(s, start) - start, min(e, end) - start) for s, e in data if s < end and e > start
    )


def strip_frontmatter(text: str) -> str:
    """Drop a leading `---` ... `---` block (Claude's command metadata), if there is one."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return text
    for index in range(1, len(lines)):
        if lines[index].rstrip() == "---":
            return "\n".join(lines[index + 1 :]).lstrip("\n")
    return text
