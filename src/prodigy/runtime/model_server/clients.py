"""Point each agent CLI at a scripted model server: the variables and files it needs offline.

Claude Code reads `ANTHROPIC_BASE_URL`. Codex ignores `OPENAI_BASE_URL`; it needs a model
provider in `$CODEX_HOME/config.toml` (Responses API over plain HTTP, no WebSocket, no
retries). Gemini CLI reads `GOOGLE_GEMINI_BASE_URL` and `GEMINI_API_KEY`, but only after
`~/.gemini/settings.json` selects API-key auth. See docs/agents.md, "Offline test setup".
"""

from __future__ import annotations

import json
from pathlib import Path

CODEX_MODEL = "gpt-5.5"
GEMINI_MODEL = "gemini-2.5-flash"
CODEX_KEY_ENV = "PRODIGY_SCRIPTED_OPENAI_KEY"

# Keep Claude Code from calling home: no telemetry, error reports, update checks or extras.
CLAUDE_OFFLINE_ENV = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}


def claude_client_env(
    base_url: str, max_retries: int | None = None, *, subscription: bool = False
) -> dict[str, str]:
    """Variables that point Claude Code at the server and keep it offline.

    `subscription`: an OAuth token instead of an API key, as a Claude subscription logs in;
    only then does Claude Code read the usage-limit headers (quota windows, warnings).
    """
    login = "CLAUDE_CODE_OAUTH_TOKEN" if subscription else "ANTHROPIC_API_KEY"
    env = {"ANTHROPIC_BASE_URL": base_url, login: "scripted", **CLAUDE_OFFLINE_ENV}
    if max_retries is not None:
        env["CLAUDE_CODE_MAX_RETRIES"] = str(max_retries)
    return env


def codex_config(base_url: str, model: str = CODEX_MODEL) -> str:
    """A Codex `config.toml` whose default provider is the server."""
    return f"""\
# written by prodigy: Codex talks to the scripted model server at {base_url}
model = "{model}"
model_provider = "scripted"
check_for_update_on_startup = false

[analytics]
enabled = false

[model_providers.scripted]
name = "prodigy scripted model server"
base_url = "{base_url}/v1"
env_key = "{CODEX_KEY_ENV}"
wire_api = "responses"
supports_websockets = false
request_max_retries = 0
stream_max_retries = 0
"""


def codex_client_env(base_url: str, codex_home: Path, model: str = CODEX_MODEL) -> dict[str, str]:
    """Write `codex_home/config.toml` for the server; the variables Codex then needs."""
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(codex_config(base_url, model), encoding="utf-8")
    return {"CODEX_HOME": str(codex_home), CODEX_KEY_ENV: "scripted"}


def gemini_settings() -> dict[str, object]:
    """Gemini CLI settings for offline runs: API-key auth, one attempt, nothing sent home."""
    return {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "general": {"maxAttempts": 1, "disableAutoUpdate": True, "disableUpdateNag": True},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
    }


def gemini_client_env(base_url: str, home: Path) -> dict[str, str]:
    """Write `home/.gemini/settings.json` for the server; the variables Gemini then needs.

    `GEMINI_CLI_HOME=home` moves only the CLI's own folder (settings, sessions, caches),
    not HOME, so git and everything else still see the user's home.
    """
    folder = home / ".gemini"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(json.dumps(gemini_settings(), indent=2), encoding="utf-8")
    return {
        "GEMINI_CLI_HOME": str(home),
        "GOOGLE_GEMINI_BASE_URL": base_url,
        "GEMINI_API_KEY": "scripted",
    }
