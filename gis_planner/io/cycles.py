"""Python's collector of reference cycles paused over the work of an import.

The collector runs after every few hundred objects made, and now and then goes over every
object alive: a spreadsheet read into Python makes millions of cells, and each of those passes
goes over all of them again, for nothing (cells hold no cycles). Paused, the objects are freed
as they are dropped, as always; only cycles wait for the collector's next pass.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycles_uncollected() -> Iterator[None]:
    """The cycle collector paused inside the block (and resumed after it, if it ran before)."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()
