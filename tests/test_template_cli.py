"""`prodigy template init|register|list|show|search|validate|delete`, run in-process."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import InProcessCli

GREET = """\
name: greet
parameters:
  required:
    - {name: who, type: string, description: who to greet}
commands:
  - shell: echo "hello ${who}" >> greet.txt && git add greet.txt && git commit -qm greet
"""


Template = Callable[..., tuple[int, str]]


@pytest.fixture
def template(cli: InProcessCli) -> Template:
    """`prodigy template ARGS` in process: the exit code and stdout+stderr as one text."""

    def call(*args: str | Path, stdin: str = "") -> tuple[int, str]:
        done = cli("template", *args, stdin=stdin)
        return done.code, done.output

    return call


@pytest.fixture
def registry() -> Path:
    return Path(os.environ["PRODIGY_HOME"]) / "templates"


@pytest.fixture
def greet(tmp_path: Path) -> Path:
    path = tmp_path / "greet.yml"
    path.write_text(GREET)
    return path


def test_register_writes_the_file_and_its_metadata(
    template: Template, greet: Path, registry: Path
) -> None:
    code, out = template("register", greet, "-d", "Say hello", "-t", "demo, text", "-a", "me")
    assert code == 0, out
    assert "Registered template 'greet'" in out
    assert "who (string, required) who to greet" in out
    assert (registry / "greet.yml").read_text() == GREET
    meta = json.loads((registry / "greet.meta.json").read_text())
    assert meta["tags"] == ["demo", "text"]
    assert (meta["author"], meta["version"], meta["description"]) == ("me", "1.0.0", "Say hello")
    assert sorted(p.name for p in registry.iterdir()) == ["greet.meta.json", "greet.yml"]


def test_list_show_and_search(template: Template, greet: Path) -> None:
    template("register", greet, "-d", "Say hello", "-t", "demo")
    code, out = template("list")
    assert code == 0 and "greet" in out and "Say hello" in out
    assert "No templates registered with tag 'x'" in template("list", "-t", "x")[1]
    assert "tags: demo" in template("list", "-l")[1]
    code, out = template("show", "greet")
    assert code == 0 and 'echo "hello ${who}"' in out
    assert "greet" in template("search", "HELLO")[1]
    assert "greet" in template("search", "-t", "demo")[1]
    assert "No template matches" in template("search", "-t", "hello")[1]


def test_same_name_needs_force(template: Template, greet: Path, registry: Path) -> None:
    template("register", greet)
    created = json.loads((registry / "greet.meta.json").read_text())["created_at"]
    code, out = template("register", greet)
    assert code == 2 and "--force" in out
    assert template("register", greet, "--force", "--version", "2.0.0")[0] == 0
    meta = json.loads((registry / "greet.meta.json").read_text())
    assert (meta["version"], meta["created_at"]) == ("2.0.0", created)


def test_delete_asks_unless_forced(template: Template, greet: Path, registry: Path) -> None:
    template("register", greet)
    code, out = template("delete", "greet", stdin="n\n")
    assert "Nothing deleted" in out
    assert (registry / "greet.yml").exists()
    assert template("delete", "greet", stdin="y\n")[0] == 0
    assert list(registry.iterdir()) == []
    code, out = template("show", "greet")
    assert code == 2 and "no template named 'greet'" in out


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", ""])
def test_names_that_are_not_plain_file_names_are_refused(
    template: Template, greet: Path, registry: Path, name: str
) -> None:
    code, out = template("register", greet, "-n", name)
    assert code == 2 and "template name" in out
    assert not registry.exists() or list(registry.iterdir()) == []


def test_invalid_template_is_not_registered(
    template: Template, tmp_path: Path, registry: Path
) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("name: bad\ncommands:\n  - shel: typo\n")
    code, out = template("register", bad)
    assert code == 2 and "not a valid template" in out
    assert not (registry / "bad.yml").exists()


def test_validate_reports_features_parameters_and_defaults(
    template: Template, tmp_path: Path
) -> None:
    path = tmp_path / "t.yml"
    path.write_text(GREET + "defaults:\n  who: world\n")
    code, out = template("validate", path)
    assert code == 0, out
    assert "Template is valid" in out
    assert "Features: parameters, defaults" in out
    assert "who: world" in out
    path.write_text("commands: {not: a list}\n")
    code, out = template("validate", path)
    assert code == 2 and "problem" in out


def test_init_writes_a_valid_starter_and_never_overwrites(
    template: Template, tmp_path: Path
) -> None:
    target = tmp_path / "templates"
    code, out = template("init", target)
    assert code == 0, out
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "refactor-example.yml"]
    assert template("validate", target / "refactor-example.yml")[0] == 0
    code, out = template("init", target)
    assert code == 2 and "already exist" in out
