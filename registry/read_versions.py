"""The read-version check of decision 25, and the in-memory recorder that enforces it.

A command names the aggregates its decision relied on (``Context.rely_on``); ``Application.save``
passes them to the recorder as ``read_versions={id: version}``. Inside the insert, under the lock
that serialises every save, the recorder compares them with the versions stored now and refuses
the whole save if one changed. The PostgreSQL recorder (``mcreg.stores.event_store``) and the
in-memory one here apply the same rule, ``check_read_versions``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder


def relied_on(stored_events: Sequence[StoredEvent], read_versions: Mapping[UUID, int] | None) -> dict[UUID, int]:
    """The read versions to check: those of aggregates the save does not write itself (the store's
    unique version key already guards those)."""
    written = {e.originator_id for e in stored_events}
    return {i: version for i, version in (read_versions or {}).items() if i not in written}


def check_read_versions(expected: Mapping[UUID, int], current: Callable[[Iterable[UUID]], Mapping[UUID, int]]) -> None:
    """Refuse the save (``IntegrityError``) if an aggregate's ``current`` stored version is not the one read."""
    if not expected:
        return
    stored = current(expected)
    if changed := [i for i, version in expected.items() if stored.get(i) != version]:
        raise IntegrityError(f"relied-on aggregates changed meanwhile: {', '.join(map(str, changed))}")


@runtime_checkable
class VersionReader(Protocol):
    """A recorder that tells the stored versions of many aggregates in one read (both recorders here do)."""

    def stored_versions(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, int]:
        """The latest stored version of each of these aggregates that has events."""


class ReadCheckingPOPORecorder(POPOApplicationRecorder):
    """The library's in-memory recorder, refusing a save whose relied-on aggregates changed after they were read."""

    def _assert_uniqueness(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._assert_uniqueness(stored_events, **kwargs)  # runs under the recorder's lock, as the insert does
        check_read_versions(relied_on(stored_events, kwargs.get("read_versions")), self._versions)

    def _versions(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, int]:
        versions = {i: self._stored_events_index.get(str(i)) for i in aggregate_ids}
        return {i: max(index) for i, index in versions.items() if index}

    def stored_versions(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, int]:
        with self._database_lock:
            return self._versions(aggregate_ids)
