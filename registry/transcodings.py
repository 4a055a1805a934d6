"""How values that JSON does not know are written into stored events."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class DataclassAsDict(Transcoding):
    """A frozen dataclass as a dict of its fields; lists come back as tuples."""

    def __init__(self, cls: type) -> None:
        self.type = cls
        self.name = cls.__name__
        self.fields = tuple(f.name for f in dataclasses.fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self.fields}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def register(transcoder: JSONTranscoder, *dataclass_types: type) -> None:
    transcoder.register(DateAsISO())
    for cls in dataclass_types:
        transcoder.register(DataclassAsDict(cls))
