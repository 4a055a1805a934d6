"""Operations on the registry's read models that an operator records: stepping over an event, or retrying it."""

from __future__ import annotations

from uuid import UUID

from mcreg.registry.aggregates.read_model_log import ReadModelLog
from mcreg.registry.application.core import Context, RegistryCore, command
from mcreg.registry.errors import NotFound
from mcreg.registry.permissions import require_role
from mcreg.registry.vocabulary import Role


class OperationsCommands(RegistryCore):
    """The audit trail of what operators did about events a read model could not apply."""

    def _read_model_log(self, ctx: Context, read_model: str) -> ReadModelLog:
        require_role(ctx.actor, Role.OPERATOR)
        try:
            return self.get(ReadModelLog, ReadModelLog.create_id(read_model))
        except NotFound:
            return ReadModelLog(ctx.stamp(), read_model)

    @command
    def record_event_skipped(self, ctx: Context, read_model: str, position: int, error_class: str) -> UUID:
        """For the operator: record that ``read_model`` steps over the event at ``position``; the log's id."""
        log = self._read_model_log(ctx, read_model)
        log.skip(ctx.stamp(), position, error_class)
        ctx.save(log)
        return log.id

    @command
    def record_event_retried(self, ctx: Context, read_model: str, position: int, error_class: str) -> UUID:
        """For the operator: record that ``read_model`` tries the event at ``position`` again; the log's id."""
        log = self._read_model_log(ctx, read_model)
        log.retry(ctx.stamp(), position, error_class)
        ctx.save(log)
        return log.id
