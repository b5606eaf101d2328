"""Shell-safe substitution, checked by running the commands through real `bash -c`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from prodigy.core.errors import StepFailedError
from prodigy.core.shellsafe import ShellCommand, UnsafeSubstitutionError, interpolate_shell
from prodigy.core.variables import Scope, item_values, map_values


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox")


def hostile_fragments(sandbox: Path) -> list[str]:
    return [
        f"$(touch {sandbox}/pwned1)",
        f"`touch {sandbox}/pwned2`",
        f"'; touch {sandbox}/pwned3; '",
        f'" && touch {sandbox}/pwned4 #',
        f"\ntouch {sandbox}/pwned5\n",
        f"$'\\n'; touch {sandbox}/pwned6",
        f"$((1+$(touch {sandbox}/pwned7)))",
        "${IFS}",
        "$HOME",
        "${item.other}",
        "%s",
        "-n",
        "\\",
        "'",
        '"',
        ";",
        "|",
        "&&",
        "*",
        "EOF",
        "\u05d0\u05d1 e\u0301 \u00e9 \U0001f600",
    ]


def values(sandbox: Path) -> st.SearchStrategy[str]:
    text = st.text(
        st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=30
    )
    fragment = st.one_of(st.sampled_from(hostile_fragments(sandbox)), text)
    return st.lists(fragment, max_size=6).map("".join)


def run(command: ShellCommand, cwd: Path) -> bytes:
    result = subprocess.run(
        ["bash", "-c", command.script],
        env={**os.environ, **command.env},
        cwd=cwd,
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_template(template: str, scope: Scope, cwd: Path) -> bytes:
    return run(interpolate_shell(template, scope), cwd)


def item_scope(value: str) -> Scope:
    return Scope(item_values({"x": value, "other": "OTHER"}, 0))


TEMPLATES = [
    "printf '%s' ${item.x}",
    "printf '%s' \"${item.x}\"",
    "printf '%s' '${item.x}'",
    "printf '%s' $'${item.x}'",
    "printf '%s' \"$(printf '%s' ${item.x})\"",
    "printf '%s' \"`printf '%s' ${item.x}`\"",
    "printf '%s' pre${item.x}post | cut -c4- | rev | cut -c5- | rev | tr -d '\\n'",
    "v=${item.x}; printf '%s' \"$v\"",
    "printf '%s' \"$(cat <<EOF\n${item.x}\nEOF\n)\"",
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_values_reach_the_command_literally_and_never_run(
    data: st.DataObject, sandbox: Path
) -> None:
    value = data.draw(values(sandbox))
    for template in TEMPLATES[:4]:
        assert run_template(template, item_scope(value), sandbox) == value.encode(), template
    assert list(sandbox.iterdir()) == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_nested_contexts_keep_values_literal(data: st.DataObject, sandbox: Path) -> None:
    value = data.draw(values(sandbox).filter(lambda v: "\n" not in v))
    for template in TEMPLATES[4:]:
        assert run_template(template, item_scope(value), sandbox) == value.encode(), template
    assert list(sandbox.iterdir()) == []


STATEMENTS = [
    "printf '%s|' ${x}",
    "printf '%s|' \"a ${x} b\"",
    "printf '%s|' 'a ${x} b'",
    "printf '%s|' $'a\\t${x}'",
    "printf '%s|' \"$(printf '%s.' \"${x}\")\"",
    "printf '%s|' pre${x}\"mid\"'${x}'",
    "cat <<EOF\n${x} \\$HOME\nEOF",
    "cat <<'EOF'\n${x} $HOME\nEOF",
    ": # a comment ${x} 'unbalanced",
    "case ${x} in (*) printf '%s|' \"${x}\";; esac",
]
MARKER = "QQ1Z"


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_safe_output_equals_textual_output_with_the_value_swapped_in(
    data: st.DataObject, sandbox: Path
) -> None:
    # Differential check of the lexer: a harmless marker spliced as text gives the reference
    # output; the shell-safe command with a hostile value must print the same with the value.
    template = "\n".join(data.draw(st.lists(st.sampled_from(STATEMENTS), min_size=1)))
    value = data.draw(values(sandbox))
    try:
        safe = interpolate_shell(template, Scope({"x": value}))
    except UnsafeSubstitutionError:
        assume("cat <<'EOF'" in template and "EOF" in value)
        return
    reference = run(interpolate_shell(template, Scope({"x": MARKER}), trusted=True), sandbox)
    assert run(safe, sandbox) == reference.replace(MARKER.encode(), value.encode())
    assert list(sandbox.iterdir()) == []


def test_placeholder_references_by_context() -> None:
    command = interpolate_shell(
        "a ${item.x} \"b ${item.x}\" 'c ${item.x}' $'d ${item.x}'", item_scope("v")
    )
    assert command.script == (
        "a \"$PRODIGY_V_0\" \"b ${PRODIGY_V_0}\" 'c '\"$PRODIGY_V_0\"'' $'d '\"$PRODIGY_V_0\"$''"
    )
    assert dict(command.env) == {"PRODIGY_V_0": "v"}


def test_env_names_are_deterministic_and_avoid_the_authors_names() -> None:
    scope = Scope({"a": "1", "b": "2", "c": "1"})
    command = interpolate_shell("echo $a $b $c", scope)
    assert command.script == 'echo "$PRODIGY_V_0" "$PRODIGY_V_1" "$PRODIGY_V_0"'
    clash = interpolate_shell("echo $a $PRODIGY_V_0", scope)
    assert clash.script == 'echo "$PRODIGY_V1_0" $PRODIGY_V_0'
    assert dict(clash.env) == {"PRODIGY_V1_0": "1"}


def test_structured_values_are_passed_as_json(tmp_path: Path) -> None:
    scope = Scope(map_values(total=1, successful=1, failed=0, results=[{"output": "it's $(done)"}]))
    out = run_template("printf '%s' '${map.results}' ${map.total}", scope, tmp_path)
    assert out == b'[{"output":"it\'s $(done)"}]1'


def test_heredoc_with_unquoted_delimiter(tmp_path: Path) -> None:
    value = "line1 `id` $(id)\nEOF\nline3 \\ $HOME"
    out = run_template("cat <<EOF\n${item.x}\nEOF\nprintf done", item_scope(value), tmp_path)
    assert out == value.encode() + b"\ndone"


def test_heredoc_with_tab_stripping(tmp_path: Path) -> None:
    out = run_template("cat <<-END\n\t${item.x}\n\tEND\n", item_scope("a 'b'"), tmp_path)
    assert out == b"a 'b'\n"


def test_two_heredocs_on_one_line(tmp_path: Path) -> None:
    scope = Scope({"a": "A'x", "b": "B $(id)"})
    template = "cat <<X; cat <<'Y'\n${a}\nX\n${b}\nY\nprintf '%s' ${b}"
    assert run_template(template, scope, tmp_path) == b"A'x\nB $(id)\nB $(id)"


def test_quoted_heredoc_is_literal_text(tmp_path: Path) -> None:
    template = "cat <<'EOF'\n${item.x} $HOME ${nope}\nEOF\n"
    out = run_template(template, item_scope("$(id) 'q'"), tmp_path)
    assert out == b"$(id) 'q' $HOME ${nope}\n"


def test_quoted_heredoc_refuses_a_value_that_would_end_it() -> None:
    with pytest.raises(UnsafeSubstitutionError, match="here-document"):
        interpolate_shell("cat <<'EOF'\n${item.x}\nEOF\n", item_scope("a\nEOF\nrm -rf x"))


def test_arithmetic_accepts_only_integers(tmp_path: Path) -> None:
    scope = Scope({"n": 41, "bad": "a[$(touch pwned)]"})
    assert run_template("printf '%s' $(( ${n} + 1 ))", scope, tmp_path) == b"42"
    with pytest.raises(UnsafeSubstitutionError, match=r"\$\(\(\.\.\.\)\)") as caught:
        interpolate_shell("echo $(( ${bad} + 1 ))", scope)
    assert isinstance(caught.value, StepFailedError)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "template",
    [
        "(( ${bad} > 1 ))",
        "if [[ ${bad} -eq 1 ]]; then :; fi",
        'x=1; [[ $x == 1 && "${bad}" -lt 2 ]]',
    ],
)
def test_arithmetic_commands_and_numeric_tests_accept_only_integers(template: str) -> None:
    scope = Scope({"bad": "a[$(touch pwned)]"})
    with pytest.raises(UnsafeSubstitutionError, match="arithmetic"):
        interpolate_shell(template, scope)


def test_numeric_and_string_tests_work(tmp_path: Path) -> None:
    scope = Scope({"n": 5, "s": "a b $(touch pwned)"})
    template = (
        "(( ${n} > 3 )) && printf big; [[ ${n} -ge 5 ]] && printf ' ge';"
        " [[ ${s} == 'a b $(touch pwned)' ]] && printf ' same'"
    )
    assert run_template(template, scope, tmp_path) == b"big ge same"
    assert not (tmp_path / "pwned").exists()


def test_large_values_travel_through_files(tmp_path: Path) -> None:
    value = ("x $(touch pwned) 'q'\n" * 60_000) + "\n\n"  # 1.3 MB, trailing newlines kept
    command = interpolate_shell(
        "printf '%s' '${item.x}' | wc -c; printf '%s' ${n}", item_scope(value).with_values(n="7")
    )
    assert list(command.files) == ["PRODIGY_V_0"]
    assert dict(command.env) == {"PRODIGY_V_1": "7"}
    env = dict(command.env)
    for name, content in command.files.items():  # what the runner does
        (tmp_path / name).write_text(content, encoding="utf-8")
        env[f"{name}_FILE"] = str(tmp_path / name)
    out = run(ShellCommand(command.script, env), tmp_path)
    assert out.split() == [str(len(value.encode())).encode(), b"7"]
    assert not (tmp_path / "pwned").exists()


def test_nul_byte_is_refused_with_a_fix() -> None:
    with pytest.raises(UnsafeSubstitutionError, match="NUL byte"):
        interpolate_shell("echo ${item.x}", item_scope("a\0b"))


def test_comments_escapes_undefined_and_shell_forms_stay_verbatim(tmp_path: Path) -> None:
    template = (
        "printf '%s|' \\${item.x} ${nope} \"$1\" $$HOME ${arr[0]:-d} ${HOME:-/x}"
        " # ${item.x} $(touch pwned)\n"
        "awk 'BEGIN{printf \"%s\", $1}' </dev/null"
    )
    command = interpolate_shell(template, item_scope("v"))
    assert command.script == template.replace("${arr[0]:-d}", "d").replace("${HOME:-/x}", "/x")
    assert command.env == {}


def test_bare_defined_names_are_substituted_safely(tmp_path: Path) -> None:
    scope = Scope({"ARG": "a b; touch pwned", "area": "x"})
    out = run_template("printf '%s|' $ARG \"$ARG\" $HOME_NOT_A_VAR", scope, tmp_path)
    assert out == b"a b; touch pwned|a b; touch pwned|"
    assert not (tmp_path / "pwned").exists()


def test_default_text_is_workflow_code(tmp_path: Path) -> None:
    out = run_template("printf '%s' ${missing:-'a  b'}", Scope(), tmp_path)
    assert out == b"a  b"


def test_trusted_opt_out_splices_shell_code(tmp_path: Path) -> None:
    scope = Scope({"cmd": "printf '%s' one; printf '%s' two"})
    command = interpolate_shell("${cmd}", scope, trusted=True)
    assert command == ShellCommand("printf '%s' one; printf '%s' two")
    assert run(command, tmp_path) == b"onetwo"
    untrusted = interpolate_shell("${cmd}", scope)
    result = subprocess.run(
        ["bash", "-c", untrusted.script],
        env={**os.environ, **untrusted.env},
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (127, b"")  # one word: no such command


def test_text_that_cannot_be_an_environment_value_is_refused() -> None:
    with pytest.raises(UnsafeSubstitutionError, match="UTF-8"):
        interpolate_shell("echo ${item.x}", item_scope("bad \ud800 surrogate"))
