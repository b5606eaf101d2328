"""`workflows:` (sub-workflows) -> SubWorkflow entries; each source file must exist."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from prodigy.core.workflow.diagnostics import DiagnosticCollector
from prodigy.core.workflow.fields import Fields, child_path, report
from prodigy.core.workflow.model import SubWorkflow
from prodigy.core.workflow.yaml_source import JsonValue, YMap, YNode, to_plain


def _plain(node: YMap) -> dict[str, JsonValue]:
    plain = to_plain(node)
    assert isinstance(plain, dict)
    return plain


def parse_sub_workflows(
    nodes: Mapping[str, YNode], base_dir: Path, reporter: DiagnosticCollector
) -> dict[str, SubWorkflow]:
    out: dict[str, SubWorkflow] = {}
    for name, node in nodes.items():
        at = child_path("workflows", name)
        if not isinstance(node, YMap):
            report(reporter, node, at, "expected {source: file.yml, ...}")
            continue
        fields = Fields(
            node,
            at,
            reporter,
            (
                "source",
                "parameters",
                "inputs",
                "outputs",
                "parallel",
                "continue_on_error",
                "timeout",
                "working_dir",
            ),
        )
        source = fields.text("source")
        params, inputs = fields.mapping("parameters"), fields.mapping("inputs")
        sub = SubWorkflow(
            source=source or "",
            parameters=_plain(params) if params else {},
            inputs=_plain(inputs) if inputs else {},
            outputs=fields.str_list("outputs") or (),
            parallel=fields.flag("parallel") or False,
            continue_on_error=fields.flag("continue_on_error") or False,
            timeout=fields.seconds("timeout"),
            working_dir=fields.text("working_dir"),
        )
        fields.finish()
        if source is None:
            report(reporter, node, at, "sub-workflow needs a 'source'")
        elif not (base_dir / source).is_file():
            fields.error(node, "source", f"sub-workflow file '{source}' not found")
        else:
            out[name] = sub
    return out
