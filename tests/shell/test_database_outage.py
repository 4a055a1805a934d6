"""Which database errors mean "the database is away" (503, retry) rather than a fault (500)."""

from __future__ import annotations

import psycopg
import pytest
from eventsourcing import persistence
from psycopg import errors
from psycopg_pool import PoolTimeout

from mcreg.database import UNAVAILABLE_ERRORS, unavailable


def wrapped(error: psycopg.Error) -> persistence.PersistenceError:
    """As the eventsourcing library re-raises psycopg's errors: its own type, the original as the cause."""
    try:
        try:
            raise error
        except psycopg.OperationalError as e:
            raise persistence.OperationalError(str(e)) from e
    except persistence.OperationalError as outer:
        return outer


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("connection refused"),
        psycopg.InterfaceError("the connection is closed"),
        PoolTimeout("couldn't get a connection after 1.00 sec"),
        errors.AdminShutdown("terminating connection due to administrator command"),
        errors.CannotConnectNow("the database system is starting up"),
        errors.ConnectionFailure("connection failure"),
        wrapped(psycopg.OperationalError("server closed the connection unexpectedly")),
        wrapped(PoolTimeout("couldn't get a connection after 1.00 sec")),
    ],
    ids=repr,
)
def test_a_lost_or_refused_connection_is_an_outage(error: Exception) -> None:
    assert isinstance(error, UNAVAILABLE_ERRORS)
    assert unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        errors.SerializationFailure("could not serialize access"),
        errors.LockNotAvailable("could not obtain lock"),
        errors.QueryCanceled("canceling statement due to statement timeout"),
        wrapped(errors.DeadlockDetected("deadlock detected")),
        persistence.OperationalError("Can't do multi-row tracking with single-row tracking table"),
        ValueError("not a database error at all"),
    ],
    ids=repr,
)
def test_a_failed_query_is_not_an_outage(error: Exception) -> None:
    assert not unavailable(error)
