"""The scripted agent's directive language: parsing, errors with line numbers, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    format_directive,
    parse_directives,
    parse_script,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@write a.txt hello", [WriteFile("a.txt", "hello\n")]),
        ("@write dir/a.txt  two  spaces ", [WriteFile("dir/a.txt", " two  spaces \n")]),
        ("@write empty.txt", [WriteFile("empty.txt", "")]),
        ("@write a.txt <<EOF\none\n\n  three\nEOF", [WriteFile("a.txt", "one\n\n  three\n")]),
        ("@write a.txt <<END\nEOF\nEND", [WriteFile("a.txt", "EOF\n")]),
        ("@write a.txt <<EOF\nEOF", [WriteFile("a.txt", "")]),
        ("@write a.txt see <<EOF", [WriteFile("a.txt", "see <<EOF\n")]),
        ("@append log.txt more", [AppendFile("log.txt", "more\n")]),
        ("@append log.txt <<EOF\nx\nEOF", [AppendFile("log.txt", "x\n")]),
        ("@run make test && echo ok", [RunCommand("make test && echo ok")]),
        ("@run <<SH\nset -e\necho $HOME\nSH", [RunCommand("set -e\necho $HOME")]),
        ("@commit fix: the thing", [Commit("fix: the thing")]),
        ("@commit", [Commit("scripted commit")]),
        ("@print all done", [PrintText("all done")]),
        ("@print", [PrintText("")]),
        ("@print <<EOF\na\nb\nEOF", [PrintText("a\nb")]),
        ("@fail 3 tests broke", [Fail(3, "tests broke")]),
        ("@fail", [Fail(1, "")]),
        ("@fail 255", [Fail(255, "")]),
        ("@sleep 0.25", [Sleep(0.25)]),
        ("@sleep 0", [Sleep(0.0)]),
        ("@flaky build-1 2", [Flaky("build-1", 2)]),
        ("@write a x\r\n@commit m\r\n", [WriteFile("a", "x\n"), Commit("m")]),
    ],
)
def test_parse_table(text: str, expected: list[Directive]) -> None:
    assert parse_directives(text) == expected


def test_prose_lines_are_not_directives_and_become_the_prose() -> None:
    script = parse_script(
        "Fix the bug in parser.py.\n"
        "  @write indented.txt is prose, directives start in column 1\n"
        "@dataclass decorators and @src/file.py mentions are prose too\n"
        "@src/main.py\n"
        "email me@example.com\n"
        "@print done\n"
    )
    assert script.directives == (PrintText("done"),)
    assert script.prose.startswith("Fix the bug in parser.py.\n  @write indented.txt")
    assert "@src/main.py" in script.prose
    assert "@print" not in script.prose


def test_a_prompt_without_directives_parses_to_nothing() -> None:
    script = parse_script("/prodigy-lint src/foo.py\n")
    assert script.directives == ()
    assert script.prose == "/prodigy-lint src/foo.py"


def test_directives_carry_their_line_numbers() -> None:
    directives = parse_directives("intro\n@write a <<EOF\nx\nEOF\n@commit c\n")
    assert [d.line for d in directives] == [2, 5]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("ok\n@wrte a.txt hi", 2, "did you mean @write?"),
        ("@Commit msg", 1, "did you mean @commit?"),
        ("@write", 1, "@write needs a path"),
        ("@append", 1, "@append needs a path"),
        ("x\n\n@write a <<EOF\nno end", 3, "no line 'EOF' ends it"),
        ("@run", 1, "@run needs a command"),
        ("@run   ", 1, "@run needs a command"),
        ("@fail 0 nope", 1, "exit code 1-255"),
        ("@fail 256", 1, "exit code 1-255"),
        ("@fail oops", 1, "exit code 1-255"),
        ("@sleep soon", 1, "@sleep needs seconds"),
        ("@sleep -1", 1, "@sleep needs seconds"),
        ("@sleep nan", 1, "@sleep needs seconds"),
        ("@flaky key", 1, "@flaky needs a key"),
        ("@flaky ../x 1", 1, "@flaky needs a key"),
        ("@flaky k -1", 1, "@flaky needs a key"),
    ],
)
def test_errors_name_the_line_and_the_fix(text: str, line: int, fragment: str) -> None:
    with pytest.raises(DirectiveError) as caught:
        parse_directives(text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"prompt line {line}: ")
    assert fragment in str(caught.value)


paths = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,20}", fullmatch=True)
no_cr = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r"), max_size=40)
file_contents = st.one_of(
    st.just(""),
    st.lists(no_cr.map(lambda s: s.replace("\n", "")), min_size=1).map(
        lambda lines: "".join(f"{line}\n" for line in lines)
    ),
)


@given(paths, file_contents, st.booleans())
def test_write_content_round_trips(path: str, content: str, append: bool) -> None:
    directive: Directive = AppendFile(path, content) if append else WriteFile(path, content)
    text = format_directive(directive)
    assert parse_directives(text) == [directive]
    # and still round-trips with prose and other directives around it
    assert parse_directives(f"Do this:\n{text}\n@commit done\n") == [directive, Commit("done")]


@given(no_cr)
def test_print_text_round_trips(text: str) -> None:
    assert parse_directives(format_directive(PrintText(text))) == [PrintText(text)]


@pytest.mark.parametrize(
    "directive",
    [
        RunCommand("echo 'hi' > out.txt"),
        RunCommand("  <<EOF"),
        Commit("a message"),
        Fail(4, "why"),
        Fail(1, ""),
        Sleep(1.5),
        Flaky("k", 0),
    ],
)
def test_other_directives_round_trip(directive: Directive) -> None:
    assert parse_directives(format_directive(directive)) == [directive]


def test_describe_is_one_line() -> None:
    assert describe(WriteFile("a.txt", "x\n")) == "@write a.txt x"
    assert describe(WriteFile("a.txt", "x\ny\nz\n")) == "@write a.txt <<EOF (3 lines)"
    assert describe(Commit("msg")) == "@commit msg"


def test_format_rejects_content_that_no_directive_can_write() -> None:
    with pytest.raises(ValueError, match="end with a newline"):
        format_directive(WriteFile("a", "no newline"))
