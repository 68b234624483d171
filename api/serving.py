"""How ``gis-planner serve`` runs uvicorn: connection timeouts and limits, and logs that never
hold an API key."""

from __future__ import annotations

import asyncio
import copy
import logging
import re
from typing import Any

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.settings import ApiSettings
from gis_planner.apikeys import KEY_ID_PATTERN, PREFIX

#: ``api_key=`` values and anything shaped like a key, wherever they appear in a log line.
_SECRETS = re.compile(
    rf"(?P<param>api_key=)[^&\s\"']*|(?P<key>{PREFIX}_{KEY_ID_PATTERN}_)[A-Za-z0-9_-]{{8,}}",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with API keys replaced by ``…`` (a key's id, which is not secret, is kept)."""
    return _SECRETS.sub(lambda m: (m["param"] or m["key"]) + "…", text)


class KeyRedactor(logging.Filter):
    """Removes API keys from log records: no key in any log, even one sent in a URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the key redactor on every handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"no_keys": {"()": f"{__name__}.KeyRedactor"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["no_keys"]
    return config


class HeaderTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on request headers, which uvicorn lacks (its
    keep-alive timeout only runs between requests, and any byte received cancels it).

    The deadline starts when the connection is made and again at the first byte of each
    later request (received or pipelined); when it passes before the headers are complete,
    the connection is closed, so unfinished headers cannot hold connections open.
    """

    header_timeout_s: float = 10.0
    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm_header_deadline()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The start of a pipelined request may wait in h11's buffer: its clock runs too.
        if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(
                self.header_timeout_s, self._headers_too_slow
            )

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def run(app: FastAPI, settings: ApiSettings, host: str, port: int) -> None:
    """Serve ``app`` on ``host``:``port`` with the settings' timeouts and limits."""
    protocol = type(
        "H11WithHeaderTimeout",
        (HeaderTimeoutH11Protocol,),
        {"header_timeout_s": settings.header_timeout_s},
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=protocol,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        limit_concurrency=settings.max_connections,
        timeout_graceful_shutdown=settings.graceful_shutdown_s,
        log_config=log_config(),
        log_level="info",
    )
