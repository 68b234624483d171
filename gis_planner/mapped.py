"""Objects handed to the other processes of this machine as a memory-mapped file.

A local cluster's workers are processes of the same machine: what every task of a run reads
(a country's coverage scenes, about 900 MB) need not go to each of them over TCP. It is
pickled once into a file, its numpy arrays out of band (pickle protocol 5), and each process
maps the file and rebuilds the object on the mapped pages, without a copy: the pages are the
system's page cache, one copy however many processes read them. joblib hands large arrays to
its worker processes the same way.

The mapping is private (copy on write): the arrays are writable as any others, so compiled
kernels see the same array types, and a write stays in the process that made it.
"""

from __future__ import annotations

import mmap
import os
import pickle
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Where new folders go when it has room: memory, not disk, on Linux.
_SHARED_MEMORY = Path("/dev/shm")
#: The start of their names, then the id of the process that made them.
_PREFIX = "gis-planner-"
#: Each buffer starts on a multiple of this many bytes, as numpy and compiled code align arrays.
_ALIGN = 64
#: The header: the pickle's length and the number of buffers, then each buffer's offset and
#: length.
_COUNTS = struct.Struct("<QQ")
_SPAN = struct.Struct("<QQ")


@dataclass(frozen=True)
class Mapped:
    """A file written by ``publish``: small to send; ``load`` gives the object back."""

    path: str

    @property
    def folder(self) -> Path:
        return Path(self.path).parent

    def load(self) -> Any:
        """The object, rebuilt on the mapped file, once a process: the last file loaded is
        kept, so that the tasks of a run map it once."""
        if _LOADED.get("path") != self.path:
            _LOADED.clear()
            _LOADED["object"] = _read(Path(self.path))
            _LOADED["path"] = self.path
        return _LOADED["object"]


#: This process's last loaded file and its object.
_LOADED: dict[str, Any] = {}


def publish(obj: Any) -> Mapped:
    """Write ``obj`` for the processes of this machine, into a file in a new folder
    (``Mapped.folder``, which the caller removes): in shared memory when it has twice the
    file's room, else in the temporary folder (whose pages are shared through the page cache
    just the same)."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    views = [buffer.raw() for buffer in buffers]
    header = _COUNTS.size + _SPAN.size * len(views)
    position = _aligned(header + len(data))
    spans = []
    for view in views:
        spans.append((position, view.nbytes))
        position = _aligned(position + view.nbytes)
    root = Path(tempfile.gettempdir())
    if _SHARED_MEMORY.is_dir() and os.access(_SHARED_MEMORY, os.W_OK):
        _sweep(_SHARED_MEMORY)
        if shutil.disk_usage(_SHARED_MEMORY).free > 2 * position:
            root = _SHARED_MEMORY
    directory = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=root))
    path = directory / "object.pickle"
    with path.open("wb") as out:
        out.write(_COUNTS.pack(len(data), len(views)))
        for span in spans:
            out.write(_SPAN.pack(*span))
        out.write(data)
        for (offset, _), view in zip(spans, views, strict=True):
            out.seek(offset)
            out.write(view)
        out.truncate(position)
    return Mapped(str(path))


def _sweep(root: Path) -> None:
    """Remove the folders in ``root`` of processes that are gone: one killed before it
    removed its own would hold its memory until the machine restarts."""
    for stale in root.glob(f"{_PREFIX}*-*"):
        pid = stale.name.removeprefix(_PREFIX).partition("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stale, ignore_errors=True)


def _aligned(position: int) -> int:
    return -(-position // _ALIGN) * _ALIGN


def _read(path: Path) -> Any:
    with path.open("rb") as file:
        pages = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_COPY)
    whole = memoryview(pages)
    length, count = _COUNTS.unpack_from(whole, 0)
    spans = [_SPAN.unpack_from(whole, _COUNTS.size + i * _SPAN.size) for i in range(count)]
    start = _COUNTS.size + _SPAN.size * count
    buffers = [whole[offset : offset + size] for offset, size in spans]
    return pickle.loads(whole[start : start + length], buffers=buffers)
