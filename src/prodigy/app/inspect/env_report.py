"""`prodigy config show --workflow F`: each variable a workflow sets, its value and its layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prodigy.app.session.workflow_env import resolve_environment
from prodigy.core.env_resolution import LAYERS
from prodigy.core.masking import Masker
from prodigy.core.progress import Reporter
from prodigy.core.workflow import load_workflow


@dataclass(frozen=True, slots=True)
class EnvLine:
    name: str
    value: str  # secrets masked
    layer: str  # the layer that wins
    overrides: tuple[str, ...]  # lower layers that also set it, lowest first


async def workflow_environment(
    path: Path,
    *,
    profile: str | None,
    process_env: Mapping[str, str],
    base_dir: Path,
    reporter: Reporter,
) -> list[EnvLine]:
    """Every name the workflow's env_files, env, profile and secrets set, sorted by name."""
    workflow = load_workflow(path).workflow
    resolved = await resolve_environment(
        workflow, process_env=process_env, base_dir=base_dir, profile=profile, reporter=reporter
    )
    masker = Masker(resolved.masked)
    layers = {"process environment": process_env, **resolved.layers}
    names = sorted({name for layer, values in resolved.layers.items() for name in values})
    lines: list[EnvLine] = []
    for name in names:
        setters = [layer for layer in LAYERS if name in layers.get(layer, {})]
        winner = setters[-1]
        value = layers[winner][name]
        shown = "***" if winner == "secrets" else masker.text(value)
        lines.append(EnvLine(name, shown, winner, tuple(setters[:-1])))
    return lines
