"""Finished tiles kept on disk, so that an interrupted coverage run resumes where it stopped.

A national run takes hours and can be stopped by anything: a crash, a killed process, a lost
machine. With a checkpoint, every finished tile is saved as it arrives, in a folder named by
the run's fingerprint: a digest of the scenes, the grid and the parameters that change a
tile's values (not the worker count nor the scheduler). A later run with the same fingerprint
reads those tiles back instead of computing them, and the tiles read back go through the same
writer and statistics as computed ones, so the products are the same to the bit. A run of
other inputs has another fingerprint: it never reads tiles that are not its own, and it
removes the checkpoints of older inputs, which can no longer be resumed.

Each tile is written under a temporary name and renamed into place, so a tile file is whole
or absent whatever interrupted the run. There is no fsync: a killed process loses nothing the
kernel has accepted, and a machine that loses power loses at most tiles that are recomputed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gis_planner.coverage.engine import BANDS, CoverageTile, PackedTile, TileRunner, TileTask
from gis_planner.coverage.grid import Grid, Window
from gis_planner.coverage.scene import CoverageParams, Scene

#: Part of every fingerprint: a change of the tile file's layout makes older ones unreadable.
FORMAT = "coverage-tiles/3"
_PREFIX = "run-"


def fingerprint(scenes: Sequence[Scene], grid: Grid, params: CoverageParams) -> str:
    """A digest of everything that decides a tile's values.

    Built from the values themselves (array bytes, field names, reprs), not from pickle, whose
    bytes can differ between processes for the same values.
    """
    digest = hashlib.sha256(FORMAT.encode())
    # How the tiles are run changes nothing in them.
    _feed(digest, (tuple(scenes), grid, dataclasses.replace(params, workers=1, parallel="threads")))
    return digest.hexdigest()[:32]


def _feed(digest: Any, value: object) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__qualname__.encode())
        for field in dataclasses.fields(value):
            digest.update(field.name.encode() + b"=")
            _feed(digest, getattr(value, field.name))
    elif isinstance(value, np.ndarray):
        if value.dtype == object:
            _feed(digest, tuple(value.tolist()))
        else:
            digest.update(f"{value.dtype.str}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, tuple | list):
        digest.update(b"(")
        for item in value:
            _feed(digest, item)
        digest.update(b")")
    elif isinstance(value, dict):
        _feed(digest, sorted((repr(k), v) for k, v in value.items()))
    elif isinstance(value, set | frozenset):
        _feed(digest, sorted(map(repr, value)))
    else:
        digest.update(repr(value).encode() + b";")


class TileCheckpoint:
    """The finished tiles of one run (one fingerprint) under ``root``."""

    def __init__(self, root: Path, key: str) -> None:
        self.root = root
        self.directory = root / f"{_PREFIX}{key}"
        #: Tiles read back instead of computed, so far.
        self.resumed = 0

    @classmethod
    def open(cls, root: Path, key: str) -> TileCheckpoint:
        """The checkpoint of ``key``; those of other fingerprints under ``root`` are removed."""
        checkpoint = cls(root, key)
        if root.is_dir():
            for old in root.glob(f"{_PREFIX}*"):
                if old != checkpoint.directory:
                    shutil.rmtree(old, ignore_errors=True)
        checkpoint.directory.mkdir(parents=True, exist_ok=True)
        return checkpoint

    def _path(self, window: Window) -> Path:
        return self.directory / f"r{window.row0}-c{window.col0}-{window.height}x{window.width}.npz"

    def has(self, window: Window) -> bool:
        return self._path(window).is_file()

    def save(self, tile: CoverageTile) -> None:
        # packed: a tile of sea or of a neighbour's land is its mask alone
        packed = PackedTile.of(tile)
        arrays: dict[str, Any] = {"mask": np.packbits(tile.mask)}
        for k, (served, values, evaluations) in enumerate(
            zip(packed.served, packed.values, packed.evaluations, strict=True)
        ):
            arrays |= {f"{k}.{band}": part for band, part in zip(BANDS, values, strict=True)}
            arrays[f"{k}.served"] = served
            arrays[f"{k}.evaluations"] = np.int64(evaluations)
        path = self._path(tile.window)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        with partial.open("wb") as file:
            np.savez(file, **arrays)
        partial.replace(path)

    def load(self, window: Window) -> CoverageTile:
        with np.load(self._path(window)) as saved:
            count = sum(1 for name in saved.files if name.endswith(".evaluations"))
            packed = PackedTile(
                tuple(saved[f"{k}.served"] for k in range(count)),
                tuple(tuple(saved[f"{k}.{band}"] for band in BANDS) for k in range(count)),
                tuple(int(saved[f"{k}.evaluations"]) for k in range(count)),
            )
            return packed.unpacked(window, window.mask_of(saved["mask"]))

    def wrap(self, runner: TileRunner) -> TileRunner:
        """``runner`` for the tasks of unsaved windows only; saved ones are read back.

        The saved windows met while ``runner`` reads its tasks wait as windows only (not as
        tiles) and are read back one at a time between computed tiles, so what is held stays
        as small as ``runner`` keeps it.
        """

        def run(tasks: Iterator[TileTask]) -> Iterator[CoverageTile]:
            saved: deque[Window] = deque()

            def unsaved() -> Iterator[TileTask]:
                for task in tasks:
                    if self.has(task.window):
                        saved.append(task.window)
                    else:
                        yield task

            def read_back() -> Iterator[CoverageTile]:
                while saved:
                    self.resumed += 1
                    yield self.load(saved.popleft())

            for tile in runner(unsaved()):
                yield from read_back()
                self.save(tile)
                yield tile
            yield from read_back()

        return run
