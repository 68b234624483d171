"""How ``gis-planner serve`` runs uvicorn: connection timeouts and limits, an access log in
text, in JSON lines or none, and logs that never hold an API key."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.settings import ApiSettings
from gis_planner.apikeys import KEY_ID_PATTERN, PREFIX
from gis_planner.defaults import DEFAULT_ACCESS_LOG, AccessLog

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
        elif isinstance(record.args, Mapping):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


#: The logger of the JSON access lines; its records' args are the fields of a line.
JSON_ACCESS_LOGGER = "api.access"


class JsonAccessFormatter(logging.Formatter):
    """One JSON object a line: the time the response ended (UTC) and the record's fields.

    The fields are encoded after the key redactor has filtered them, so a redacted value is
    still a well-formed JSON string.
    """

    def format(self, record: logging.LogRecord) -> str:
        ended = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        fields = record.args if isinstance(record.args, Mapping) else {}
        return json.dumps({"time": ended, **fields}, ensure_ascii=False)


class JsonAccessLog:
    """ASGI middleware logging each HTTP request as a JSON line: client, method, path (never
    the query string), status and duration in milliseconds, measured from the call of the app
    to the end of its response.

    It sees what reaches the app: requests uvicorn refuses itself (over the concurrency
    limit, malformed) are in uvicorn's error log only.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = logging.getLogger(JSON_ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # What uvicorn answers when the app fails before it starts a response.
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            client = scope.get("client")
            fields = {
                "client": f"{client[0]}:{client[1]}" if client else None,
                "method": scope["method"],
                "path": quote(scope["path"]),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            self.logger.info("%(method)s %(path)s %(status)s", fields)


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, with the JSON access logger beside uvicorn's text one,
    and the key redactor on every handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["json_access"] = {"()": f"{__name__}.JsonAccessFormatter"}
    config["handlers"]["json_access"] = {
        "formatter": "json_access",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
    }
    config["loggers"][JSON_ACCESS_LOGGER] = {
        "handlers": ["json_access"],
        "level": "INFO",
        "propagate": False,
    }
    config["filters"] = {"no_keys": {"()": f"{__name__}.KeyRedactor"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["no_keys"]
    return config


#: Bytes of a request's line and headers at most: h11's bound, which uvicorn served with
#: before; llhttp (behind httptools) has none of its own.
MAX_HEADER_BYTES = 16 * 1024


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (llhttp, a parser in C, much cheaper per request than h11
    in Python) with a deadline on request headers, which uvicorn lacks (its keep-alive timeout
    only runs between requests, and any byte received cancels it), and a bound on their size.

    The deadline starts when the connection is made and again at the first byte received
    between requests and at the start of each pipelined request; when it passes before the
    headers are complete, the connection is closed, so unfinished headers cannot hold
    connections open. Headers still unfinished past MAX_HEADER_BYTES get a 400, and the
    connection is closed.
    """

    header_timeout_s: float = 10.0
    _header_deadline: asyncio.TimerHandle | None = None
    #: From the connection or a request's first byte to the end of its headers.
    _awaiting_headers = False
    #: From a request's first byte to the end of its body.
    _in_message = False
    _header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        if not self._in_message:
            self._await_headers()
        if self._awaiting_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if not self._awaiting_headers:
            self._disarm_header_deadline()
        elif self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
            self.send_400_response("Request headers too large.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_message = True
        self._await_headers()

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_message = False
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        if not self._awaiting_headers:
            self._awaiting_headers = True
            self._header_bytes = 0
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
        if self._awaiting_headers and not self.transport.is_closing():
            self.transport.close()


def run(
    app: FastAPI,
    settings: ApiSettings,
    host: str,
    port: int,
    access_log: AccessLog = DEFAULT_ACCESS_LOG,
) -> None:
    """Serve ``app`` on ``host``:``port`` with the settings' timeouts and limits, logging
    requests as ``access_log`` says: uvicorn's text lines, JSON lines, or not at all."""
    protocol = type(
        "HttpToolsWithHeaderTimeout",
        (GuardedHttpToolsProtocol,),
        {"header_timeout_s": settings.header_timeout_s},
    )
    uvicorn.run(
        JsonAccessLog(app) if access_log == "json" else app,
        host=host,
        port=port,
        http=protocol,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        limit_concurrency=settings.max_connections,
        timeout_graceful_shutdown=settings.graceful_shutdown_s,
        log_config=log_config(),
        log_level="info",
        access_log=access_log == "text",
    )
