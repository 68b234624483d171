"""Who may see what: roles, API keys (and limits on wrong ones), each layer's visibility by role."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from api.settings import ApiKey, Role
from gis_planner.apikeys import key_id, verify_key
from gis_planner.store.access import layer_access


@dataclass(frozen=True)
class Principal:
    """The caller: anonymous viewers, an operator (with its operator key) or an admin."""

    role: Role
    operator: str | None = None
    name: str = "anonymous"


VIEWER = Principal("viewer")


@dataclass(frozen=True)
class LayerView:
    """What one principal gets of one layer.

    Rows are limited to ``only_operator`` (and ``also_operator``, aggregated rows) when set;
    ``masked`` fields are emptied on rows of operators other than ``mask_except``. ``scope``
    names the view (for caches and ETags).
    """

    fields: tuple[str, ...]
    only_operator: str | None = None
    masked: tuple[str, ...] = ()
    mask_except: str | None = None
    also_operator: str | None = None

    @property
    def scope(self) -> str:
        fields, masked = ",".join(self.fields), ",".join(self.masked)
        rows = f"{self.only_operator}+{self.also_operator}"
        return f"{fields}|{rows}|{masked}|{self.mask_except}"

    @property
    def filterable(self) -> tuple[str, ...]:
        """Fields a principal may filter on: those it sees on every row it gets."""
        return tuple(f for f in self.fields if f not in self.masked)


def layer_view(layer: str, fields: tuple[str, ...], who: Principal) -> LayerView | None:
    """The view of ``layer`` (whose fields are ``fields``) for ``who``; None if hidden."""
    if who.role == "admin":
        return LayerView(fields)
    rule = layer_access(layer)
    public = tuple(f for f in fields if rule.public_fields is not None and f in rule.public_fields)
    if who.role == "operator" and rule.by_operator:
        if rule.others_public:
            hidden = tuple(f for f in fields if f not in public)
            return LayerView(fields, masked=hidden, mask_except=who.operator)
        return LayerView(fields, only_operator=who.operator, also_operator=rule.public_rows)
    if rule.public_fields is None:
        return None
    return LayerView(public, only_operator=rule.public_rows)


def may_see_raster(owner: str | None, who: Principal) -> bool:
    """Viewers see rasters aggregated over operators (``owner`` None); an operator, its own
    too; admins everything."""
    return owner is None or who.role == "admin" or owner == who.operator


class KeyRing:
    """Checks presented API keys against the hashed ones of the settings.

    A key's id names the one hash it may match: a key of unknown id is refused without any
    derivation, any other costs at most one scrypt, run in a small executor of its own so
    that derivations never hold the threads anonymous requests are served on. The last key
    verified for each id is remembered by its SHA-256 (one per configured key: bounded), and
    requests presenting a key already being derived wait for that derivation (many clients of
    one key at a server's start cost one scrypt, not one each).
    Methods are called from the event loop only.
    """

    def __init__(self, keys: list[ApiKey], derive_workers: int = 2) -> None:
        self._by_id = {entry.key_id: entry for entry in keys}
        self._verified: dict[str, bytes] = {}
        self._deriving: dict[bytes, asyncio.Future[bool]] = {}
        self._executor = ThreadPoolExecutor(derive_workers, thread_name_prefix="api-key-scrypt")

    def _entry(self, key: str) -> ApiKey | None:
        found = key_id(key)
        return None if found is None else self._by_id.get(found)

    def cached(self, key: str) -> Principal | None:
        """The principal of ``key`` if it was verified before; None otherwise (no scrypt)."""
        entry = self._entry(key)
        if entry is None:
            return None
        known = self._verified.get(entry.key_id)
        if known is None or not hmac.compare_digest(known, hashlib.sha256(key.encode()).digest()):
            return None
        return Principal(entry.role, entry.operator, entry.name)

    async def verify(self, key: str) -> Principal | None:
        """The principal of ``key``; None for a wrong key (at most one scrypt)."""
        found = self.cached(key)
        if found is not None:
            return found
        entry = self._entry(key)
        if entry is None:
            return None
        digest = hashlib.sha256(key.encode()).digest()
        derivation = self._deriving.get(digest)
        if derivation is None:
            loop = asyncio.get_running_loop()
            derivation = loop.run_in_executor(self._executor, verify_key, key, entry.hash)
            self._deriving[digest] = derivation
            derivation.add_done_callback(lambda _: self._deriving.pop(digest, None))
        # Shielded: a request that goes away does not cancel the others' derivation.
        if not await asyncio.shield(derivation):
            return None
        self._verified[entry.key_id] = digest
        return Principal(entry.role, entry.operator, entry.name)


class FailureLimiter:
    """Wrong keys by client (IP address) in a fixed window: past ``max_failures`` the client
    waits for the window's end. At most ``max_clients`` are remembered, the least recently
    failing forgotten first, so a flood from many addresses cannot grow memory."""

    def __init__(self, max_failures: int, window_s: float, max_clients: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_clients = max_clients
        # client → (start of its window, failures in it), least recent first.
        self._failures: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def _current(self, client: str, now: float) -> tuple[float, int] | None:
        entry = self._failures.get(client)
        if entry is not None and now - entry[0] >= self.window_s:
            del self._failures[client]
            return None
        return entry

    def retry_after_s(self, client: str) -> float | None:
        """Seconds ``client`` must wait before presenting a key again; None if it may now."""
        now = time.monotonic()
        entry = self._current(client, now)
        if entry is None or entry[1] < self.max_failures:
            return None
        return entry[0] + self.window_s - now

    def failed(self, client: str) -> None:
        """Counts a wrong key from ``client``."""
        now = time.monotonic()
        start, count = self._current(client, now) or (now, 0)
        self._failures[client] = (start, count + 1)
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)
