"""A registry, its read models and a worker start on a machine where a connection takes seconds to make.

Before decision 78, the library's pool was used before it held a connection: the first query waited only the
one second any query waits for a free connection, so a slow connection failed the start (CI saw it as
``couldn't get a connection after 1.00 sec`` in a test's setup, on a loaded machine).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import OperationalError
from eventsourcing.utils import Environment
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mcreg.bootstrap import bootstrap, open_read_models
from mcreg.database import Database
from mcreg.settings import Settings
from mcreg.stores import datastore
from tests.world import World

HOLD = 1.6
"""Seconds the relay holds each new connection before it reaches the server: more than a query's wait."""


class SlowRelay:
    """A TCP relay on loopback to the test server that makes every new connection wait ``HOLD`` seconds."""

    def __init__(self, host: str, port: int) -> None:
        # The embedded server listens on a Unix socket in a folder (libpq's host), a real one on TCP.
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            threading.Thread(target=self.relay, args=(client,), daemon=True).start()

    def relay(self, client: socket.socket) -> None:
        time.sleep(HOLD)
        try:
            server = connect(*self.target)
        except OSError:
            client.close()
            return
        threading.Thread(target=pipe, args=(server, client), daemon=True).start()
        pipe(client, server)

    def close(self) -> None:
        self.listener.close()


def connect(host: str, port: int) -> socket.socket:
    if host.startswith("/"):
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.connect(f"{host}/.s.PGSQL.{port}")
        return server
    return socket.create_connection((host, port))


def pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def slow_url(database: Database) -> Iterator[str]:
    params = conninfo_to_dict(database.conninfo)
    relay = SlowRelay(str(params.get("host", "127.0.0.1")), int(params.get("port", 5432)))
    yield make_conninfo(database.conninfo, host="127.0.0.1", port=str(relay.port), target_session_attrs=None)
    relay.close()


def test_a_registry_and_its_read_models_start_when_each_connection_takes_seconds(
    slow_url: str, schema: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = Settings(database_url=slow_url, postgres_schema=schema, data_dir=tmp_path_factory.getbasetemp())
    services = bootstrap(settings)
    try:
        read_models = open_read_models(services)
        try:
            world = World(services.registry)
            credential_id = world.issue()
            assert read_models.catch_up() > 0
            assert set(read_models.lag().values()) == {0}
            assert credential_id in services.registry.repository
        finally:
            read_models.close()
    finally:
        services.close()


def test_a_database_that_is_not_there_still_fails_the_start_with_the_librarys_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(datastore, "FILL_WAIT", 2.0)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    env = Database(make_conninfo(host="127.0.0.1", port=str(port), dbname="mcreg", user="mcreg"), "server").library_env
    with pytest.raises(OperationalError, match="no connection to PostgreSQL within 2 s"):
        datastore.ReadyFactory(Environment("Registry", env))
