"""Objects handed between processes as a memory-mapped file: the same object back, arrays on
the file's pages, writable and private to the process that writes; files released, and the
files of processes gone swept."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gis_planner import mapped
from gis_planner.mapped import Mapped, publish, release


def _sum_in_another_process(handle: Mapped) -> float:
    arrays = handle.load()
    arrays["reach_m"][:] = 0.0  # private to this process
    return float(arrays["x_m"].sum())


def test_an_object_comes_back_whole_on_the_mapped_pages() -> None:
    obj = {
        "x_m": np.arange(1_000, dtype=np.float64),
        "reach_m": np.ones((7, 2, 3), dtype=np.float32),
        "cell_ids": np.array(["HNM-1", None, "Phủ Lý"], dtype=object),
        "empty": np.zeros(0, dtype=np.int32),
        "name": "Lý Nhân",
    }
    handle = publish(obj)
    try:
        back = handle.load()
        for key in ("x_m", "reach_m", "empty"):
            assert back[key].dtype == obj[key].dtype
            np.testing.assert_array_equal(back[key], obj[key])
            # on the file's pages, aligned, writable as the kernels' arrays are
            assert back[key].base is not None
            assert back[key].flags.aligned and back[key].flags.writeable
        assert back["x_m"].ctypes.data % 64 == 0
        assert back["cell_ids"].tolist() == ["HNM-1", None, "Phủ Lý"]
        assert back["name"] == "Lý Nhân"

        with multiprocessing.get_context("spawn").Pool(1) as pool:
            assert pool.apply(_sum_in_another_process, (handle,)) == float(obj["x_m"].sum())
        # the other process's write stayed there
        np.testing.assert_array_equal(mapped._read(Path(handle.path))["reach_m"], 1.0)
    finally:
        release(handle)
    assert not handle.folder.exists()
    release(handle)  # twice: nothing


def test_a_process_maps_a_file_once() -> None:
    first, second = publish([np.arange(3)]), publish([np.arange(4)])
    try:
        assert first.load() is first.load()
        assert len(second.load()[0]) == 4
        assert len(first.load()[0]) == 3  # the last one loaded is kept, the one before let go
    finally:
        release(first)
        release(second)


_HOLD = """
import sys, time
from gis_planner.mapped import publish
print(publish([1]).path, flush=True)
time.sleep(60)
"""


def test_only_the_files_nobody_holds_are_swept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose publisher was killed (SIGKILL: it released nothing) is removed by the next
    publish; one a live process holds is kept, whatever process ids say (containers sharing
    /dev/shm do not see each other's); a new folder is left to the one making it."""
    live = subprocess.Popen(
        [sys.executable, "-c", _HOLD], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )  # fmt: skip
    killed = subprocess.Popen(
        [sys.executable, "-c", _HOLD], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )  # fmt: skip
    assert live.stdout is not None and killed.stdout is not None
    held, left = Path(live.stdout.readline().strip()), Path(killed.stdout.readline().strip())
    killed.kill()
    killed.wait()
    young = Path(mapped.tempfile.mkdtemp(prefix=mapped._PREFIX, dir=left.parent.parent))
    try:
        assert held.exists() and left.exists()
        monkeypatch.setattr(mapped, "_YOUNG_S", 0.0)
        os.utime(young, (time.time() + 3600, time.time() + 3600))  # just made
        handle = publish([2])
        release(handle)
        assert held.exists()
        assert not left.parent.exists()
        assert young.exists()
    finally:
        live.kill()
        live.wait()
        mapped.shutil.rmtree(held.parent, ignore_errors=True)
        mapped.shutil.rmtree(young, ignore_errors=True)


def test_a_failed_write_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails (a full disk) removes its folder and lets its lock go: nothing
    would find the folder again while this process lives."""
    made: list[Path] = []
    mkdtemp = mapped.tempfile.mkdtemp

    def recorded(**kwargs: str) -> str:
        folder = mkdtemp(**kwargs)
        made.append(Path(folder))
        return folder

    monkeypatch.setattr(mapped.tempfile, "mkdtemp", recorded)
    monkeypatch.setattr(mapped, "_SPAN", _FullDisk())
    with pytest.raises(OSError, match="No space"):
        publish([np.arange(3)])
    assert len(made) == 1 and not made[0].exists()
    assert not mapped._HELD


class _FullDisk:
    """A header writer whose writes fail as on a full disk."""

    size = 16

    def pack(self, *values: int) -> bytes:
        raise OSError(28, "No space left on device")
