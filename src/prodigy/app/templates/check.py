"""`prodigy template validate` and `init`: what a template file uses, and a starter template."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prodigy.core.errors import UsageError
from prodigy.core.workflow import check_workflow
from prodigy.core.workflow.composition import KEYS
from prodigy.core.workflow.diagnostics import DiagnosticCollector
from prodigy.core.workflow.yaml_source import JsonValue, parse_yaml, to_plain

# A template's required parameters are supplied by whoever uses it (`with:` or --param).
_UNSUPPLIED = "required parameter '"


@dataclass(frozen=True, slots=True)
class TemplateParam:
    name: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True, slots=True)
class TemplateReport:
    path: Path
    features: tuple[str, ...]  # composition keys the file uses
    parameters: tuple[TemplateParam, ...]
    defaults: dict[str, JsonValue]
    commands: int
    errors: tuple[str, ...]
    warnings: tuple[str, ...]


def inspect_template(path: Path, template_dirs: tuple[Path, ...] = ()) -> TemplateReport:
    """Load `path` as a workflow (required parameters may stay unset) and describe it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read template {path}: {exc.strerror or exc}") from exc
    plain = to_plain(node) if (node := parse_yaml(text, str(path), DiagnosticCollector())) else None
    data = plain if isinstance(plain, dict) else {}
    diagnostics = check_workflow(path, template_dirs=template_dirs)
    errors = tuple(
        str(d) for d in diagnostics if d.severity == "error" and _UNSUPPLIED not in d.message
    )
    if not isinstance(plain, dict) and not errors:
        errors = (f"{path}: a template must be a mapping with `commands:`",)
    commands = data.get("commands")
    defaults = data.get("defaults")
    return TemplateReport(
        path=path,
        features=tuple(key for key in KEYS if key in data),
        parameters=_parameters(data.get("parameters")),
        defaults=dict(defaults) if isinstance(defaults, dict) else {},
        commands=len(commands) if isinstance(commands, list) else 0,
        errors=errors,
        warnings=tuple(str(d) for d in diagnostics if d.severity == "warning"),
    )


def _parameters(node: JsonValue) -> tuple[TemplateParam, ...]:
    if not isinstance(node, dict):
        return ()
    out = []
    for group in ("required", "optional"):
        entries = node.get(group)
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and entry.get("name"):
                out.append(
                    TemplateParam(
                        name=str(entry["name"]),
                        type=str(entry.get("type") or "any"),
                        required=group == "required",
                        description=str(entry.get("description") or ""),
                    )
                )
    return tuple(out)


EXAMPLE = """\
# A parameterized refactoring workflow. Use it from a workflow:
#   template: {name: refactor, source: refactor-example, with: {target: src/app.py}}
#   commands: []
# or run it directly: prodigy run templates/refactor-example.yml --param target=src/app.py
name: refactor-example
parameters:
  required:
    - name: target
      type: string
      description: file or directory to refactor
  optional:
    - name: focus
      type: string
      description: what the refactoring should improve
defaults:
  focus: readability
commands:
  - claude: "/refactor ${target} --focus ${focus}"
    commit_required: true
  - shell: "git log -1 --stat"
"""

README = """\
# Workflow templates

Reusable, parameterized workflows. Register one so any workflow can use it by name:

    prodigy template register templates/refactor-example.yml -d "Refactor one target" -t refactor
    prodigy template list
    prodigy template show refactor-example

Use it from a workflow (its commands run after the workflow's own):

    template:
      name: refactor
      source: refactor-example      # a registered name, or a path to a template file
      with:
        target: src/app.py
    commands: []

Check a template before registering it: `prodigy template validate FILE`.
"""


def init_templates(directory: Path) -> list[Path]:
    """Write the starter template and a README into `directory`; never overwrites."""
    files = {directory / "refactor-example.yml": EXAMPLE, directory / "README.md": README}
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise UsageError(
            f"{', '.join(existing)} already exist(s); nothing was written "
            "(move them away or choose another directory)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)
