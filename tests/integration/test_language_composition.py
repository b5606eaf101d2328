"""S18, S19 and the rest of composition through `prodigy run`, with real git and processes."""

from __future__ import annotations

from pathlib import Path

from tests.support.scenario import Scenario

S18 = """
name: s18-params
parameters:
  required:
    - name: target
      type: string
      description: file to create
  optional:
    - name: greeting
      type: string
      description: text to write
      default: hi
{defaults}commands:
  - shell: echo ${{greeting}} > ${{target}} && git add -A && git commit -qm param
    commit_required: true
"""


def _s18(sc: Scenario, *, defaults: bool) -> Path:
    block = "defaults:\n  target: default.txt\n" if defaults else ""
    return sc.workflow("s18" if defaults else "s18b", S18.format(defaults=block))


def test_s18a_defaults_and_parameter_default(sc: Scenario) -> None:
    run = sc.run(_s18(sc, defaults=True))
    assert run.code == 0, run
    assert sc.cat("master:default.txt") == "hi\n"


def test_s18b_cli_params_beat_defaults(sc: Scenario) -> None:
    run = sc.run(_s18(sc, defaults=True), "--param", "target=cli.txt", "--param", "greeting=yo")
    assert run.code == 0, run
    assert sc.cat("master:cli.txt") == "yo\n"
    assert "default.txt" not in sc.tree()


def test_s18c_missing_required_parameter_names_it_and_creates_nothing(sc: Scenario) -> None:
    run = sc.run(_s18(sc, defaults=False))
    assert run.code == 2, run
    assert "target" in run.output
    assert "required" in run.output
    assert sc.head("master") == sc.init_sha
    assert sc.session_worktrees() == []
    assert sc.session_rows() == 0


def test_s18d_required_parameter_from_the_cli(sc: Scenario) -> None:
    run = sc.run(_s18(sc, defaults=False), "--param", "target=c.txt")
    assert run.code == 0, run
    assert sc.cat("master:c.txt") == "hi\n"


def _commit_files(sc: Scenario, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = sc.repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    sc.git("add", "-A")
    sc.git("commit", "-qm", "workflows")


S19_FILES = {
    "workflows/base.yml": """name: base
commands:
  - shell: echo base >> trail.txt && git add trail.txt && git commit -qm base
    commit_required: true
""",
    "common.yml": """name: common
commands:
  - shell: echo common >> trail.txt && git add trail.txt && git commit -qm common
    commit_required: true
""",
    "s19a.yml": "name: s19-child\nextends: base\ncommands: []\n",
    "s19b.yml": """name: s19-import
imports:
  - path: common.yml
commands:
  - shell: echo own >> trail.txt
""",
}


def test_s19a_extends_inherits_the_base_commands(sc: Scenario) -> None:
    _commit_files(sc, S19_FILES)
    run = sc.prodigy("run", "s19a.yml", "-y")
    assert run.code == 0, run
    assert sc.cat("master:trail.txt") == "base\n"


def test_s19b_imported_commands_run_after_the_importers_own(sc: Scenario) -> None:
    _commit_files(sc, S19_FILES)
    run = sc.prodigy("run", "s19b.yml", "-y")
    assert run.code == 0, run
    assert sc.cat("master:trail.txt") == "own\ncommon\n"


def test_param_file_json_and_yaml_with_the_cli_winning(sc: Scenario) -> None:
    wf = _s18(sc, defaults=False)
    (sc.wf / "p.json").write_text('{"target": "json.txt", "greeting": "from-json"}')
    run = sc.run(wf, "--param-file", str(sc.wf / "p.json"))
    assert run.code == 0, run
    assert sc.cat("master:json.txt") == "from-json\n"
    (sc.wf / "p.yml").write_text("target: yaml.txt\ngreeting: from-yaml\n")
    run = sc.run(wf, "--param-file", str(sc.wf / "p.yml"), "--param", "greeting=cli")
    assert run.code == 0, run
    assert sc.cat("master:yaml.txt") == "cli\n"


def test_extends_cycle_is_a_clear_error_before_anything_runs(sc: Scenario) -> None:
    (sc.wf / "a.yml").write_text("name: a\nextends: b\ncommands: []\n")
    (sc.wf / "b.yml").write_text("name: b\nextends: a\ncommands:\n  - shell: touch ran\n")
    run = sc.run(sc.wf / "a.yml")
    assert run.code == 2, run
    assert "circular" in run.output
    assert "a.yml -> b.yml -> a.yml" in run.output
    assert sc.session_rows() == 0
    assert sc.session_worktrees() == []


def test_import_alias_merges_nothing_and_says_so(sc: Scenario) -> None:
    (sc.wf / "lib.yml").write_text("name: lib\ncommands:\n  - shell: echo lib >> t.txt\n")
    wf = sc.workflow(
        "alias",
        """
        name: alias
        imports:
          - path: lib.yml
            alias: shared
        commands:
          - shell: echo own >> t.txt && git add t.txt && git commit -qm own
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:t.txt") == "own\n"
    assert "alias 'shared' is never used" in run.output


def test_selective_import_copies_only_the_named_commands(sc: Scenario) -> None:
    (sc.wf / "lib.yml").write_text(
        "name: lib\ncommands:\n"
        "  - shell: echo zero >> t.txt\n"
        "  - shell: echo one >> t.txt\n"
        "  - shell: git add t.txt && git commit -qm sel\n"
    )
    wf = sc.workflow(
        "sel",
        """
        name: sel
        imports:
          - path: lib.yml
            selective: ["0", "2"]
        commands:
          - shell: echo own >> t.txt
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:t.txt") == "own\nzero\n"


def test_selective_import_of_an_unknown_name_is_an_error(sc: Scenario) -> None:
    (sc.wf / "lib.yml").write_text("name: lib\ncommands:\n  - shell: echo zero\n")
    wf = sc.workflow(
        "sel",
        """
        name: sel
        imports:
          - path: lib.yml
            selective: ["lint"]
        commands: []
        """,
    )
    run = sc.run(wf)
    assert run.code == 2, run
    assert "selective import 'lint'" in run.output
    assert sc.session_rows() == 0


def test_appendix_a_composition_rows_run(sc: Scenario) -> None:
    """The composition, extends, imports and template one-liners of spec Appendix A."""
    (sc.wf / "base.yml").write_text('{commands: [{claude: "/from-base"}]}\n')
    (sc.wf / "common.yml").write_text('{commands: [{claude: "/from-common"}]}\n')
    (sc.wf / "templates").mkdir()
    (sc.wf / "templates" / "ci.yml").write_text('{commands: [{claude: "/ci ${p}"}]}\n')
    rows = {
        "composition": "{parameters: {required: [{name: t, type: string, description: d}]}, "
        'defaults: {t: x}, commands: [{claude: "/r ${t}"}]}',
        "extends": "{extends: base, commands: []}",
        "imports": "{imports: [{path: common.yml}], commands: []}",
        "template": "{template: {name: ci, source: templates/ci.yml, with: {p: 1}}, commands: []}",
    }
    for name, text in rows.items():
        run = sc.run(sc.workflow(name, text))
        assert run.code == 0, (name, run)
    assert sc.prompts() == ["/r x", "/from-base", "/from-common", "/ci 1"]
