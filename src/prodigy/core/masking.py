"""The one redaction chokepoint: secret values never reach the store, logs or the terminal."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

MASK = "***"
# Shorter values would mask ordinary words and digits everywhere ("1", "true", "main"),
# making every log unreadable while protecting nothing worth protecting.
MIN_SECRET_LENGTH = 4
# Variables whose values are secrets whoever sets them (issue 7): *_KEY, *_TOKEN, *_SECRET
# and anything with PASSWORD in its name, in any case.
_SECRET_NAME = re.compile(r"(?i)(.*_(KEY|TOKEN|SECRET)|.*PASSWORD.*)")


def secret_named(name: str) -> bool:
    """True for a variable name that marks its value as a secret (API_KEY, DB_PASSWORD ...)."""
    return _SECRET_NAME.fullmatch(name) is not None


def _encodings(secret: str) -> set[str]:
    """The raw value plus the encodings a secret is commonly written in (docs/environment.md).

    A multi-line secret (a PEM key from a file) is also masked line by line: output is
    streamed and shown a line at a time, so the whole value never appears in one piece.
    Encodings are of the whole value only: base64 of a longer text that merely contains
    the secret starts at another offset and cannot be recognised (docs/environment.md).
    """
    raw = secret.encode()
    forms = {secret}
    forms.add(json.dumps(secret)[1:-1])  # JSON-escaped, as it appears inside a JSON string
    forms.add(quote(secret, safe=""))  # URL-encoded
    b64 = base64.b64encode(raw).decode()
    forms |= {b64, b64.rstrip("="), base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    forms |= {raw.hex(), raw.hex().upper()}
    if "\n" in secret or "\r" in secret:
        forms |= {line.strip() for line in secret.splitlines()}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Masker:
    """Replaces every occurrence of every secret value with `***`.

    Values shorter than MIN_SECRET_LENGTH characters are ignored. Overlapping occurrences are
    masked as one span, and masking repeats until no secret is left (a replacement can
    join text into a new occurrence), so no secret substring survives.
    """

    __slots__ = ("_raw", "_secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._raw = tuple(s for s in secrets if len(s) >= MIN_SECRET_LENGTH)
        forms: set[str] = set()
        for secret in self._raw:
            forms |= _encodings(secret)
        self._secrets: tuple[str, ...] = tuple(sorted(forms, key=lambda s: (-len(s), s)))

    @property
    def secrets(self) -> tuple[str, ...]:
        """The masked forms, longest first."""
        return self._secrets

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def with_secrets(self, more: Iterable[str]) -> Masker:
        """A new masker that masks these secrets as well."""
        return Masker((*self._raw, *more))

    def add(self, more: Iterable[str]) -> None:
        """Masks these secrets too, in place: a secret learned while a run goes (a step's own
        `env:`) must reach the store, the logs and the terminal, which share this masker."""
        fresh = tuple(s for s in more if len(s) >= MIN_SECRET_LENGTH and s not in self._raw)
        if fresh:
            grown = Masker((*self._raw, *fresh))
            self._raw, self._secrets = grown._raw, grown._secrets

    def text(self, s: str) -> str:
        """`s` with every secret occurrence replaced by `***`."""
        if not self._secrets:
            return s
        while True:
            spans = self._spans(s)
            if not spans:
                return s
            s = _replace_spans(s, spans)

    def stream_prefix(self, buffer: str) -> tuple[str, str]:
        """For masking a long text piece by piece: (the masked part of `buffer` no later
        text can change, the rest to prepend to the next piece). Call text() on the last
        rest. Memory stays at one piece plus the longest secret."""
        if not self._secrets:
            return buffer, ""
        cut = max(0, len(buffer) - len(self._secrets[0]) + 1)  # longest form first
        moved = True
        while moved:  # an occurrence crossing the cut is kept whole for the next piece
            moved = False
            for start, end in self._spans(buffer):
                if start < cut < end:
                    cut, moved = start, True
        return self.text(buffer[:cut]), buffer[cut:]

    def value(self, obj: Any) -> Any:
        """Masks strings recursively through JSON-like values; dict keys are left as they are."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, Mapping):
            return {key: self.value(item) for key, item in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.value(item) for item in obj]
        return obj

    def _spans(self, s: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for secret in self._secrets:
            start = s.find(secret)
            while start != -1:
                spans.append((start, start + len(secret)))
                start = s.find(secret, start + 1)
        return spans


def _replace_spans(s: str, spans: list[tuple[int, int]]) -> str:
    """Replaces the union of the spans, merging overlapping or touching ones into one mask."""
    spans.sort()
    parts: list[str] = []
    cursor = 0
    cur_start, cur_end = spans[0]
    for start, end in spans[1:]:
        if start <= cur_end:
            cur_end = max(cur_end, end)
            continue
        parts += [s[cursor:cur_start], MASK]
        cursor = cur_end
        cur_start, cur_end = start, end
    parts += [s[cursor:cur_start], MASK, s[cur_end:]]
    return "".join(parts)
