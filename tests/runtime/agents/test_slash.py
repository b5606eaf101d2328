"""Slash-command expansion from .claude/commands, as Claude Code does it."""

from __future__ import annotations

from pathlib import Path

from tests.support.repos import make_repo

from prodigy.core.provenance import Marked
from prodigy.runtime.agents.slash import expand_marked, expand_slash_command, strip_frontmatter


def command(root: Path, name: str, text: str) -> Path:
    path = root / ".claude" / "commands" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_expands_with_arguments_and_strips_frontmatter(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    command(
        repo,
        "lint",
        "---\ndescription: Lint one file\nallowed-tools: Bash\n---\n\nLint $ARGUMENTS now.\n"
        "Then report on $ARGUMENTS.\n",
    )
    assert expand_slash_command("/lint src/a.py --fix", repo) == (
        "Lint src/a.py --fix now.\nThen report on src/a.py --fix.\n"
    )


def test_positional_arguments_are_words_and_missing_ones_are_empty(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    command(repo, "move", "Move $1 to $2 ($3), all: $ARGUMENTS")
    assert expand_slash_command("/move a.py  b.py", repo) == (
        "Move a.py to b.py (), all: a.py  b.py"
    )


def test_positional_arguments_that_are_values_stay_data(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    command(repo, "fix", "@run lint $1\n@print done with $ARGUMENTS")
    prompt = Marked("/fix src/a.py --fast", ((5, 13),))  # the path came from ${item}

    expanded = expand_marked(prompt, repo)

    assert expanded.text == "@run lint src/a.py\n@print done with src/a.py --fast"
    assert [expanded.text[s:e] for s, e in expanded.data] == ["src/a.py", "src/a.py"]


def test_found_from_a_subdirectory_up_to_the_repository_root(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    command(repo, "fix", "fix $ARGUMENTS")
    command(tmp_path, "outside", "above the repository")
    sub = repo / "pkg" / "mod"
    sub.mkdir(parents=True)
    assert expand_slash_command("/fix it", sub) == "fix it"
    assert expand_slash_command("/outside", sub) == "/outside"


def test_nearest_definition_wins_and_home_is_the_fallback(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    home = tmp_path / "home"
    command(repo, "both", "repo version")
    command(home, "both", "home version")
    command(home, "personal", "home only: $ARGUMENTS")
    assert expand_slash_command("/both", repo, home) == "repo version"
    assert expand_slash_command("/personal x", repo, home) == "home only: x"


def test_namespaced_commands_live_in_subfolders(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    command(repo, "team/review", "review $ARGUMENTS")
    assert expand_slash_command("/team:review pr-12", repo) == "review pr-12"


def test_other_prompts_are_used_as_they_are(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    command(repo, "lint", "lint")
    for prompt in ("/unknown arg", "please /lint", " /lint", "/lint-extra", "/", "//lint", ""):
        assert expand_slash_command(prompt, repo) == prompt


def test_multi_line_arguments_are_kept(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    command(repo, "do", "Task: $ARGUMENTS")
    assert expand_slash_command("/do first line\nsecond line", repo) == (
        "Task: first line\nsecond line"
    )


def test_frontmatter_needs_both_fences() -> None:
    assert strip_frontmatter("---\nunclosed: yes\nbody") == "---\nunclosed: yes\nbody"
    assert strip_frontmatter("no frontmatter\n---\n") == "no frontmatter\n---\n"
