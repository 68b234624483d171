"""Connections of the PostGIS store: a few kept open between transactions, the role a caller
acts as, and the driver's errors as the library's."""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from gis_planner.errors import StoreError, StoreUnavailable
from gis_planner.operators import OPERATOR_KEYS
from gis_planner.store.access import Caller
from gis_planner.store.pgschema import ADMIN_ROLE, VIEWER_ROLE, operator_role, redact

#: Idle connections a store keeps for its next transactions: as many as a server's requests
#: run at once (anyio's 40 threads serve 20 editors and their readers), since a new connection
#: costs a SCRAM exchange on both sides and a new backend, more than an edit's own queries.
_MAX_IDLE = 40


def role_of(caller: Caller) -> str:
    """The database role a caller acts as."""
    if caller.role == "admin":
        return ADMIN_ROLE
    if caller.role == "viewer":
        return VIEWER_ROLE
    if caller.role == "operator" and caller.operator in OPERATOR_KEYS:
        return operator_role(caller.operator)
    raise StoreError(f"no database role for role {caller.role!r}, operator {caller.operator!r}")


class Connections:
    """Open connections of one URL, reused one transaction at a time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        # A forked child must never use (nor close) its parent's sockets: they are kept aside.
        self._inherited: list[psycopg.Connection] = []

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._lock:
            if self._pid != os.getpid():
                self._inherited += self._idle
                self._idle, self._pid = [], os.getpid()
            con = self._idle.pop() if self._idle else None
        if con is not None and not _alive(con):
            con.close()
            con = None
        if con is None:
            try:
                con = psycopg.connect(self.url, autocommit=True)
            except psycopg.Error as error:
                raise StoreUnavailable(f"{redact(self.url)}: cannot connect: {error}") from error
        try:
            yield con
        finally:
            # Kept after an error raised in its transaction too (an edit refused, a 412): the
            # transaction was rolled back, and closing it cost a new session for the next.
            healthy = (
                not con.closed
                and not con.broken
                and con.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            )
            with self._lock:
                if healthy and len(self._idle) < _MAX_IDLE and self._pid == os.getpid():
                    self._idle.append(con)
                    con = None
            if con is not None:
                con.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for con in idle:
            con.close()


def _alive(con: psycopg.Connection) -> bool:
    """Whether an idle connection still has its server. An idle connection has nothing to
    read: if it has, the server ended the session (a restart, a terminated backend). The
    server's notice may not have arrived yet, so a round trip confirms it."""
    if con.closed or con.broken:
        return False
    readable, _, _ = select.select([con.fileno()], [], [], 0)
    if readable:
        return False
    try:
        con.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def store_error(error: psycopg.Error, where: str) -> StoreError:
    if isinstance(error, psycopg.errors.UndefinedTable | psycopg.errors.InvalidSchemaName):
        return StoreError(f"{where}: no gis-planner schema here; run `gis-planner db init URL`")
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return StoreError(f"{where}: not allowed: {error}")
    if isinstance(error, psycopg.OperationalError):
        # The server went away or was shut down in the transaction: it was rolled back.
        return StoreUnavailable(f"{where}: {error}")
    return StoreError(f"{where}: {error}")
