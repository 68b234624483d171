"""Objects handed between processes as memory-mapped files: the same object back, arrays on
the file's pages, writable and private to the process that writes."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path

import numpy as np

from gis_planner import mapped
from gis_planner.mapped import Mapped, publish


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
        shutil.rmtree(handle.folder)


def test_a_process_maps_a_file_once() -> None:
    first, second = publish([np.arange(3)]), publish([np.arange(4)])
    try:
        assert first.load() is first.load()
        assert len(second.load()[0]) == 4
        assert len(first.load()[0]) == 3  # the last one loaded is kept, the one before let go
    finally:
        shutil.rmtree(first.folder)
        shutil.rmtree(second.folder)


def test_the_folders_of_processes_gone_are_swept() -> None:
    """A run killed before it removed its folder would hold shared memory until the machine
    restarts: the next one removes the folders of processes that are gone."""
    gone = multiprocessing.get_context("spawn").Process(target=print)
    gone.start()
    gone.join()
    stale = mapped._SHARED_MEMORY / f"{mapped._PREFIX}{gone.pid}-abcd"
    stale.mkdir()
    (stale / "object.pickle").write_bytes(b"x")
    handle = publish([1])
    try:
        assert not stale.exists()
        assert handle.folder.name.startswith(f"{mapped._PREFIX}{os.getpid()}-")
        assert handle.folder.parent == mapped._SHARED_MEMORY
    finally:
        shutil.rmtree(handle.folder)
        shutil.rmtree(stale, ignore_errors=True)
