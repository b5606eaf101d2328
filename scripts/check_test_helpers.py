#!/usr/bin/env python3
"""Fail when a fixture or helper is defined in three or more test modules.

Shared test code has one home: `tests/support/` or a `conftest.py` (issue 13, "one test
harness"). This walks every `test_*.py` under tests/ with `ast` and counts the modules that
define each top-level function (fixtures included) or class; a name defined in three or more
modules is reported with the files that define it. `test_*` functions and `Test*` classes are
the tests themselves and are not counted; neither are conftest.py files and the support
modules, which are where shared code belongs.

Usage: scripts/check_test_helpers.py [TESTS_DIR]   (exit 1 when a name is over the limit)
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

LIMIT = 3  # defined in this many test modules or more = copied instead of shared


def defined_names(path: Path) -> set[str]:
    """Top-level function and class names of one test module, tests themselves excluded."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if not node.name.startswith("test_"):
                names.add(node.name)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("Test"):
            names.add(node.name)
    return names


def copies(tests: Path) -> dict[str, list[Path]]:
    """Each name defined in LIMIT or more test modules, with the modules, sorted."""
    where: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(tests.rglob("test_*.py")):
        if "support" in path.relative_to(tests).parts:
            continue  # the support package's own tests may define what they test
        for name in defined_names(path):
            where[name].append(path)
    return {name: paths for name, paths in sorted(where.items()) if len(paths) >= LIMIT}


def main(argv: list[str]) -> int:
    tests = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / "tests"
    found = copies(tests)
    for name, paths in found.items():
        print(f"{name}: defined in {len(paths)} test modules (move it to tests/support/ or a conftest.py)")
        for path in paths:
            print(f"  {path}")
    if found:
        return 1
    print(f"ok: no fixture or helper is defined in {LIMIT} or more test modules")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
