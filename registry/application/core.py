"""The core every command family builds on: running a command, reading aggregates within it, and sealing
free text that may speak of a learner under that learner's key (opened again while the key exists).

A command takes the acting organisation first and an optional ``idempotency_key``; it returns an id
(or a batch result). Its events, and the receipt of its idempotency key, are saved in one
transaction, which fails if an aggregate the command relied on changed meanwhile (decision 25).
A command on one existing aggregate goes the one shared way, ``changing``: get → check → change → save.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, IntegrityError
from eventsourcing.popo import POPOFactory

from mcreg.registry import validate as v
from mcreg.registry.aggregates.issuer_keys import IssuerKeyVault, MemoryIssuerKeyVault
from mcreg.registry.aggregates.learners import (
    LearnerVault,
    MemoryLearnerVault,
    SealedText,
    seal_text,
    unseal_text,
)
from mcreg.registry.aggregates.receipt import Receipt
from mcreg.registry.errors import ConcurrentUpdate, IdempotencyKeyReused, NotFound
from mcreg.registry.read_versions import ReadCheckingPOPORecorder
from mcreg.registry.stamp import Actor, Stamp

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

_command_reads: ContextVar[dict[UUID, Aggregate] | None] = ContextVar("command_reads", default=None)
"""The aggregates the running command has read, by id (see ``RegistryCore.get``)."""


@dataclass
class Context:
    """What a command knows while it runs: who acts, with which key, on which day."""

    actor: Actor
    idempotency_key: str | None
    today: date
    changed: list[Aggregate] = field(default_factory=list)
    relied_on: dict[UUID, int] = field(default_factory=dict)

    def stamp(self, effective: date | None = None) -> Stamp:
        return Stamp(self.actor, effective or self.today, self.idempotency_key)

    def past(self, name: str, day: date | None) -> date:
        """A business date that must not lie in the future; today by default."""
        return v.past_day(name, day, self.today) if day is not None else self.today

    def stamp_on(self, name: str, day: date | None) -> Stamp:
        """A stamp effective on the business date given as ``name`` (today by default), never in the future."""
        return self.stamp(self.past(name, day))

    def save(self, *aggregates: Aggregate) -> None:
        """Save these with the command (an aggregate changed twice in one command is saved once)."""
        saving = {id(a) for a in self.changed}
        self.changed.extend(a for a in aggregates if id(a) not in saving)

    def rely_on(self, *aggregates: Aggregate) -> None:
        """The command's decision rests on these aggregates as read: the save fails if one changed meanwhile."""
        self.relied_on.update((a.id, a.version) for a in aggregates)


def command(method: Callable[..., R]) -> Callable[..., R]:
    """Run ``method(ctx, ...)`` as a command of the acting ``actor``, saved atomically and once per key."""

    @functools.wraps(method)
    def run(self: RegistryCore, actor: Actor, *args: Any, idempotency_key: str | None = None, **kwargs: Any) -> R:
        return self.execute(method, actor, idempotency_key, args, kwargs)

    return run


class RegistryCore(Application[UUID]):
    """Runs commands and reads aggregates; the command families add the commands themselves."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        vault: LearnerVault | None = None,
        issuer_key_vault: IssuerKeyVault | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(env)
        self.vault = vault if vault is not None else MemoryLearnerVault()
        self.issuer_key_vault = issuer_key_vault if issuer_key_vault is not None else MemoryIssuerKeyVault()
        self.clock = clock

    def construct_recorder(self) -> ApplicationRecorder:
        """In memory, unless another recorder is named, one that checks read versions as the PostgreSQL one does."""
        if isinstance(self.factory, POPOFactory) and not self.env.get(self.factory.APPLICATION_RECORDER_TOPIC):
            return ReadCheckingPOPORecorder()
        return super().construct_recorder()

    def today(self) -> date:
        return self.clock().date()

    def sealed(self, learner_id: UUID, about: UUID, field: str, text: str) -> SealedText:
        """Free text that may speak of a learner, sealed under the learner's key for the ``field`` of the
        aggregate ``about`` (the decision "Free text is personal data")."""
        return seal_text(learner_id, about, field, text, self.vault.key(learner_id))

    def open_text(self, text: str | SealedText, about: UUID, field: str) -> str | None:
        """Free text as ``sealed`` wrote it for ``about``'s ``field``: None once the learner is forgotten.
        Clear text, stored before free text was sealed, reads as it is."""
        (opened,) = self.open_texts(about, [(field, text)])
        return opened

    def open_texts(self, about: UUID, texts: Iterable[tuple[str, str | SealedText]]) -> list[str | None]:
        """Several (field, text) of ``about`` opened as ``open_text`` does, asking the vault once per learner."""
        keys: dict[UUID, bytes | None] = {}
        opened: list[str | None] = []
        for name, text in texts:
            if isinstance(text, str):
                opened.append(text)
                continue
            if text.learner_id not in keys:
                keys[text.learner_id] = self.vault.key(text.learner_id)
            key = keys[text.learner_id]
            opened.append(unseal_text(text, about, name, key) if key is not None else None)
        return opened

    # Running commands ------------------------------------------------------

    def execute(
        self,
        method: Callable[..., R],
        actor: Actor,
        key: str | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> R:
        name = method.__name__
        fingerprint = ""
        receipt_id = None
        if key:
            request = json.dumps([name, args, kwargs], sort_keys=True, separators=(",", ":"), default=_plain)
            fingerprint = hmac.new(self.vault.fingerprint_key(), request.encode(), hashlib.sha256).hexdigest()
            receipt_id = Receipt.create_id(actor.org, key)
            if earlier := self._receipt(receipt_id):
                return cast(R, self._replay(earlier, name, fingerprint))
        ctx = Context(actor, key, self.today())
        reads = _command_reads.set({})
        try:
            result = method(self, ctx, *args, **kwargs)
        finally:
            _command_reads.reset(reads)
        if key:
            ctx.save(Receipt(ctx.stamp(), actor.org, key, name, fingerprint, result))
        try:
            self.save(*ctx.changed, read_versions=ctx.relied_on)
        except IntegrityError:
            if receipt_id and (earlier := self._receipt(receipt_id)):
                return cast(R, self._replay(earlier, name, fingerprint))
            raise ConcurrentUpdate("another command changed the same object first; retry") from None
        return result

    def _receipt(self, receipt_id: UUID) -> Receipt | None:
        try:
            receipt: Receipt = self.repository.get(receipt_id)
        except AggregateNotFoundError:
            return None
        return receipt

    @staticmethod
    def _replay(receipt: Receipt, command: str, fingerprint: str) -> Any:
        if receipt.command != command or receipt.fingerprint != fingerprint:
            raise IdempotencyKeyReused("this idempotency key was used for a different request")
        return receipt.result

    @contextlib.contextmanager
    def changing(
        self, ctx: Context, cls: type[A], aggregate_id: UUID, may_change: Callable[[Actor, A], None]
    ) -> Iterator[A]:
        """The one path of a command on an existing aggregate: get it, check the caller ``may_change`` it,
        let the ``with`` block change it, save it with the command."""
        aggregate = self.get(cls, aggregate_id)
        may_change(ctx.actor, aggregate)
        yield aggregate
        ctx.save(aggregate)

    # Reading ----------------------------------------------------------------

    def get(self, cls: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        """The aggregate of that class, or NotFound naming the kind.

        Within one command each aggregate is read once: a second ``get`` answers the same object, so
        the command sees one state of it (and its own changes), and pays for one query.
        """
        kind = cls.__name__.lower()
        reads = _command_reads.get() if version is None else None
        aggregate = reads.get(aggregate_id) if reads is not None else None
        if aggregate is None:
            try:
                aggregate = self.repository.get(aggregate_id, version=version)
            except AggregateNotFoundError:
                raise NotFound(kind, aggregate_id) from None
            if reads is not None:
                reads[aggregate_id] = aggregate
        if not isinstance(aggregate, cls):
            raise NotFound(kind, aggregate_id)
        return aggregate

    def _exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def known_at(self, cls: type[A], aggregate_id: UUID, at: datetime | None) -> A:
        """The aggregate as the registry had recorded it at system time ``at`` (now if None).

        Replayed from the stored events, never read from a projection, so an
        auditor gets what the registry said then, not a later correction.
        """
        if at is None:
            return self.get(cls, aggregate_id)
        aggregate: Aggregate | None = None
        for domain_event in self.events.get(aggregate_id):
            recorded = cast(Aggregate.Event, domain_event)  # the event store holds only aggregate events
            if recorded.timestamp > at:
                break
            aggregate = recorded.mutate(aggregate)
        if not isinstance(aggregate, cls):
            raise NotFound(cls.__name__.lower(), aggregate_id)
        return aggregate


def _plain(value: Any) -> Any:
    """How a request argument appears in its fingerprint: the same request, the same text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)
