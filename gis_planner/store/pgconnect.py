"""Connections of the PostGIS store: a few kept open between transactions, each acting as one
role, the role a caller acts as, and the driver's errors as the library's."""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

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
    """Open connections of one URL, reused one transaction at a time.

    A connection acts as one role all its life (``SET ROLE`` once, when it is opened) and is
    handed only to transactions for that role: PostgreSQL plans a prepared statement on a
    table with row-level security again whenever the role changes, so a connection shared by
    the callers' roles in turn would plan the statements of every request again.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        # (role, connection), the least recently used first.
        self._idle: list[tuple[str | None, psycopg.Connection]] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        # A forked child must never use (nor close) its parent's sockets: they are kept aside.
        self._inherited: list[psycopg.Connection] = []

    @contextmanager
    def connection(self, role: str | None = None) -> Iterator[psycopg.Connection]:
        """A connection acting as ``role`` (None: the login's own role)."""
        with self._lock:
            if self._pid != os.getpid():
                self._inherited += [con for _, con in self._idle]
                self._idle, self._pid = [], os.getpid()
            con = self._take(role)
        if con is not None and not _alive(con):
            con.close()
            con = None
        if con is None:
            con = self._open(role)
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
            evicted = None
            with self._lock:
                if healthy and self._pid == os.getpid():
                    self._idle.append((role, con))
                    con = None
                    # Past the limit the least recently used goes, whatever its role, so that
                    # the roles in use keep theirs.
                    if len(self._idle) > _MAX_IDLE:
                        evicted = self._idle.pop(0)[1]
            for unused in (con, evicted):
                if unused is not None:
                    unused.close()

    def _take(self, role: str | None) -> psycopg.Connection | None:
        """The most recently used idle connection of ``role`` (under the lock)."""
        for i in range(len(self._idle) - 1, -1, -1):
            if self._idle[i][0] == role:
                return self._idle.pop(i)[1]
        return None

    def _open(self, role: str | None) -> psycopg.Connection:
        try:
            con = psycopg.connect(self.url, autocommit=True)
        except psycopg.Error as error:
            raise StoreUnavailable(f"{redact(self.url)}: cannot connect: {error}") from error
        if role is not None:
            try:
                con.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            except psycopg.Error as error:
                con.close()
                raise store_error(error, redact(self.url)) from error
        return con

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for _, con in idle:
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
