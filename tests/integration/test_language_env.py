"""Workflow environment through `prodigy run`: env forms, env_files, secrets, profiles."""

from __future__ import annotations

from tests.support.scenario import Scenario

SECRET = "s3cr3t-value-42"


def commit_out(name: str = "out.txt") -> str:
    return f"git add {name} && git commit -qm out"


def test_precedence_env_files_env_profile_secrets(sc: Scenario) -> None:
    (sc.repo / ".env").write_text("A=file\nB=file\nC=file\nD=file\nLITERAL=${HOME}/x\n")
    sc.env["GH_TOKEN"] = SECRET
    wf = sc.workflow(
        "env",
        f"""
        name: env
        env_files: [.env, .env.missing]
        env: {{B: workflow, C: workflow, D: workflow}}
        profiles:
          prod: {{description: production, C: profile}}
        secrets:
          D: GH_TOKEN
        commands:
          - shell: echo "$A $B $C $D $LITERAL" > out.txt && {commit_out()}
        """,
    )
    run = sc.run(wf, "--profile", "prod")
    assert run.code == 0, run
    assert sc.cat("master:out.txt") == f"file workflow profile {SECRET} ${{HOME}}/x\n"
    assert ".env.missing does not exist" in run.output


def test_without_profile_the_workflow_env_holds(sc: Scenario) -> None:
    wf = sc.workflow(
        "noprof",
        f"""
        name: noprof
        env: {{MODE: dev}}
        profiles: {{prod: {{MODE: prod}}}}
        commands:
          - shell: echo "$MODE ${{MODE}}" > out.txt && {commit_out()}
        """,
    )
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:out.txt") == "dev dev\n"


def test_unknown_profile_is_a_usage_error(sc: Scenario) -> None:
    wf = sc.workflow(
        "badprof",
        """
        name: badprof
        profiles: {prod: {MODE: prod}}
        commands:
          - shell: "true"
        """,
    )
    run = sc.run(wf, "--profile", "staging")
    assert run.code == 2, run
    assert "--profile staging" in run.output and "known: prod" in run.output
    assert sc.session_worktrees() == []


def test_secrets_are_masked_in_output_and_state(sc: Scenario) -> None:
    (sc.repo / "secret.txt").write_text(SECRET + "\n")
    sc.env["API_KEY_SOURCE"] = "from-env-" + SECRET
    wf = sc.workflow(
        "secret",
        """
        name: secret
        secrets:
          FROM_FILE: {provider: file, key: secret.txt}
          FROM_ENV: {provider: env, key: API_KEY_SOURCE}
        commands:
          - shell: echo "file=$FROM_FILE env=$FROM_ENV"
            capture_output: shown
          - shell: echo "${shown}"; exit 1
        """,
    )
    run = sc.run(wf, "-vv")
    assert run.code == 1, run
    assert SECRET not in run.output
    assert "file=*** env=***" in run.output
    assert SECRET.encode() not in sc.db.read_bytes()
    for wal in sc.db.parent.glob("prodigy.db*"):
        assert SECRET.encode() not in wal.read_bytes()


def test_missing_secret_names_the_secret_and_fix(sc: Scenario) -> None:
    wf = sc.workflow(
        "nosecret",
        """
        name: nosecret
        secrets: {TOKEN: NOT_SET_ANYWHERE}
        commands:
          - shell: "true"
        """,
    )
    run = sc.run(wf)
    assert run.code == 2, run
    assert "secrets.TOKEN: environment variable NOT_SET_ANYWHERE is not set" in run.output


def test_dynamic_and_conditional_env(sc: Scenario) -> None:
    wf = sc.workflow(
        "dyn",
        f"""
        name: dyn
        env:
          REV: {{command: "git rev-parse --short HEAD", cache: true}}
          TARGET:
            condition: "${{env.DEPLOY}} == 'yes'"
            when_true: production
            when_false: staging
          HIDDEN: {{secret: true, value: "{SECRET}"}}
        commands:
          - shell: echo "$REV $TARGET ${{TARGET}} ${{#HIDDEN}}" > out.txt && {commit_out()}
          - shell: echo "$HIDDEN"
        """,
    )
    run = sc.run(wf, "-vv")
    assert run.code == 0, run
    short = sc.git("rev-parse", "--short", sc.init_sha).strip()
    assert sc.cat("master:out.txt") == f"{short} staging staging {len(SECRET)}\n"
    assert SECRET not in run.output
    sc.env["DEPLOY"] = "yes"
    sc.git("reset", "-q", "--hard", sc.init_sha)
    run = sc.run(wf)
    assert run.code == 0, run
    assert sc.cat("master:out.txt").split()[1] == "production"


def test_failing_dynamic_command_stops_before_anything_starts(sc: Scenario) -> None:
    wf = sc.workflow(
        "dynfail",
        """
        name: dynfail
        env: {X: {command: "echo nope >&2; exit 3"}}
        commands:
          - shell: "true"
        """,
    )
    run = sc.run(wf)
    assert run.code == 2, run
    assert "env.X: command" in run.output and "exit code 3" in run.output
    assert sc.session_worktrees() == []


def test_config_show_workflow_lists_each_layer(sc: Scenario) -> None:
    (sc.repo / ".env").write_text("A=file\nPATHLIKE=x\n")
    sc.env["GH_TOKEN"] = SECRET
    sc.env["PATHLIKE"] = "from-process"
    wf = sc.workflow(
        "show",
        """
        name: show
        env_files: [.env]
        env: {A: workflow, B: workflow}
        profiles: {dev: {B: dev}}
        secrets: {TOKEN: GH_TOKEN}
        commands:
          - shell: "true"
        """,
    )
    run = sc.prodigy("config", "show", "--workflow", wf, "--profile", "dev")
    assert run.code == 0, run
    assert "  A = workflow   (workflow env; over env_files)" in run.stdout
    assert "  B = dev   (profile; over workflow env)" in run.stdout
    assert "  PATHLIKE = x   (env_files; over process environment)" in run.stdout
    assert "  TOKEN = ***   (secrets)" in run.stdout
    assert SECRET not in run.output


def test_resume_keeps_the_profile(sc: Scenario) -> None:
    """The first step fails, so no checkpoint holds the variables: resume re-resolves them."""
    wf = sc.workflow(
        "resume",
        """
        name: resume
        env: {MODE: default}
        profiles: {prod: {MODE: prod}}
        commands:
          - shell: test -f ${HOME}/go
          - shell: printenv MODE > two.txt && git add two.txt && git commit -qm two
        """,
    )
    first = sc.run(wf, "--profile", "prod")
    assert first.code == 1, first
    (sc.home / "go").touch()
    again = sc.prodigy("resume", first.session_id(), "-y")
    assert again.code == 0, again
    assert sc.cat("master:two.txt") == "prod\n"
