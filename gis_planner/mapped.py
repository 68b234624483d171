"""Objects handed to the other processes of this machine as a memory-mapped file.

A local cluster's workers are processes of the same machine: what every task of a run reads
(a country's coverage scenes, about 900 MB) need not go to each of them over TCP. It is
pickled once into a file, its numpy arrays out of band (pickle protocol 5), and each process
maps the file and rebuilds the object on the mapped pages, without a copy: the pages are the
system's page cache, one copy however many processes read them. joblib hands large arrays to
its worker processes the same way.

The mapping is private (copy on write): an array comes back writable where it was, so
compiled kernels see the same array types, and a write stays in the process that made it.

The process that publishes a file holds a lock on it until it ``release``s it: a folder whose
file nobody holds is left over from a process killed before it released it, and the next
``publish`` removes it (by the lock, not by the process id: containers that share
``/dev/shm`` do not see each other's processes).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import pickle
import shutil
import struct
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Where new folders go when it has room: memory, not disk, on Linux.
_SHARED_MEMORY = Path("/dev/shm")
#: The start of their names.
_PREFIX = "gis-planner-mapped-"
_FILE = "object.pickle"
#: Seconds a new folder is left alone by the sweep: its file may be being made.
_YOUNG_S = 60.0
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
        with _LOADING:
            if _LOADED.get("path") != self.path:
                _LOADED.clear()
                _LOADED["object"] = _read(Path(self.path))
                _LOADED["path"] = self.path
            return _LOADED["object"]


#: This process's last loaded file and its object, and the lock of their loading.
_LOADED: dict[str, Any] = {}
_LOADING = threading.Lock()
#: The files this process published and has not released, each with its locked descriptor.
_HELD: dict[str, int] = {}


def publish(obj: Any) -> Mapped:
    """Write ``obj`` for the processes of this machine, into a file in a new folder: in shared
    memory when it has twice the file's room, else in the temporary folder (whose pages are
    shared through the page cache just the same). ``release`` it when done."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    views = [buffer.raw() for buffer in buffers]
    header = _COUNTS.size + _SPAN.size * len(views)
    position = _aligned(header + len(data))
    spans = []
    for view in views:
        spans.append((position, view.nbytes))
        position = _aligned(position + view.nbytes)
    roots = [Path(tempfile.gettempdir())]
    if _SHARED_MEMORY.is_dir() and os.access(_SHARED_MEMORY, os.W_OK):
        roots.insert(0, _SHARED_MEMORY)
    for root in roots:
        _sweep(root)
    roomy = roots[0] == _SHARED_MEMORY and shutil.disk_usage(roots[0]).free > 2 * position
    folder = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=roots[0] if roomy else roots[-1]))
    path = folder / _FILE
    try:
        path.touch()
        _HELD[str(path)] = _locked(path, fcntl.LOCK_SH)
        with path.open("r+b") as out:
            out.write(_COUNTS.pack(len(data), len(views)))
            for span in spans:
                out.write(_SPAN.pack(*span))
            out.write(data)
            for (offset, _), view in zip(spans, views, strict=True):
                out.seek(offset)
                out.write(view)
            out.truncate(position)
    except BaseException:
        release(Mapped(str(path)))
        raise
    return Mapped(str(path))


def release(mapped: Mapped) -> None:
    """Remove a file this process published (and its folder); the processes that mapped it
    keep their pages until they let its object go. Releasing twice does nothing."""
    descriptor = _HELD.pop(mapped.path, None)
    if descriptor is not None:
        os.close(descriptor)
    shutil.rmtree(mapped.folder, ignore_errors=True)


def _locked(path: Path, how: int) -> int:
    """A descriptor of ``path`` holding a lock of kind ``how``; BlockingIOError when another
    holds one that excludes it (``how`` with ``LOCK_NB``)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, how)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _sweep(root: Path) -> None:
    """Remove the folders in ``root`` whose file no process holds (their publisher was
    killed before it released them, and they would hold their memory until the machine
    restarts). A folder younger than ``_YOUNG_S`` may be one whose file is being made."""
    for folder in root.glob(f"{_PREFIX}*"):
        try:
            if time.time() - folder.stat().st_mtime < _YOUNG_S:
                continue
            descriptor = _locked(folder / _FILE, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # held: in use
        except FileNotFoundError:
            shutil.rmtree(folder, ignore_errors=True)  # its publisher died before writing
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(descriptor)


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
