"""The whole event log out, as JSON lines, and back into an empty database, byte for byte.

A backup of mcreg is its event log: every read model is rebuilt from it, and
the transparency log's leaves hash the stored records, so the export keeps
each record's position, aggregate id, version, topic and stored state bytes
exactly (state base64-encoded). Restoring writes them back with the same
positions, so tracked positions, proofs and checkpoints stay meaningful.

The header line carries the transparency log's identity: its origin and its
keys, sealed as stored (``mcreg.stores.log_keys``), so the restored log keeps
its name and keys instead of starting a new log; restoring them needs the
KEK that sealed them. An export of version 1 (from before) has none: its
restore says so, and the restored log signs under a new key.

Learner keys are not in the log: they are backed up (or not) under the
erasure policy of ``learner_keys`` (see ``mcreg/stores/learner_vault.py``). The SQL is the event
store's (``mcreg.stores.event_store``); this module holds the file format.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, NamedTuple
from uuid import UUID

from mcreg.bootstrap import Services
from mcreg.registry.trust.signed_note import NoteError
from mcreg.stores.event_store import FeedRecord, load_records, stored_records
from mcreg.stores.issuer_keys import KeyUnavailable

FORMAT = "mcreg-event-log"
VERSION = 2
"""2: the header carries the log's origin and sealed keys; 1 (still restored): it does not."""
BATCH = 5000


class RestoreRefused(Exception):
    pass


class Restored(NamedTuple):
    events: int
    log_origin: str | None
    """The log's origin, kept from the export; None for an export without the log's keys (version 1)."""


def export_events(services: Services, out: IO[str], progress: Callable[[int], None] = lambda n: None) -> int:
    """Write the log to ``out``, a header line then one line per stored event in log order; the number written."""
    recorder = services.registry.recorder
    head = recorder.max_notification_id() or 0
    header = {"format": FORMAT, "version": VERSION, "head": head, "log": services.log_keys.exported()}
    out.write(json.dumps(header) + "\n")
    written = 0
    for r in stored_records(recorder, head, BATCH):
        record = {
            "position": r.position,
            "aggregate_id": str(r.aggregate_id),
            "version": r.version,
            "topic": r.topic,
            "state": base64.b64encode(r.state).decode(),
        }
        out.write(json.dumps(record, separators=(",", ":")) + "\n")
        written += 1
        if written % BATCH == 0:
            progress(written)
    progress(written)
    return written


def _records(lines: Iterable[str]) -> Iterator[FeedRecord]:
    previous = 0
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            record = FeedRecord(
                int(r["position"]),
                UUID(r["aggregate_id"]),
                int(r["version"]),
                str(r["topic"]),
                base64.b64decode(r["state"], validate=True),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise RestoreRefused(f"line {number} is not an event record: {error}") from None
        if record.position <= previous:
            raise RestoreRefused(f"line {number}: position {record.position} is not after {previous}")
        previous = record.position
        yield record


def restore_events(services: Services, lines: IO[str], progress: Callable[[int], None] = lambda n: None) -> Restored:
    """Load an export into this registry's empty event store, keeping every position, and its log's keys.

    Refused, with nothing written, when the event store is not empty or the log's keys do not open under this
    process's KEK.
    """
    header = json.loads(lines.readline() or "{}")
    if header.get("format") != FORMAT or header.get("version") not in (1, VERSION):
        raise RestoreRefused(f"not an {FORMAT} export of version 1 or {VERSION}")
    recorder = services.registry.recorder
    if recorder.max_notification_id():
        raise RestoreRefused("the event store is not empty: restore only into a new database or schema")
    origin = None
    if header["version"] == VERSION:
        try:
            origin = services.log_keys.adopt(header["log"])
        except (KeyUnavailable, NoteError, KeyError, ValueError, TypeError) as error:
            raise RestoreRefused(f"the log's keys in this export cannot be restored: {error}") from None
    loaded = load_records(recorder, _records(lines), int(header.get("head", 0)), progress, BATCH)
    progress(loaded)
    return Restored(loaded, origin)
