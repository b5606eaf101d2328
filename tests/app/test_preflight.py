"""app/session/preflight called directly on loaded workflows: every feature this release
cannot run is refused before anything is created, named with where it is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.workflows import load_workflow_text

from prodigy.app.session.preflight import ensure_supported, unsupported
from prodigy.core.errors import NotImplementedYetError


def test_a_plain_workflow_has_no_gaps(tmp_path: Path) -> None:
    workflow = load_workflow_text(
        tmp_path,
        """
        commands:
          - shell: echo one
            env: {GREETING: hello}
          - claude: /fix the bug
        """,
    )
    assert unsupported(workflow) == []
    ensure_supported(workflow)  # does not raise


def test_a_removed_step_kind_is_named_with_its_location(tmp_path: Path) -> None:
    workflow = load_workflow_text(tmp_path, "- analyze: {max_cache_age: 300}\n")
    [gap] = unsupported(workflow)
    assert gap.startswith(str(tmp_path / "wf.yml"))
    assert "`analyze:` was removed from prodigy in 0.3" in gap


def test_gaps_inside_mapreduce_phases_are_found_too(tmp_path: Path) -> None:
    workflow = load_workflow_text(
        tmp_path,
        """
        name: gaps
        mode: mapreduce
        map:
          input: items.json
          agent_template:
            - shell: echo ${item}
              env:
                WHEN: {command: date}
        reduce:
          - shell: echo done
            commit_config: {message_template: "x", squash: true}
        """,
    )
    gaps = unsupported(workflow)
    assert len(gaps) == 2
    assert any("dynamic or conditional `env:` values" in g for g in gaps)
    assert any("`commit_config:` beyond message_template" in g for g in gaps)


def test_ensure_supported_lists_every_gap_and_says_nothing_was_started(tmp_path: Path) -> None:
    workflow = load_workflow_text(
        tmp_path,
        """
        - analyze: {max_cache_age: 300}
        - shell: echo hi
          env:
            MODE: {condition: "true", when_true: a}
        """,
    )
    with pytest.raises(NotImplementedYetError) as info:
        ensure_supported(workflow)
    text = str(info.value)
    assert text.startswith("this workflow uses features this release cannot run yet:")
    assert "`analyze:` was removed" in text
    assert "wf.yml" in text and "dynamic or conditional `env:` values" in text
    assert "\nNothing was started" in text
