"""Environment sections: `env`, `secrets`, `env_files`, `profiles`."""

from __future__ import annotations

from collections.abc import Mapping

from prodigy.core.workflow.diagnostics import DiagnosticCollector
from prodigy.core.workflow.fields import Fields, child_path, frozen, report, scalar_text
from prodigy.core.workflow.model import Profile, SecretRef
from prodigy.core.workflow.step_model import EnvValue
from prodigy.core.workflow.yaml_source import YMap, YNode, YScalar, to_plain, type_name

# the structured env values the manual documents: dynamic, conditional and secret
_ENV_SHAPES = (
    frozenset({"command", "cache"}),
    frozenset({"condition", "when_true", "when_false"}),
    frozenset({"secret", "value"}),
)


def parse_env(
    node: YNode | None, path: str, reporter: DiagnosticCollector
) -> Mapping[str, EnvValue] | None:
    """Names to values; numbers and booleans become the strings YAML spells them as."""
    if node is None:
        return None
    if not isinstance(node, YMap):
        report(
            reporter, node, path, f"expected a mapping of names to values, got {type_name(node)}"
        )
        return None
    out: dict[str, EnvValue] = {}
    for key, value in node.entries:
        name, at = str(key.value), child_path(path, str(key.value))
        if isinstance(value, YMap):
            keys = frozenset(value.names())
            if not any(keys <= shape and keys & shape for shape in _ENV_SHAPES):
                report(
                    reporter,
                    value,
                    at,
                    "expected a string, or one of {command, cache}, "
                    "{condition, when_true, when_false}, {secret, value}",
                )
                continue
            plain = to_plain(value)
            assert isinstance(plain, dict)
            out[name] = frozen(plain)
            continue
        text = scalar_text(value, at, reporter)
        if text is not None:
            out[name] = text
    return frozen(out)


def parse_secrets(
    node: YNode | None, path: str, reporter: DiagnosticCollector
) -> Mapping[str, SecretRef]:
    if node is None:
        return frozen({})
    if not isinstance(node, YMap):
        report(
            reporter, node, path, f"expected a mapping of names to secrets, got {type_name(node)}"
        )
        return frozen({})
    out: dict[str, SecretRef] = {}
    for key, value in node.entries:
        name, at = str(key.value), child_path(path, str(key.value))
        if isinstance(value, YScalar):
            source = scalar_text(value, at, reporter)
            if source is not None:
                out[name] = SecretRef(provider="env", key=source)
            continue
        if not isinstance(value, YMap):
            report(reporter, value, at, "expected an env var name or {provider, key}")
            continue
        fields = Fields(value, at, reporter, ("provider", "key", "version"))
        provider = _provider(fields)
        secret_key, version = fields.text("key"), fields.text("version")
        fields.finish()
        if secret_key is None:
            report(reporter, value, at, "secret needs a 'key'")
            continue
        out[name] = SecretRef(provider=provider, key=secret_key, version=version)
    return frozen(out)


def _provider(fields: Fields) -> str:
    node = fields.node("provider")
    if isinstance(node, YMap) and node.get("custom") is not None:
        custom = node.get("custom")
        if isinstance(custom, YScalar) and custom.value is not None:
            return str(custom.value)
    if node is None:
        return "env"
    text = scalar_text(node, fields.at("provider"), fields.reporter)
    return text or "env"


def parse_profiles(
    node: YNode | None, path: str, reporter: DiagnosticCollector
) -> Mapping[str, Profile]:
    if node is None:
        return frozen({})
    if not isinstance(node, YMap):
        report(reporter, node, path, f"expected a mapping of profile names, got {type_name(node)}")
        return frozen({})
    out: dict[str, Profile] = {}
    for key, value in node.entries:
        name, at = str(key.value), child_path(path, str(key.value))
        if not isinstance(value, YMap):
            report(
                reporter,
                value,
                at,
                f"expected a mapping of names to values, got {type_name(value)}",
            )
            continue
        description: str | None = None
        env: dict[str, str] = {}
        # a profile is flat (`{NODE_ENV: dev}`); an `env:` block inside it reads the same
        nested = value.get("env")
        flat = [e for e in value.entries if e[0].value != "env" or not isinstance(e[1], YMap)]
        entries = (*flat, *(nested.entries if isinstance(nested, YMap) else ()))
        for var, var_value in entries:
            text = scalar_text(var_value, child_path(at, str(var.value)), reporter)
            if text is None:
                continue
            if var.value == "description":
                description = text
            else:
                env[str(var.value)] = text
        out[name] = Profile(description=description, env=frozen(env))
    return frozen(out)
