"""Workflow files a test writes, and loads through the real loader."""

from __future__ import annotations

import textwrap
from pathlib import Path

from prodigy.core.workflow import Step, Workflow, load_workflow


def write_workflow(directory: Path, text: str, name: str = "wf.yml") -> Path:
    """Write the dedented `text` to directory/name and return its path."""
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def load_workflow_text(directory: Path, text: str, name: str = "wf.yml") -> Workflow:
    """Write the dedented `text` to directory/name and load it."""
    return load_workflow(write_workflow(directory, text, name)).workflow


def only_step(directory: Path, step_yaml: str) -> Step:
    """The one step of a list-form workflow holding `step_yaml`."""
    workflow = load_workflow_text(directory, f"- {step_yaml}\n")
    assert len(workflow.steps) == 1
    return workflow.steps[0]
