"""Layers held in memory for the HTTP layer: projected to Web Mercator and indexed.

A request for a tile or a page of features must not read the layer from the store. Each layer
is read once, projected to EPSG:3857 and put in an STRtree (``api.cachedlayer``). At most every
``check_s`` seconds the store is asked for its revision, which every commit increments; when it
moved, the layers are listed again, and a layer whose own revision changed is read again on its
next use. Times, counts and bounds are no version: two writes in one second with the same count
and bounds differ only in their revisions.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from api.cachedlayer import CachedLayer
from gis_planner.catalogue import CATALOGUE
from gis_planner.errors import GisPlannerError, UnknownLayer
from gis_planner.store import LayerInfo, LayerStore

_log = logging.getLogger(__name__)
T = TypeVar("T")
#: What ``LayerCache.memo`` keeps within one revision at most (keys carry query parameters).
MAX_MEMO = 64


class BadQuery(GisPlannerError):
    """A request parameter the API cannot use; the message says which and why."""


def _version(info: LayerInfo, store_revision: int) -> str:
    """The revision that last wrote the layer; a layer written before stores kept revisions
    follows the whole store's, so that any commit reloads it."""
    return f"layer@{info.revision}" if info.revision else f"store@{store_revision}"


class LayerCache:
    """The layers of a store, each loaded on first use and reloaded when the store changes."""

    def __init__(
        self, store: LayerStore, check_s: float = 2.0, reload_after_s: float = 5.0
    ) -> None:
        self.store = store
        self.check_s = check_s
        self.reload_after_s = reload_after_s
        #: When each stale layer (name, version held) was first used without being read again.
        self._stale_since: dict[tuple[str, str], float] = {}
        self._reloading: set[str] = set()
        self._infos: dict[str, LayerInfo] = {}
        self._revision = -1
        self._checked_at = -math.inf
        self._layers: dict[str, CachedLayer] = {}
        # Listing the store and loading a layer take locks of their own: an edit's answer
        # (``refresh``) and the other layers' requests never wait for a layer's reload.
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        # ``refresh`` counts; a listing that began before the last one does not count as after.
        # Counted without a lock by ``next`` of one counter (atomic, where ``+= 1`` is a read
        # and a write two refreshes may interleave).
        self._refresh_numbers = itertools.count(1)
        self._refreshes = 0
        self._listed_refreshes = 0
        self._memo: dict[Hashable, Any] = {}
        self._memo_revision = -1
        self._making: dict[Hashable, threading.Lock] = {}
        self._memo_lock = threading.Lock()

    def infos(self) -> dict[str, LayerInfo]:
        """The store's layers, as of at most ``check_s`` seconds ago."""
        now = time.monotonic()
        if self._due(now):
            with self._lock:
                if self._due(now):
                    # Read before the revision: a refresh after it asks again next time.
                    refreshes = self._refreshes
                    # The revision is read first: a commit after it shows as a change next time.
                    revision = self.store.revision()
                    if revision != self._revision:
                        self._infos = {info.name: info for info in self.store.list_layers()}
                        self._revision = revision
                    self._checked_at = now
                    self._listed_refreshes = refreshes
        return self._infos

    def _due(self, now: float) -> bool:
        return now - self._checked_at > self.check_s or self._listed_refreshes != self._refreshes

    def revision(self) -> int:
        """The store's revision, as of at most ``check_s`` seconds ago."""
        self.infos()
        return self._revision

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, computed once per store revision and ``key``: what the API derives from
        the store (the raster registry, products, analyses) is dropped when the store moves.
        Requests that want the same key at once wait for one computation; other keys do not
        wait (a slow analysis must not hold up the raster tiles)."""
        revision = self.revision()
        with self._memo_lock:
            if self._memo_revision != revision:
                self._memo.clear()
                self._making.clear()
                self._memo_revision = revision
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._memo_lock:
                if key in self._memo:
                    found: T = self._memo[key]
                    return found
            value = make()
            with self._memo_lock:
                if self._memo_revision == revision:
                    if len(self._memo) >= MAX_MEMO:
                        self._memo.clear()
                    self._memo[key] = value
        return value

    def refresh(self) -> None:
        """Ask the store again on next use: after a write through this server (an import),
        whose answers must show it at once."""
        # No lock: an edit's answer must not wait for a listing or a reload in progress.
        self._refreshes = next(self._refresh_numbers)

    def info(self, name: str) -> LayerInfo:
        try:
            return self.infos()[name]
        except KeyError:
            raise UnknownLayer(name, where="this server's store") from None

    def is_current(self, name: str) -> bool:
        """Whether ``layer(name)`` would answer from memory, without reading the store."""
        held, version = self._held(name)
        return held is not None and held == version

    def is_stale(self, name: str) -> bool:
        """Whether the layer was read at an older revision than the store's: written since
        (an edit), where ``layer(name)`` would read it again whole."""
        held, version = self._held(name)
        return held is not None and version is not None and held != version

    def _held(self, name: str) -> tuple[str | None, str | None]:
        """The version of the layer held in memory and the store's (None: none, no layer)."""
        info = self.infos().get(name)
        cached = self._layers.get(name)
        version = None if info is None else _version(info, self._revision)
        return (None if cached is None else cached.version), version

    def used_stale(self, name: str) -> None:
        """Note that stale layer ``name`` was answered without it (from the database). Once it
        has been so for ``reload_after_s``, it is read again in the background, one reading at
        a time: the tiles of a layer edits have left come from memory again, and under a
        stream of edits the layer is read at most every ``reload_after_s``."""
        cached = self._layers.get(name)
        if cached is None:
            return
        now = time.monotonic()
        with self._lock:
            since = self._stale_since.setdefault((name, cached.version), now)
            if now - since < self.reload_after_s or name in self._reloading:
                return
            self._reloading.add(name)
        threading.Thread(
            target=self._reload, args=(name,), name=f"read {name}", daemon=True
        ).start()

    def _reload(self, name: str) -> None:
        try:
            self.layer(name)
        except Exception:  # the next use reads it in the foreground and answers its error
            _log.warning("reading layer %r again failed", name, exc_info=True)
        finally:
            with self._lock:
                self._reloading.discard(name)
                for key in [key for key in self._stale_since if key[0] == name]:
                    del self._stale_since[key]

    def layer(self, name: str) -> CachedLayer:
        version = _version(self.info(name), self._revision)
        cached = self._layers.get(name)
        if cached is not None and cached.version == version:
            return cached
        with self._lock:
            loading = self._loading.setdefault(name, threading.Lock())
        with loading:
            cached = self._layers.get(name)
            if cached is None or cached.version != version:
                cached = self._load(name, version)
                self._layers[name] = cached
        return cached

    def _load(self, name: str, version: str) -> CachedLayer:
        return CachedLayer.of(name, version, self.store.read(name))


def parse_filters(
    params: Sequence[tuple[str, str]], layer: str, allowed: Sequence[str]
) -> dict[str, list[Any]]:
    """Property filters of ``layer`` from query parameters, each value cast to the field's
    type."""
    spec = CATALOGUE.get(layer)
    filters: dict[str, list[Any]] = {}
    for name, raw in params:
        if name not in allowed:
            known = ", ".join(allowed)
            raise BadQuery(f"unknown parameter or field {name!r}; filterable fields: {known}")
        dtype = spec.field(name).dtype if spec is not None else "str"
        filters.setdefault(name, []).append(_cast(name, raw, dtype))
    return filters


def _cast(name: str, raw: str, dtype: str) -> Any:
    try:
        if dtype == "int":
            return int(raw)
        if dtype == "float":
            return float(raw)
    except ValueError:
        raise BadQuery(f"field {name!r} holds numbers ({dtype}); {raw!r} is not one") from None
    if dtype == "bool":
        if raw.lower() not in ("true", "false", "1", "0"):
            raise BadQuery(f"field {name!r} is true or false; {raw!r} is neither")
        return raw.lower() in ("true", "1")
    return raw
