"""Issue 12, item 13: the scratch files that carry large values to a step are private, and
the ones a SIGKILL leaves behind are swept by the next run. Drives the real `prodigy` CLI.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from tests.support.reliability import CrashRepo


def _values_dirs(root: Path) -> list[Path]:
    return [p for p in root.rglob("prodigy-values-*") if p.is_dir()]


# --- item 13: scratch files of large values ----------------------------------------------

SCRATCH_WF = """\
name: scratch
secrets:
  API_TOKEN: SECRET_SOURCE
commands:
  - shell: python3 -c "print('x' * 120000)"; echo "$API_TOKEN"
    capture: big
  - shell: |
      test -n "${big}"
      if [ ! -e "$HOME/killed" ]; then touch "$HOME/killed"; kill -9 $PPID; sleep 30; fi
      echo done > done.txt
      git add done.txt && git commit -qm done
"""


def test_scratch_files_of_a_killed_run_stay_private_and_are_swept(cr: CrashRepo) -> None:
    """A step given a 120 KB value (holding a token) is SIGKILLed with prodigy: its value file
    is under PRODIGY_HOME (0700), not the system temp dir, and `sessions clean` and
    `resume` remove it."""
    token = "tok" + secrets.token_hex(16)
    system_tmp = cr.root / "systmp"
    system_tmp.mkdir()
    env = {"SECRET_SOURCE": token, "TMPDIR": str(system_tmp)}
    cr.write_workflow(SCRATCH_WF)
    killed = cr.call("run", str(cr.workflow_path), "-y", env=env)
    assert killed.returncode == -9, killed.stderr
    assert _values_dirs(system_tmp) == []
    left = _values_dirs(cr.state_home / "tmp")
    assert len(left) == 1, left
    for directory in (left[0], left[0].parent, cr.state_home / "tmp"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    held = "".join(p.read_text() for p in left[0].rglob("*") if p.is_file())
    assert token in held  # the real value, private

    clean = cr.call("sessions", "clean", "-y", env=env)
    assert clean.returncode == 0, clean.stderr
    assert _values_dirs(cr.state_home) == []

    # and resume sweeps what a dead run left, before running again
    (cr.home / "killed").unlink()
    killed = cr.call("resume", cr.sequential_session_id(), "-y", env=env)
    assert killed.returncode == -9, killed.stderr
    assert len(_values_dirs(cr.state_home / "tmp")) == 1
    done = cr.call("resume", cr.sequential_session_id(), "-y", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _values_dirs(cr.state_home) == []
    assert _values_dirs(system_tmp) == []
    assert cr.cat("done.txt").strip() == "done"
    assert not any(os.scandir(cr.state_home / "tmp"))
