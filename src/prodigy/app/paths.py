"""Where prodigy keeps its files: PRODIGY_HOME and the standard locations under it.

Every function takes the environment or the home directory as an argument, so callers and
tests decide which environment counts; nothing here reads os.environ or creates directories.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

HOME_VARIABLE = "PRODIGY_HOME"
DEFAULT_HOME = "~/.prodigy"


def user_home(env: Mapping[str, str]) -> Path:
    """The user's home directory: $HOME from `env`, else the account's home."""
    home = env.get("HOME", "")
    return Path(home) if home else Path.home()


def expand_user(raw: str, env: Mapping[str, str]) -> Path:
    """`~` and `~/x` expanded against $HOME in `env` (`~other` through the account database)."""
    if raw == "~" or raw.startswith("~/"):
        return user_home(env) / raw[2:]
    return Path(raw).expanduser()


def prodigy_home(env: Mapping[str, str]) -> Path:
    """$PRODIGY_HOME with `~` expanded and made absolute; ~/.prodigy when unset or empty."""
    raw = env.get(HOME_VARIABLE, "").strip() or DEFAULT_HOME
    return expand_user(raw, env).absolute()


def db_path(home: Path) -> Path:
    """The one SQLite state database."""
    return home / "prodigy.db"


def worktrees_dir(home: Path) -> Path:
    """Parent of the per-repository worktree directories."""
    return home / "worktrees"


def logs_dir(home: Path) -> Path:
    """Claude stream-json logs and agent output."""
    return home / "logs"


def locks_dir(home: Path) -> Path:
    """Lock files for sessions and jobs."""
    return home / "locks"


def scratch_dir(home: Path, session_id: str) -> Path:
    """A session's private scratch files (large values handed to steps); removed when the
    step ends, and swept on resume and by `sessions clean` after a crash."""
    return home / "tmp" / session_id


def global_config_path(home: Path) -> Path:
    """The user's configuration file, below the project file in precedence."""
    return home / "config.yml"


def project_config_path(repo_root: Path) -> Path:
    """The repository's configuration file."""
    return repo_root / ".prodigy" / "config.yml"


def find_repo_root(start: Path) -> Path | None:
    """The nearest directory at or above `start` holding `.git` (a directory, or a file in a
    linked worktree); None outside any repository. Cheaper than spawning git."""
    start = start.absolute()
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None
