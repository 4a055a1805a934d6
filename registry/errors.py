"""Errors the registry raises when a command cannot be carried out.

Each error has a stable ``type`` slug (the API turns it into an RFC 9457
problem ``type`` URI) and a status family the adapters map onto a protocol.
Nothing is written when one of them is raised.
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID


class DomainError(Exception):
    """Base of every error a command may raise on purpose."""

    type: ClassVar[str] = "domain-error"
    title: ClassVar[str] = "The command cannot be carried out"
    status: ClassVar[int] = 400

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidInput(DomainError):
    """A field breaks a rule of the registry's vocabulary."""

    type = "invalid-input"
    title = "Invalid input"
    status = 422

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", field=field, rule=rule)
        self.field = field
        self.rule = rule


class NotFound(DomainError):
    """The command names something the registry does not hold."""

    type = "not-found"
    title = "Not found"
    status = 404

    def __init__(self, kind: str, id: UUID | str) -> None:
        super().__init__(f"no {kind} with id {id}", kind=kind, id=str(id))


class Forbidden(DomainError):
    """The caller's organisation or role may not do this to this object."""

    type = "forbidden"
    title = "Forbidden"
    status = 403


class StateConflict(DomainError):
    """The object's current state does not allow the command (e.g. revoking twice)."""

    type = "state-conflict"
    title = "Conflicts with the current state"
    status = 409


class ConcurrentUpdate(DomainError):
    """Someone else changed the same object first; retrying may succeed."""

    type = "concurrent-update"
    title = "Concurrent update"
    status = 409


class IdempotencyKeyReused(DomainError):
    """The idempotency key was already used for a different command."""

    type = "idempotency-key-reused"
    title = "Idempotency key reused with a different request"
    status = 409


class NoQualityAssurance(DomainError):
    """Issuance needs an accreditation or a positive review in force on the issue date."""

    type = "no-quality-assurance"
    title = "No quality assurance covers this issuance"
    status = 422
