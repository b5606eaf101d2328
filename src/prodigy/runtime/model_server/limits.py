"""Subscription usage limits and reported token counts, as the scripted model server fakes them.

Claude Code on a subscription (`CLAUDE_CODE_OAUTH_TOKEN`) reads the `anthropic-ratelimit-
unified-*` headers of every Messages API answer. A 429 with status `rejected`, a reset epoch
and a representative claim (`five_hour`, `seven_day`) makes it emit a `rate_limit_event` and
end with "You've hit your session limit · resets …"; a 200 with a `-5h-surpassed-threshold`
header makes it emit `rate_limit_event` with `allowed_warning`. A quota window rejects every
message request from request N for S seconds; the reset epoch it reports is the window's end.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Claude Code's names for the limits and the header abbreviations it reads them under.
LIMIT_TYPES = {"five_hour": "5h", "seven_day": "7d"}
_PREFIX = "anthropic-ratelimit-unified"
_WARNING_THRESHOLD = 0.75

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class QuotaWindow:
    """Reject message requests from the `from_request`-th (1-based) on, for `seconds`."""

    from_request: int
    seconds: float
    limit_type: str = "five_hour"

    def __post_init__(self) -> None:
        if self.from_request < 1:
            raise ValueError("a quota window starts at request 1 or later")
        if self.seconds <= 0:
            raise ValueError("a quota window lasts more than 0 seconds")
        if self.limit_type not in LIMIT_TYPES:
            raise ValueError(f"limit type must be one of {', '.join(LIMIT_TYPES)}")


@dataclass(frozen=True, slots=True)
class QuotaWarning:
    """From the `from_request`-th message request on, answers carry a usage warning."""

    from_request: int
    utilization: float = 0.9

    def __post_init__(self) -> None:
        if self.from_request < 1:
            raise ValueError("a quota warning starts at request 1 or later")


@dataclass(frozen=True, slots=True)
class LimitAnswer:
    """What the limits say about one message request: reject it (429), and headers to add."""

    rejected: bool
    headers: Headers = ()
    message: str = ""


class SubscriptionLimits:
    """Counts message requests and opens the quota window; thread-safe."""

    def __init__(
        self,
        window: QuotaWindow | None,
        warning: QuotaWarning | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._window = window
        self._warning = warning
        self._clock = clock
        self._lock = threading.Lock()
        self._requests = 0
        self._window_end: float | None = None
        self._window_type = window.limit_type if window else "five_hour"

    @property
    def requests(self) -> int:
        """Message requests seen so far (rejected ones included)."""
        with self._lock:
            return self._requests

    def open_window(self, seconds: float, limit_type: str = "five_hour") -> float:
        """Reject every message request from now for `seconds`; the reset epoch."""
        QuotaWindow(1, seconds, limit_type)  # validates
        with self._lock:
            self._window_end = self._clock() + seconds
            self._window_type = limit_type
            return self._window_end

    def close_window(self) -> None:
        """End the quota window now (a test that does not want to wait for its end)."""
        with self._lock:
            if self._window_end is not None:
                self._window_end = min(self._window_end, self._clock())

    def check(self) -> LimitAnswer:
        """Count one message request and say how to answer it."""
        with self._lock:
            self._requests += 1
            now = self._clock()
            window = self._window
            if window is not None and self._requests == window.from_request:
                self._window_end = now + window.seconds
                self._window_type = window.limit_type
            if self._window_end is not None and now < self._window_end:
                return _rejected(self._window_end, self._window_type)
            warning = self._warning
            if warning is not None and self._requests >= warning.from_request:
                return _warning(warning.utilization, now)
            return LimitAnswer(False)


def _rejected(window_end: float, limit_type: str) -> LimitAnswer:
    reset = str(math.ceil(window_end))
    headers = (
        (f"{_PREFIX}-status", "rejected"),
        (f"{_PREFIX}-reset", reset),
        (f"{_PREFIX}-representative-claim", limit_type),
        (f"{_PREFIX}-{LIMIT_TYPES[limit_type]}-utilization", "1.0"),
        (f"{_PREFIX}-{LIMIT_TYPES[limit_type]}-reset", reset),
    )
    return LimitAnswer(True, headers, f"scripted model server: {limit_type} limit reached")


def _warning(utilization: float, now: float) -> LimitAnswer:
    reset = str(math.ceil(now + 3600))
    headers = (
        (f"{_PREFIX}-status", "allowed"),
        (f"{_PREFIX}-reset", reset),
        (f"{_PREFIX}-representative-claim", "five_hour"),
        (f"{_PREFIX}-5h-utilization", str(utilization)),
        (f"{_PREFIX}-5h-reset", reset),
        (f"{_PREFIX}-5h-surpassed-threshold", str(_WARNING_THRESHOLD)),
    )
    return LimitAnswer(False, headers)
