"""The masker: no secret value (or its common encodings) survives text or JSON-like values."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from prodigy.core.masking import MASK, MIN_SECRET_LENGTH, Masker


def test_every_occurrence_is_replaced() -> None:
    masker = Masker(["hunter22"])
    assert masker.text("pw=hunter22; again hunter22.") == "pw=***; again ***."


def test_longest_secret_wins_over_its_prefix() -> None:
    masker = Masker(["token", "token-extended"])
    assert masker.text("x token-extended y token z") == "x *** y *** z"


def test_overlapping_secrets_are_masked_as_one_span() -> None:
    masker = Masker(["abcdef", "defghi"])
    assert masker.text("<abcdefghi>") == "<***>"


def test_short_and_empty_values_are_ignored() -> None:
    masker = Masker(["", "a", "abc"])
    assert not masker
    assert masker.text("a abc abcd") == "a abc abcd"
    assert len("abc") < MIN_SECRET_LENGTH


def test_common_encodings_are_masked_too() -> None:
    secret = 'p@ss w/"quote"'
    masker = Masker([secret])
    for encoded in (
        secret,
        json.dumps(secret)[1:-1],
        quote(secret, safe=""),
        base64.b64encode(secret.encode()).decode(),
    ):
        assert masker.text(f"[{encoded}]") == f"[{MASK}]"


def test_value_masks_nested_values_but_not_keys() -> None:
    masker = Masker(["s3cr3t-value"])
    data = {
        "s3cr3t-value": ["keep key", {"deep": "has s3cr3t-value inside"}],
        "n": 3,
        "flag": True,
        "none": None,
        "tuple": ("s3cr3t-value",),
    }
    assert masker.value(data) == {
        "s3cr3t-value": ["keep key", {"deep": "has *** inside"}],
        "n": 3,
        "flag": True,
        "none": None,
        "tuple": ["***"],
    }


def test_with_secrets_keeps_the_old_ones() -> None:
    masker = Masker(["first-secret"]).with_secrets(["second-secret"])
    assert masker.text("first-secret second-secret") == "*** ***"


def test_a_replacement_that_forms_a_new_occurrence_is_masked_again() -> None:
    # one pass turns "bSECRETc" into "b***c", which is itself a secret
    masker = Masker(["SECRET", "b***c"])
    assert masker.text("<bSECRETc>") == "<***>"


_alphabet = st.sampled_from("ab*c-= \n\"'")
_secrets = st.lists(st.text(_alphabet, min_size=MIN_SECRET_LENGTH, max_size=8), max_size=4)


@given(secrets=_secrets, pieces=st.lists(st.text(_alphabet, max_size=12), max_size=6))
def test_no_secret_substring_survives_text(secrets: list[str], pieces: list[str]) -> None:
    text = "".join(p + s for p, s in zip(pieces, secrets * 2, strict=False)) + "".join(pieces)
    masked = Masker(secrets).text(text)
    for secret in secrets:
        assert secret not in masked


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(_alphabet, max_size=16),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


@given(secrets=_secrets, value=_json)
def test_no_secret_substring_survives_value(secrets: list[str], value: object) -> None:
    masked = Masker(secrets).value(value)
    for leaf in _strings(masked):
        for secret in secrets:
            assert secret not in leaf
    assert _shape(masked) == _shape(value)


def _strings(obj: object) -> list[str]:
    """The string values, without dict keys (keys are deliberately not masked)."""
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return [obj] if isinstance(obj, str) else []


def _shape(obj: object) -> object:
    """The value with every string replaced by a marker: masking must keep everything else."""
    if isinstance(obj, dict):
        return {k: _shape(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_shape(v) for v in obj]
    return "<str>" if isinstance(obj, str) else obj


@given(text=st.text(max_size=40))
def test_a_masker_without_secrets_changes_nothing(text: str) -> None:
    assert Masker([]).text(text) == text


def test_secret_named_matches_keys_tokens_secrets_and_passwords() -> None:
    from prodigy.core.masking import secret_named

    for name in (
        "API_KEY",
        "github_token",
        "CLIENT_SECRET",
        "DB_PASSWORD",
        "password",
        "X_PASSWORD_FILE",
    ):
        assert secret_named(name), name
    for name in ("KEYBOARD", "PATH", "TOKENIZER", "HOME", "KEY", "SECRETARY_NAME", "MONKEY"):
        assert not secret_named(name), name


def test_each_line_of_a_multi_line_secret_is_masked_alone() -> None:
    pem = "-----BEGIN KEY-----\nMIIEabc123line1\r\nQ2xvc2UgZW5vdWdo\nab\n-----END KEY-----"
    masker = Masker([pem])
    assert masker.text("line: MIIEabc123line1") == f"line: {MASK}"
    assert masker.text("Q2xvc2UgZW5vdWdo\n") == f"{MASK}\n"
    assert masker.text("ab cd") == "ab cd"  # lines shorter than 4 characters are not masked


def test_hex_and_unpadded_base64_forms_are_masked() -> None:
    secret = "s3cr3t-value!"
    raw = secret.encode()
    masker = Masker([secret])
    for encoded in (
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ):
        assert masker.text(f"<{encoded}>") == f"<{MASK}>", encoded


def test_add_masks_in_place_for_every_holder() -> None:
    masker = Masker(["first-secret"])
    shared = masker
    masker.add(["later-secret", "ab"])
    assert shared.text("later-secret first-secret ab") == f"{MASK} {MASK} ab"


def test_masking_a_text_piece_by_piece_equals_masking_it_whole() -> None:
    secret = "piece-secret-value"
    masker = Masker([secret, "other-long-secret"])
    text = ("abc " + secret + " def other-long-secret\n") * 50 + secret
    whole = masker.text(text)
    for size in (1, 3, 7, 17, 64, 1000):
        out, carry = [], ""
        for start in range(0, len(text), size):
            done, carry = masker.stream_prefix(carry + text[start : start + size])
            out.append(done)
        out.append(masker.text(carry))
        assert "".join(out) == whole, size
