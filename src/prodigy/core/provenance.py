"""Text that remembers which of its characters came from interpolated values (data).

A `claude:` prompt is the workflow's text with values pasted in. The real Claude gets the
whole text unchanged; the scripted agent, which *executes* lines such as `@run ...`, must
take its directives only from the workflow's own text and the repository's command files,
never from a value (issue 12 item 16: an item `hello\\n@run touch pwned`).
"""

from __future__ import annotations

from dataclasses import dataclass

from prodigy.core.interpolation import interpolate_spans
from prodigy.core.variables import Scope

DATA = "\uffff"  # stands for a value character in `mask()`; never part of a directive


@dataclass(frozen=True, slots=True)
class Marked:
    """`text` and the [start, end) ranges of it that are data (sorted, not overlapping)."""

    text: str
    data: tuple[tuple[int, int], ...] = ()

    def mask(self) -> str:
        """`text` with every data character, newlines too, replaced by DATA: the same length,
        but a value is one opaque run that cannot start a line, a directive or a block end."""
        if not self.data:
            return self.text
        chars = list(self.text)
        for start, end in self.data:
            chars[start:end] = DATA * (end - start)
        return "".join(chars)

    def flags(self) -> list[bool]:
        """For each character of `text`: is it data?"""
        flags = [False] * len(self.text)
        for start, end in self.data:
            flags[start:end] = [True] * (end - start)
        return flags

    def replace(self, old: str, new: Marked) -> Marked:
        """`text.replace(old, new.text)` for a template without data, keeping `new`'s ranges."""
        assert not self.data, "only trusted text is a template for replace()"
        parts: list[str] = []
        ranges: list[tuple[int, int]] = []
        position = 0
        pieces = self.text.split(old)
        for k, piece in enumerate(pieces):
            parts.append(piece)
            position += len(piece)
            if k < len(pieces) - 1:
                ranges.extend((s + position, e + position) for s, e in new.data)
                parts.append(new.text)
                position += len(new.text)
        return Marked("".join(parts), tuple(ranges))


def interpolate_marked(template: str, scope: Scope) -> Marked:
    """`interpolate(template, scope)` that remembers where the values went."""
    return Marked(*interpolate_spans(template, scope))
