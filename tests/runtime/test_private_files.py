"""Log files under $PRODIGY_HOME are private whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from prodigy.runtime.private_files import write_private


def test_every_created_level_is_0700_and_the_file_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_private(tmp_path / "a" / "b" / "c.log", "text")
        write_private(tmp_path / "a" / "b" / "c.log", "again")
    finally:
        os.umask(old)
    for path in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    target = tmp_path / "a" / "b" / "c.log"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == "again"
