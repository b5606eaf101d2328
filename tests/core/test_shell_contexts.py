"""Every bash context a placeholder can stand in, checked through real `bash -c` (issue 12).

Property: for any value (hostile fragments such as `a[$(touch pwned)]`, `$(...)`, backticks,
quotes, newlines; integers; names; random text), a placeholder either arrives in the
command literally, or, where bash evaluates the text (arithmetic, variable names), the
value is refused unless it is an integer (resp. a name), and then the command behaves
exactly as if the value had been typed into the script. Nothing ever runs.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prodigy.core.shell_contexts import Need, scan
from prodigy.core.shellsafe import ShellCommand, UnsafeSubstitutionError, interpolate_shell
from prodigy.core.variables import Scope

# Contexts where the value must arrive literally: (template, what it prints for value v).
LITERAL = [
    ("printf '%s' ${x}", "{v}"),
    ("printf '%s' \"${x}\"", "{v}"),
    ("printf '%s' '${x}'", "{v}"),
    ("printf '%s' $'${x}'", "{v}"),
    ("printf '%s' $\"${x}\"", "{v}"),
    ("printf '%s' \"$(printf '%s' ${x}; printf .)\"", "{v}."),
    ("printf '%s' \"`printf '%s' ${x}; printf .`\"", "{v}."),
    ("cat <<< ${x}", "{v}\n"),
    ('cat <<< "${x}" | cat', "{v}\n"),
    ('cat<<<"${x}"', "{v}\n"),
    ("read -r a b <<< \"$(printf '1 2')\"\nprintf '%s' \"x ${x}\"", "x {v}"),
    ("cat <<EOF\n${x}\nEOF", "{v}\n"),
    ("cat <<-EOF\n\t${x}\n\tEOF", "{v}\n"),
    ("cat <<EOF\n$(printf '%s' ${x}; printf .)\nEOF", "{v}.\n"),
    ("cat <<'EOF'\n${x}\nEOF", "{v}\n"),
    ("cat <<\"EOF\"\n${x}\nEOF\nprintf '%s' ${x}", "{v}\n{v}"),
    ("cat <<\\EOF\n${x}\nEOF", "{v}\n"),
    ("cat <<A; cat <<'B'\n${x}\nA\n${x}\nB", "{v}\n{v}\n"),
    ("u=; printf '%s' \"${u/#/${x}}\"", "{v}"),
    ("u=1; printf '%s' \"${u:+${x}}\"", "{v}"),
    ("s=abc; printf '%s' \"${s#${x}}\"", "{strip_abc}"),
    ("v=${x}; printf '%s' \"$v\"", "{v}"),
    ("declare v=${x}; printf '%s' \"$v\"", "{v}"),
    ("f() { local v=${x}; printf '%s' \"$v\"; }; f", "{v}"),
    ("export V2=${x}; printf '%s' \"$V2\"", "{v}"),
    ("printf -v v '%s' ${x}; printf '%s' \"$v\"", "{v}"),
    ("printf '%s' a[${x}]", "a[{v}]"),
    ("case ${x} in *) printf '%s' \"${x}\";; esac", "{v}"),
    ("y=$(case a in a) printf '%s' ${x};; esac); printf '%s' \"$y\"", "{v_stripped}"),
    ('[[ ${x} == "${x}" ]] && printf same', "same"),
    ("[ ${x} -eq 1 ] 2>/dev/null; printf '%s' ${x}", "{v}"),
    ("{ printf '%s' ${x}; } 2>&1", "{v}"),
    ("printf '%s' ${x} >&2 2>&1", ""),
    (": # a comment ${x} $(touch pwned)\nprintf '%s' ${x}", "{v}"),
    ("if true; then printf '%s' ${x}; fi", "{v}"),
]

# Contexts where bash evaluates the text: only an integer (or a name) is data.
EVALUATED = [
    ("printf '%s' $(( ${x} + 1 ))", Need.INTEGER),
    ("printf '%s' \"$(( ${x} + 1 ))\"", Need.INTEGER),
    ("printf '%s' $[ ${x} + 1 ]", Need.INTEGER),
    ("(( ${x} >= 0 )) && printf y || printf n", Need.INTEGER),
    ("for ((i = 0; i < ${x} && i < 3; i++)); do printf .; done", Need.INTEGER),
    ("s=0123456789; printf '%s' ${s:${x}:2}", Need.INTEGER),
    ("s=0123456789; printf '%s' \"${s:0:${x}}\"", Need.INTEGER),
    ("set -- a b c; printf '%s' \"${@:${x}}\"", Need.INTEGER),
    ("a=(p q r); printf '%s' \"${a[${x}]}\"", Need.INTEGER),
    ("a=(p q r); printf '%s' \"${a[@]:${x}}\"", Need.INTEGER),
    ("a[${x}]=v; printf '%s' \"${a[*]}\"", Need.INTEGER),
    ('a["${x}"]=v; printf \'%s\' "${a[*]}"', Need.INTEGER),
    ("a=([${x}]=v); printf '%s' \"${a[*]}\"", Need.INTEGER),
    ("let v=${x}+1; printf '%s' $v", Need.INTEGER),
    ("declare -i v=${x}; printf '%s' $v", Need.INTEGER),
    ("f() { local -i v=\"${x}\"; printf '%s' $v; }; f", Need.INTEGER),
    ("[[ ${x} -eq 5 ]] && printf eq || printf ne", Need.INTEGER),
    ('[[ "${x}" -lt 5 ]] && printf lt || printf ge', Need.INTEGER),
    ("cat <<EOF\n$(( ${x} * 2 ))\nEOF", Need.INTEGER),
    ("printf '%s' \"$(printf '%s' $(( ${x} )))\"", Need.INTEGER),
    ("read -r ${x} <<< hi; declare -p ${x}", Need.NAME),
    ("printf -v ${x} '%s' hi; declare -p ${x}", Need.NAME),
    ("declare ${x}=1; printf ok", Need.NAME),
    ("f() { local ${x}; printf ok; }; f", Need.NAME),
    ("[[ -v ${x} ]] && printf set || printf unset", Need.NAME),
    ("test -v ${x} && printf set || printf unset", Need.NAME),
    ('[ -v "${x}" ] && printf set || printf unset', Need.NAME),
    ("mapfile -t ${x} < /dev/null; printf ok", Need.NAME),
]

HOSTILE = [
    "a[$(touch pwned1)]",
    "x[`touch pwned2`]",
    "$(touch pwned3)",
    "`touch pwned4`",
    "'; touch pwned5; '",
    '"; touch pwned6; "',
    "\ntouch pwned7\n",
    "EOF",
    "\nEOF\ntouch pwned8\n",
    "B",
    "$((1+$(touch pwned9)))",
    "${IFS}",
    "\\",
    "*",
    "}",
    "]",
    "1",
    "-3",
    "name_1",
    "\t",
]


def values() -> st.SearchStrategy[str]:
    text = st.text(
        st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12
    )
    fragment = st.one_of(st.sampled_from(HOSTILE), text)
    return st.one_of(
        st.lists(fragment, min_size=1, max_size=4).map("".join),
        st.integers(-(2**40), 2**40).map(str),
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
    )


def bash(command: ShellCommand, cwd: Path) -> tuple[int, bytes]:
    done = subprocess.run(
        ["bash", "-c", command.script],
        env={**os.environ, **command.env},
        cwd=cwd,
        capture_output=True,
        timeout=20,
        check=False,
    )
    return done.returncode, done.stdout


def expected(shape: str, value: str) -> str:
    if shape == "{strip_abc}":  # a quoted pattern: removed only as a literal prefix
        return "abc"[len(value) :] if "abc".startswith(value) else "abc"
    return shape.format(v=value, v_stripped=value.rstrip("\n"))


def is_quoted_heredoc(template: str) -> bool:
    return any(op in template for op in ("<<'", '<<"', "<<\\"))


@settings(
    max_examples=int(os.environ.get("SHELL_CONTEXT_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=values())
def test_every_context_keeps_values_literal_or_refuses_them(
    value: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    sandbox = tmp_path_factory.mktemp("sandbox")
    scope = Scope({"x": value})
    for template, shape in LITERAL:
        if "<<-" in template and ("\n" in value or value.startswith("\t")):
            continue  # <<- strips the leading tabs of every line, values included
        try:
            command = interpolate_shell(template, scope)
        except UnsafeSubstitutionError:
            # only a value that would end a quoted here-document early is refused here
            assert is_quoted_heredoc(template), (template, value)
            assert "\n" in value or value in ("EOF", "B"), (template, value)
            continue
        assert bash(command, sandbox) == (0, expected(shape, value).encode()), (
            template,
            value,
            command.script,
        )
    for template, need in EVALUATED:
        conforms = re.fullmatch(
            r"-?[0-9]+" if need is Need.INTEGER else r"[A-Za-z_][A-Za-z0-9_]*", value
        )
        try:
            command = interpolate_shell(template, scope)
        except UnsafeSubstitutionError as refused:
            assert not conforms, (template, value)
            assert "only " in str(refused) and "${x}" in str(refused), str(refused)  # noqa: PT017 - in a loop over cases
            continue
        assert conforms, (template, value, command.script)
        # Typed into the script, a number or a name is safe; `: -3` keeps `${s: -3}` an offset.
        reference = ShellCommand(template.replace(":${x}", ": ${x}").replace("${x}", value))
        assert bash(command, sandbox) == bash(reference, sandbox), (template, value)
    assert sorted(p.name for p in sandbox.iterdir()) == [], value


def test_the_scanner_names_the_context_of_each_evaluated_spot() -> None:
    for template, need in EVALUATED:
        [site] = [s for s in scan(template).sites if s.placeholder.text == "${x}"][:1]
        assert site.need is need and site.where, template
    for template, _ in LITERAL:
        assert all(s.need is Need.TEXT for s in scan(template).sites), template


def test_refusal_names_the_placeholder_and_the_context() -> None:
    with pytest.raises(UnsafeSubstitutionError, match=r"\$\{x\} stands in a substring offset"):
        interpolate_shell('echo "${s:0:${x}}"', Scope({"x": "a[$(touch pwned)]"}))
    with pytest.raises(UnsafeSubstitutionError, match=r"read NAME.*only a variable name"):
        interpolate_shell("read -r ${x}", Scope({"x": "a[$(touch pwned)]"}))


def test_values_combining_into_the_delimiter_of_a_quoted_heredoc_are_refused() -> None:
    scope = Scope({"a": "E", "b": "OF"})
    with pytest.raises(UnsafeSubstitutionError, match="end the here-document early"):
        interpolate_shell("cat <<'EOF'\n${a}${b}\ntouch pwned\nEOF", scope)
    assert "EOF" in interpolate_shell("cat <<'EOF'\nx ${a}${b}\nEOF", scope).script
