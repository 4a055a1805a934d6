"""The core every command family builds on: running a command, reading aggregates within it, and sealing
free text that may speak of a learner under that learner's key (opened again while the key exists).

A command takes the acting organisation first and an optional ``idempotency_key``; it returns an id
(or a batch result). Its events, and the receipt of its idempotency key, are saved in one
transaction, which fails if an aggregate the command relied on changed meanwhile (decision 25).
A command on one existing aggregate goes the one shared way, ``changing``: get → check → change → save.
The aggregates commands decide on are kept between commands (``ReferenceData``) and checked, not re-read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import hmac
import json
import os
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
from mcreg.registry.application.reference_data import ReferenceData
from mcreg.registry.errors import ConcurrentUpdate, DomainError, IdempotencyKeyReused, NotFound
from mcreg.registry.fingerprints import fingerprinted_fields
from mcreg.registry.read_versions import ReadCheckingPOPORecorder, VersionReader
from mcreg.registry.stamp import Actor, Stamp

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")


@dataclass
class _Reads:
    """What the running command has read: each aggregate by id, and the versions of those served from the
    reference data (unchecked so far)."""

    reference_data: ReferenceData | None
    aggregates: dict[UUID, Aggregate] = field(default_factory=dict)
    served: dict[UUID, int] = field(default_factory=dict)


class _StaleReferenceData(Exception):
    """The command read an aggregate from the reference data that has changed since: run it again, fresh."""


_command_reads: ContextVar[_Reads | None] = ContextVar("command_reads", default=None)
"""What the running command has read (see ``RegistryCore.get``)."""


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
        lookup_key: Callable[[], bytes] | None = None,
    ) -> None:
        """``lookup_key`` gives the key student numbers are looked up under (derived from the key-encryption key,
        opened only when a student number is first digested); by default one for this process alone."""
        super().__init__(env)
        self.vault = vault if vault is not None else MemoryLearnerVault()
        self.issuer_key_vault = issuer_key_vault if issuer_key_vault is not None else MemoryIssuerKeyVault()
        self.clock = clock
        self._lookup_key = lookup_key if lookup_key is not None else functools.cache(lambda: os.urandom(32))
        self.reference_data = ReferenceData()

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
        if key:
            request = json.dumps([name, args, kwargs], sort_keys=True, separators=(",", ":"), default=_plain)
            fingerprint = hmac.new(self.vault.fingerprint_key(), request.encode(), hashlib.sha256).hexdigest()
            if earlier := self._receipt(Receipt.create_id(actor.org, key)):
                return cast(R, self._replay(earlier, name, fingerprint))
        run = functools.partial(self._attempt, method, actor, key, fingerprint, args, kwargs)
        try:
            return run(self.reference_data)
        except _StaleReferenceData:
            return run(None)

    def _attempt(
        self,
        method: Callable[..., R],
        actor: Actor,
        key: str | None,
        fingerprint: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        reference_data: ReferenceData | None,
    ) -> R:
        """Run the command once, reading from ``reference_data`` if given; ``_StaleReferenceData`` if what it
        read there had changed meanwhile (then nothing was written)."""
        name = method.__name__
        ctx = Context(actor, key, self.today())
        reads = _Reads(reference_data)
        token = _command_reads.set(reads)
        try:
            result = method(self, ctx, *args, **kwargs)
        except DomainError:
            self._confirm(reads)  # a refusal stands only on what the store holds now
            raise
        finally:
            _command_reads.reset(token)
        if key:
            ctx.save(Receipt(ctx.stamp(), actor.org, key, name, fingerprint, result))
        try:
            self.save(*ctx.changed, read_versions=reads.served | ctx.relied_on)
        except IntegrityError:
            if key and (earlier := self._receipt(Receipt.create_id(actor.org, key))):
                return cast(R, self._replay(earlier, name, fingerprint))
            self._confirm(reads)
            raise ConcurrentUpdate("another command changed the same object first; retry") from None
        if reference_data is not None:
            reference_data.forget(a.id for a in ctx.changed)
            reference_data.keep(reads.aggregates[i] for i in reads.served | ctx.relied_on if i in reads.aggregates)
        return result

    def _confirm(self, reads: _Reads) -> None:
        """``_StaleReferenceData`` (having forgotten them) if aggregates served from the reference data changed."""
        if not reads.served or reads.reference_data is None:
            return
        stored = self.recorder.stored_versions(reads.served) if isinstance(self.recorder, VersionReader) else {}
        if any(stored.get(i) != version for i, version in reads.served.items()):
            reads.reference_data.forget(reads.served)
            raise _StaleReferenceData

    def _receipt(self, receipt_id: UUID) -> Receipt | None:
        """The receipt of an idempotency key, if one was saved: its one event, in one query (a receipt is never
        snapshotted, so the repository's look for a snapshot first would be a query for nothing)."""
        receipt: Receipt | None = None
        for recorded in self.events.get(receipt_id):
            receipt = cast(Receipt.Event, recorded).mutate(receipt)
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

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """A read of several facts at once (a verification asks of a decision and its agency on two dates): within
        the block each aggregate is read once, and ``get`` answers the same object again, as within a command."""
        if _command_reads.get() is not None:
            yield
            return
        token = _command_reads.set(_Reads(None))
        try:
            yield
        finally:
            _command_reads.reset(token)

    def get(self, cls: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        """The aggregate of that class, or NotFound naming the kind.

        Within one command each aggregate is read once: a second ``get`` answers the same object, so
        the command sees one state of it (and its own changes), and pays for one query, or none when the
        reference data holds it (then its version is checked with the command's save).
        """
        kind = cls.__name__.lower()
        reads = _command_reads.get() if version is None else None
        aggregate = reads.aggregates.get(aggregate_id) if reads is not None else None
        if aggregate is None and reads is not None and reads.reference_data is not None:
            aggregate = reads.reference_data.get(aggregate_id)
            if aggregate is not None:
                reads.served[aggregate_id] = aggregate.version  # checked when the command saves, or is refused
        if aggregate is None:
            try:
                aggregate = self.repository.get(aggregate_id, version=version)
            except AggregateNotFoundError:
                raise NotFound(kind, aggregate_id) from None
        if reads is not None:
            reads.aggregates[aggregate_id] = aggregate
        if not isinstance(aggregate, cls):
            raise NotFound(kind, aggregate_id)
        return aggregate

    def _exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def existing(self, aggregate_ids: Iterable[UUID]) -> set[UUID]:
        """Which of these aggregates exist: one read where the recorder tells many versions at once."""
        if isinstance(self.recorder, VersionReader):
            return set(self.recorder.stored_versions(aggregate_ids))
        return {i for i in aggregate_ids if self._exists(i)}

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
        return fingerprinted_fields(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)
