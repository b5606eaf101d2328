"""Progress events that also belong in the event log are written to the store on the way."""

from __future__ import annotations

from prodigy.core import event_payloads as ev
from prodigy.core.progress import ProgressEvent, QuotaWarned, Reporter, RetryScheduled
from prodigy.store import Store


class RecordingReporter:
    """Passes every event to the display; records each retry attempt and each usage-limit
    warning as an event."""

    def __init__(self, inner: Reporter, store: Store, session_id: str) -> None:
        self.inner = inner
        self.store = store
        self.session_id = session_id

    def emit(self, event: ProgressEvent) -> None:
        if isinstance(event, RetryScheduled):
            self.store.events.append(
                ev.STEP_RETRY_SCHEDULED,
                {
                    "step": event.label,
                    "attempt": event.attempt,
                    "attempts": event.attempts,
                    "delay_s": round(event.delay, 3),
                    "reason": event.reason,
                },
                session_id=self.session_id,
            )
        if isinstance(event, QuotaWarned):
            self.store.events.append(
                ev.QUOTA_WARNING,
                {"step": event.step, **ev.quota_warning(None, None, dict(event.info))},
                session_id=self.session_id,
            )
        self.inner.emit(event)
