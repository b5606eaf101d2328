"""`prodigy template init|register|list|show|search|validate|delete`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from prodigy.app.templates.check import TemplateReport, init_templates, inspect_template
from prodigy.app.templates.registry import (
    Template,
    delete_template,
    get_template,
    list_templates,
    register,
    registry_dir,
    search_templates,
    template_dirs,
)
from prodigy.core.errors import EXIT_OK, EXIT_USAGE


def _registry() -> Path:
    return registry_dir(os.environ)


def _line(template: Template, long: bool) -> str:
    meta = template.meta
    text = f"{meta.name:<24} {meta.version:<8} {meta.description}".rstrip()
    if long:
        tags = ", ".join(meta.tags) or "-"
        text += (
            f"\n    tags: {tags}  author: {meta.author or '-'}  updated: {meta.updated_at or '-'}"
        )
        text += f"\n    {template.path}"
    return text


def _show_report(report: TemplateReport) -> None:
    click.echo(f"Features: {', '.join(report.features) or 'none (a plain workflow)'}")
    click.echo(f"Commands: {report.commands}")
    if report.parameters:
        click.echo("Parameters:")
        for param in report.parameters:
            need = "required" if param.required else "optional"
            click.echo(f"  {param.name} ({param.type}, {need}) {param.description}".rstrip())
    if report.defaults:
        click.echo("Defaults:")
        for name, value in report.defaults.items():
            click.echo(f"  {name}: {value}")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}", err=True)


@click.group("template")
def template() -> None:
    """Manage the template registry ($PRODIGY_HOME/templates).

    A registered template is used by name: `template: {name: x, source: NAME, with: {...}}`.
    """


@template.command("init")
@click.argument("path", default="templates", type=click.Path(file_okay=False, path_type=Path))
def init(path: Path) -> None:
    """Write a starter template (refactor-example.yml) and a README into PATH."""
    for written in init_templates(path):
        click.echo(f"Created {written}")


@template.command("register")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("-n", "--name", default=None, help="Name to register under (default: file stem).")
@click.option("-d", "--description", default="", help="One line saying what it does.")
@click.option("--version", "version", default="1.0.0", show_default=True)
@click.option("-t", "--tags", default="", help="Comma-separated tags, e.g. ci,rust.")
@click.option("-a", "--author", default="")
@click.option("-f", "--force", is_flag=True, help="Replace a template of the same name.")
def register_cmd(  # noqa: PLR0917 - one parameter per option
    path: Path,
    name: str | None,
    description: str,
    version: str,
    tags: str,
    author: str,
    force: bool,
) -> None:
    """Check a template file and copy it into the registry."""
    registered, report = register(
        _registry(),
        path,
        name=name,
        description=description,
        version=version,
        tags=[t.strip() for t in tags.split(",")],
        author=author,
        force=force,
    )
    click.echo(f"✓ Registered template '{registered.meta.name}' ({registered.path})")
    _show_report(report)


@template.command("list")
@click.option("-t", "--tag", default=None, help="Only templates with this tag.")
@click.option("-l", "--long", "long", is_flag=True, help="Tags, author, date and file too.")
def list_cmd(tag: str | None, long: bool) -> None:
    """List registered templates."""
    found = list_templates(_registry(), tag=tag)
    if not found:
        click.echo("No templates registered" + (f" with tag '{tag}'" if tag else "") + ".")
        return
    for item in found:
        click.echo(_line(item, long))


@template.command("show")
@click.argument("name")
def show(name: str) -> None:
    """Show a template's metadata and its workflow text."""
    found = get_template(_registry(), name)
    click.echo(_line(found, long=True))
    click.echo("---")
    click.echo(found.text().rstrip("\n"))


@template.command("search")
@click.argument("query")
@click.option("-t", "--by-tag", is_flag=True, help="Match QUERY against tags only.")
def search(query: str, by_tag: bool) -> None:
    """Find templates whose name or description contains QUERY (or tagged QUERY)."""
    found = search_templates(_registry(), query, by_tag=by_tag)
    if not found:
        click.echo(f"No template matches '{query}'.")
    for item in found:
        click.echo(_line(item, long=False))


@template.command("validate")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def validate(path: Path) -> int:
    """Check a template file; required parameters may be left for its users to supply."""
    report = inspect_template(path, template_dirs(os.environ))
    if report.errors:
        click.echo(f"✗ Template has {len(report.errors)} problem(s):", err=True)
        for error in report.errors:
            click.echo(f"  {error}", err=True)
        return EXIT_USAGE
    click.echo(f"✓ Template is valid: {path}")
    _show_report(report)
    return EXIT_OK


@template.command("delete")
@click.argument("name")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, force: bool) -> None:
    """Remove a template from the registry."""
    found = get_template(_registry(), name)
    if not force and not click.confirm(f"Delete template '{found.meta.name}'?", default=False):
        click.echo("Nothing deleted.")
        return
    delete_template(_registry(), name)
    click.echo(f"✓ Deleted template '{name}'")


COMMANDS = [template]
