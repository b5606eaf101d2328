"""The template registry: `$PRODIGY_HOME/templates/<name>.yml` plus `<name>.meta.json`.

Both files are written atomically (a temporary file in the same directory, then a rename),
so a crash never leaves half a template. Names are plain file names, never paths.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from prodigy.app.paths import prodigy_home
from prodigy.app.templates.check import TemplateReport, inspect_template
from prodigy.core.clock import utc_now
from prodigy.core.errors import UsageError
from prodigy.core.workflow.composition import REGISTRY_NAME


def registry_dir(env: Mapping[str, str]) -> Path:
    """Where registered templates live."""
    return prodigy_home(env) / "templates"


def template_dirs(env: Mapping[str, str]) -> tuple[Path, ...]:
    """The registries `template: {source: NAME}` searches, for the workflow loader."""
    return (registry_dir(env),)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateMeta:
    name: str
    description: str = ""
    version: str = "1.0.0"
    tags: tuple[str, ...] = field(default_factory=tuple)
    author: str = ""
    created_at: str = ""
    updated_at: str = ""

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        return data


@dataclass(frozen=True, slots=True)
class Template:
    meta: TemplateMeta
    path: Path

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def check_name(name: str) -> str:
    if not REGISTRY_NAME.fullmatch(name):
        raise UsageError(
            f"template name {name!r}: use letters, digits, '.', '_' and '-', starting with a "
            "letter or digit (no '/' or '..')"
        )
    return name


def register(
    registry: Path,
    source: Path,
    *,
    name: str | None = None,
    description: str = "",
    version: str = "1.0.0",
    tags: Sequence[str] = (),
    author: str = "",
    force: bool = False,
) -> tuple[Template, TemplateReport]:
    """Copy a valid template file into the registry under `name` (default: the file stem)."""
    chosen = check_name(source.stem if name is None else name)
    report = inspect_template(source, (registry,))
    if report.errors:
        listing = "\n  ".join(report.errors)
        raise UsageError(f"{source} is not a valid template:\n  {listing}\nNothing was registered")
    existing = _read_meta(registry, chosen) if _yml(registry, chosen).exists() else None
    if existing is not None and not force:
        raise UsageError(
            f"a template named {chosen!r} is already registered; "
            f"pass --force to replace it or -n to choose another name"
        )
    now = utc_now().isoformat(timespec="seconds")
    meta = TemplateMeta(
        name=chosen,
        description=description,
        version=version,
        tags=tuple(t for t in tags if t),
        author=author,
        created_at=existing.created_at if existing else now,
        updated_at=now,
    )
    registry.mkdir(parents=True, exist_ok=True)
    _atomic_write(_yml(registry, chosen), source.read_text(encoding="utf-8"))
    _atomic_write(_meta(registry, chosen), json.dumps(meta.to_json(), indent=2) + "\n")
    return Template(meta, _yml(registry, chosen)), report


def list_templates(registry: Path, *, tag: str | None = None) -> list[Template]:
    """Every registered template, by name; with `tag`, only those carrying it."""
    if not registry.is_dir():
        return []
    found = []
    for path in sorted(registry.glob("*.yml")):
        if not REGISTRY_NAME.fullmatch(path.stem):
            continue
        meta = _read_meta(registry, path.stem)
        if tag is None or tag in meta.tags:
            found.append(Template(meta, path))
    return found


def get_template(registry: Path, name: str) -> Template:
    path = _yml(registry, check_name(name))
    if not path.is_file():
        known = ", ".join(t.meta.name for t in list_templates(registry)) or "none"
        raise UsageError(
            f"no template named {name!r} in {registry} (registered: {known}); "
            "see `prodigy template list`"
        )
    return Template(_read_meta(registry, name), path)


def search_templates(registry: Path, query: str, *, by_tag: bool = False) -> list[Template]:
    """Templates whose name or description contains `query` (any case), or with that tag."""
    needle = query.lower()
    if by_tag:
        return [t for t in list_templates(registry) if needle in (x.lower() for x in t.meta.tags)]
    return [
        t
        for t in list_templates(registry)
        if needle in t.meta.name.lower() or needle in t.meta.description.lower()
    ]


def delete_template(registry: Path, name: str) -> Template:
    template = get_template(registry, name)
    template.path.unlink()
    _meta(registry, name).unlink(missing_ok=True)
    return template


def _yml(registry: Path, name: str) -> Path:
    return registry / f"{name}.yml"


def _meta(registry: Path, name: str) -> Path:
    return registry / f"{name}.meta.json"


def _read_meta(registry: Path, name: str) -> TemplateMeta:
    """The metadata file, or a bare record for a template copied in by hand."""
    base = TemplateMeta(name=name)
    try:
        data = json.loads(_meta(registry, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return base
    if not isinstance(data, dict):
        return base
    tags = data.get("tags")
    return replace(
        base,
        description=str(data.get("description") or ""),
        version=str(data.get("version") or base.version),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
        author=str(data.get("author") or ""),
        created_at=str(data.get("created_at") or ""),
        updated_at=str(data.get("updated_at") or ""),
    )


def _atomic_write(target: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
