"""`prodigy init`: install prodigy's Claude command files into a project."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from prodigy.core.errors import UsageError

_PACKAGE = "prodigy.app.claude_commands"


def available_commands() -> dict[str, str]:
    """Name -> text of every command file shipped with prodigy."""
    root = resources.files(_PACKAGE)
    return {
        entry.name.removesuffix(".md"): entry.read_text(encoding="utf-8")
        for entry in sorted(root.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".md")
    }


@dataclass
class InitReport:
    directory: Path
    installed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)


def install_commands(target: Path, *, names: list[str] | None, force: bool) -> InitReport:
    """Write the chosen command files to target/.claude/commands; never clobber without force."""
    if not target.is_dir():
        raise UsageError(f"{target}: no such directory")
    shipped = available_commands()
    selected = names or list(shipped)
    unknown = [n for n in selected if n not in shipped]
    if unknown:
        raise UsageError(
            f"unknown command(s): {', '.join(unknown)}; available: {', '.join(shipped)}"
        )
    directory = target / ".claude" / "commands"
    directory.mkdir(parents=True, exist_ok=True)
    report = InitReport(directory=directory)
    for name in selected:
        path = directory / f"{name}.md"
        existed = path.exists()
        if existed and not force:
            report.skipped.append(name)
            continue
        tmp = path.with_suffix(".md.tmp")
        tmp.write_text(shipped[name], encoding="utf-8")
        tmp.replace(path)
        (report.overwritten if existed else report.installed).append(name)
    return report
