"""A bounded in-memory cache of encoded tiles, keyed by everything a tile depends on.

The key carries the layer's store revision (``CachedLayer.version``), never a write time: a
commit makes new keys at once, and the tiles of older revisions age out of the LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class TileCache:
    """Least-recently-used tiles up to ``max_bytes`` in total."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._tiles: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            data = self._tiles.get(key)
            if data is not None:
                self._tiles.move_to_end(key)
            return data

    def put(self, key: Hashable, data: bytes) -> None:
        # A cache of no memory (turned off) keeps nothing, not even empty tiles; a tile larger
        # than the whole cache would only push every other tile out.
        if not self.max_bytes or len(data) > self.max_bytes:
            return
        with self._lock:
            if key in self._tiles:
                return
            self._tiles[key] = data
            self._bytes += len(data)
            while self._bytes > self.max_bytes and self._tiles:
                _, dropped = self._tiles.popitem(last=False)
                self._bytes -= len(dropped)
