"""The variable scope of a step and typed builders for each family of workflow variables.

A `Scope` maps top-level names to JSON-like values. Names may contain dots: a lookup tries
the whole dotted string first, so `shell.output` or `name.exit_code` can be stored flat next to
a structured value under `name`. The builders below are the one place that spells each
family's names, so the executor never types `"map.results"` by hand.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

from prodigy.core.interpolation import render_json

JsonValue: TypeAlias = (
    bool | int | float | str | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
)


def _freeze(values: Mapping[str, JsonValue]) -> Mapping[str, JsonValue]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True, eq=False)  # equality and hashing as a Mapping
class Scope(Mapping[str, JsonValue]):
    """Immutable mapping of variable names to values; `with_values` returns a new scope."""

    bindings: Mapping[str, JsonValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bindings", _freeze(self.bindings))

    def with_values(
        self, values: Mapping[str, JsonValue] | None = None, /, **more: JsonValue
    ) -> Scope:
        """A new scope where `values` and `more` override names of this one."""
        return Scope({**self.bindings, **(values or {}), **more})

    def __getitem__(self, name: str) -> JsonValue:
        return self.bindings[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.bindings)

    def __len__(self) -> int:
        return len(self.bindings)


def item_values(item: JsonValue, index: int) -> dict[str, JsonValue]:
    """MAP agent variables: `${item}` (structured), `${item_index}`, `${item_id}`, `${item_json}`.

    `${item}` keeps the item's structure, so `${item.meta.owner}` and `${item.tags[0]}` resolve
    (prodigy 0.4.4 stringified top-level fields; following the manual's intent here).
    """
    return {
        "item": item,
        "item_index": index,
        "item_id": f"item_{index}",
        "item_json": render_json(item),
    }


def map_values(
    *, total: int, successful: int, failed: int, results: Sequence[JsonValue]
) -> dict[str, JsonValue]:
    """REDUCE variables `${map.total}`, `${map.successful}`, `${map.failed}`, `${map.results}`."""
    return {
        "map": {
            "total": total,
            "successful": successful,
            "failed": failed,
            "results": list(results),
        }
    }


def capture_values(
    name: str,
    *,
    output: JsonValue,
    stderr: str = "",
    exit_code: int = -1,
    success: bool = False,
    duration: float = 0.0,
) -> dict[str, JsonValue]:
    """`capture: name`: `${name}` plus `${name.stderr|exit_code|success|duration}`.

    See docs/workflow-format.md.

    The sub-fields are stored flat, so `${name.exit_code}` resolves even when `${name}` is a
    string, and a JSON capture still walks (`${name.field}`).
    """
    return {
        name: output,
        f"{name}.stderr": stderr,
        f"{name}.exit_code": exit_code,
        f"{name}.success": success,
        f"{name}.duration": duration,
    }


def default_capture_values(kind: str, output: str) -> dict[str, JsonValue]:
    """`capture_output: true`: `${<kind>.output}` (shell, claude...) and `${CAPTURED_OUTPUT}`."""
    return {f"{kind}.output": output, "CAPTURED_OUTPUT": output}


def positional_values(args: Sequence[str], current: str | None = None) -> dict[str, JsonValue]:
    """`${ARG_1}`..`${ARG_n}`, `${ARGS}` (all, space-joined) and `${ARG}` (the current input)."""
    values: dict[str, JsonValue] = {f"ARG_{n}": arg for n, arg in enumerate(args, start=1)}
    values["ARGS"] = " ".join(args)
    if current is not None:
        values["ARG"] = current
    return values


def env_values(env: Mapping[str, str]) -> dict[str, JsonValue]:
    """`${env.NAME}`: the environment the runtime hands in (core never reads os.environ)."""
    return {"env": dict(env)}


def git_change_values(
    prefix: str,
    *,
    files_added: Sequence[str] = (),
    files_modified: Sequence[str] = (),
    files_deleted: Sequence[str] = (),
    commits: Sequence[str] = (),
    insertions: int = 0,
    deletions: int = 0,
) -> dict[str, JsonValue]:
    """`${workflow.*}` / `${step.*}` git context: file lists space-separated.

    See docs/git-variables.md."""
    changed = sorted({*files_added, *files_modified, *files_deleted})
    return {
        prefix: {
            "files_added": " ".join(files_added),
            "files_modified": " ".join(files_modified),
            "files_deleted": " ".join(files_deleted),
            "files_changed": " ".join(changed),
            "commits": " ".join(commits),
            "commit_count": len(commits),
            "insertions": insertions,
            "deletions": deletions,
        }
    }


def error_values(
    *, message: str, exit_code: int, step: str, timestamp: str
) -> dict[str, JsonValue]:
    """`${error.*}` inside an `on_failure` handler."""
    return {
        "error": {"message": message, "exit_code": exit_code, "step": step, "timestamp": timestamp}
    }


def foreach_values(item: JsonValue, index: int, total: int) -> dict[str, JsonValue]:
    """`foreach` `do` block: `${item}`, `${index}` (0-based), `${total}`."""
    return {"item": item, "index": index, "total": total}
