"""How values that JSON does not know are written into stored events."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Transcoding

Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def _same(value: Any) -> Any:
    return value


# Fields of these types are written inline (a hex string, an ISO date, a decimal
# string) rather than as a nested {"_type_", "_data_"} object: decoding a stored
# event then builds a few dicts instead of one per value, which halves the cost
# of reading the log (projections read every event).
_INLINE: dict[Any, Codec] = {
    UUID: (lambda u: u.hex, UUID),
    date: (date.isoformat, date.fromisoformat),
    Decimal: (str, Decimal),
}


def _codec(hint: Any) -> Codec:
    if hint in _INLINE:
        return _INLINE[hint]
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and len(args) == 2 and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        if inner in _INLINE:
            encode, decode = _INLINE[inner]
            return (lambda v: None if v is None else encode(v)), (lambda v: None if v is None else decode(v))
    if typing.get_origin(hint) is tuple:
        return _same, tuple
    return _same, _same


class DataclassAsList(Transcoding):
    """A frozen dataclass as the list of its field values, in field order.

    A list shorter than the fields (written before a field with a default was added) leaves the rest default.
    """

    def __init__(self, cls: type) -> None:
        self.type = cls
        self.name = cls.__name__
        hints = typing.get_type_hints(cls)
        self.fields = tuple((f.name, *_codec(hints[f.name])) for f in dataclasses.fields(cls))

    def encode(self, obj: Any) -> list[Any]:
        return [encode(getattr(obj, name)) for name, encode, _ in self.fields]

    def decode(self, data: list[Any]) -> Any:
        return self.type(*(decode(value) for (_, _, decode), value in zip(self.fields, data, strict=False)))


def register(transcoder: JSONTranscoder, *dataclass_types: type) -> None:
    transcoder.register(DateAsISO())
    for cls in dataclass_types:
        transcoder.register(DataclassAsList(cls))
