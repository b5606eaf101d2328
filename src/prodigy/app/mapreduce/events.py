"""Recording a job's lifecycle events: one store row each, as it happens, then the display."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from prodigy.core.records import EventRecord
from prodigy.store import Store

if TYPE_CHECKING:  # the payload builders load the workflow model; `dlq list` needs none of it
    from prodigy.core.event_payloads import Payload


@dataclass(frozen=True, slots=True)
class MapCounts:
    """Where the map phase stands, for progress displays."""

    total: int
    done: int  # finished for good: landed, or succeeded with nothing to merge
    failed: int  # failed for good (dead-lettered or skipped)
    running: int
    merging: int  # waiting for or inside the merge queue

    @property
    def pending(self) -> int:
        return max(0, self.total - self.done - self.failed - self.running - self.merging)


@runtime_checkable
class JobObserver(Protocol):
    """A display that wants job events; reporters without these methods just get notes."""

    def job_event(self, event: EventRecord) -> None: ...

    def map_counts(self, counts: MapCounts) -> None: ...


class JobEvents:
    """Appends events of one job to the store and shows them to the observer, if any."""

    def __init__(
        self, store: Store, job_id: str, session_id: str, observer: object | None = None
    ) -> None:
        self.store = store
        self.job_id = job_id
        self.session_id = session_id
        self.observer = observer if isinstance(observer, JobObserver) else None

    def record(self, event_type: str, payload: Payload, *, agent_id: str | None = None) -> None:
        event = self.store.events.append(
            event_type,
            payload,
            job_id=self.job_id,
            session_id=self.session_id,
            agent_id=agent_id,
        )
        if self.observer is not None:
            self.observer.job_event(event)

    def counts(self, counts: MapCounts) -> None:
        if self.observer is not None:
            self.observer.map_counts(counts)
