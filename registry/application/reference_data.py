"""The aggregates commands decided on lately (a micro-credential, its provider, a QA decision, its agency), kept in
the process so the next command reads them without asking the store.

What is kept may be stale: another process may have changed it since. It is exact all the same, because a command
never trusts it unchecked (``RegistryCore.execute``): every aggregate served from here joins the versions the save
checks under the store's lock (decision 25), and a command refused on what it read here is refused only once the
store confirms those versions; a stale one is forgotten and the command runs again on fresh reads.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Iterable
from uuid import UUID

from eventsourcing.domain import Aggregate

MAXSIZE = 10_000


class ReferenceData:
    """A bounded, least-recently-used store of aggregates as last saved or read by a command, shared by threads."""

    def __init__(self, maxsize: int = MAXSIZE) -> None:
        self.maxsize = maxsize
        self._kept: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, aggregate_id: UUID) -> Aggregate | None:
        """A copy of the aggregate as kept (the command may change its copy), or None."""
        with self._lock:
            kept = self._kept.get(aggregate_id)
            if kept is None:
                return None
            self._kept.move_to_end(aggregate_id)
        return copy.deepcopy(kept)

    def keep(self, aggregates: Iterable[Aggregate]) -> None:
        """Keep these, as a command that has just committed saw them (nothing else may change them afterwards)."""
        with self._lock:
            for aggregate in aggregates:
                self._kept[aggregate.id] = aggregate
                self._kept.move_to_end(aggregate.id)
            while len(self._kept) > self.maxsize:
                self._kept.popitem(last=False)

    def forget(self, aggregate_ids: Iterable[UUID]) -> None:
        with self._lock:
            for aggregate_id in aggregate_ids:
                self._kept.pop(aggregate_id, None)
