"""API speed: MVT tiles of the sites layer at z12–z14 and pages of 100 features, over HTTP.

Targets (issue 7): tiles p50 ≤ 10 ms and ≥ 500 tiles/s; a page of 100 features ≤ 30 ms p50.
The server is ``gis-planner serve`` in a child process; the load comes from other processes
(keep-alive HTTP connections), so client and server do not share an interpreter. Baseline in
this process: the same tiles computed naively — read from the store by bbox, projected and
encoded per request, with no layer held in memory, no index and no tile cache; and a page read
from the store and serialised per request.
Run: ``python -m benchmarks.bench_api``.
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from benchmarks.harness import print_table, verdict
from gis_planner.crs import WGS84
from gis_planner.sample import load_sample
from gis_planner.settings import get_settings
from gis_planner.store import GeoPackageStore
from gis_planner.vectortiles import encode_tile, tile_bounds

ZOOMS = (12, 13, 14)
TILE_P50_MS = 10.0
TILES_PER_S = 500.0
PAGE_P50_MS = 30.0
CLIENTS = 3
ROUNDS = 5


def _tiles(
    bounds: tuple[float, float, float, float], zooms: Sequence[int] = ZOOMS
) -> list[tuple[int, int, int]]:
    """Every XYZ tile at ``zooms`` over a lon/lat box."""
    out = []
    for z in zooms:
        n = 2**z

        def tx(lon: float, n: int = n) -> int:
            return int((lon + 180) / 360 * n)

        def ty(lat: float, n: int = n) -> int:
            return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

        for x in range(tx(bounds[0]), tx(bounds[2]) + 1):
            for y in range(ty(bounds[3]), ty(bounds[1]) + 1):
                out.append((z, x, y))
    return out


def _fetch(args: tuple[int, list[str]]) -> tuple[list[float], float]:
    """Request every path on one keep-alive connection; latencies (s) and the wall time."""
    port, paths = args
    connection = http.client.HTTPConnection("127.0.0.1", port)
    latencies = []
    start = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - t0)
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
    wall = time.perf_counter() - start
    connection.close()
    return latencies, wall


def _load(pool: multiprocessing.pool.Pool, port: int, paths: list[str]) -> tuple[float, float]:
    """Spread ``paths`` over CLIENTS processes; (p50 latency ms, requests per second)."""
    shares = [paths[i::CLIENTS] for i in range(CLIENTS)]
    start = time.perf_counter()
    results = pool.map(_fetch, [(port, share) for share in shares])
    wall = time.perf_counter() - start
    latencies = [t for lat, _ in results for t in lat]
    return statistics.median(latencies) * 1000, len(paths) / wall


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(store: GeoPackageStore, keys: str) -> Iterator[tuple[int, int]]:
    """``gis-planner serve`` on loopback with the API keys ``keys`` (JSON); yields (port, pid)."""
    port = _free_port()
    cli = str(Path(sys.executable).with_name("gis-planner"))
    server = subprocess.Popen(
        [cli, "serve", "--store", str(store.path), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "GIS_PLANNER_API_KEYS": keys},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _fetch((port, ["/conformance"]))
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


def _naive_tile(store: GeoPackageStore, z: int, x: int, y: int) -> bytes:
    """The baseline: read the tile's sites from the store, project, encode; nothing kept."""
    bounds = tile_bounds(z, x, y)
    n = 2**z
    lon = (x / n * 360 - 180, (x + 1) / n * 360 - 180)
    lat = [math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t / n)))) for t in (y + 1, y)]
    frame = store.read("sites", bbox=(lon[0], lat[0], lon[1], lat[1]))
    mercator = frame.set_crs(WGS84, allow_override=True).to_crs("EPSG:3857")
    records = mercator.drop(columns="geometry").astype(object)
    records = records.where(mercator.drop(columns="geometry").notna(), None)
    return encode_tile("sites", mercator.geometry.to_numpy(), records.to_dict("records"), bounds)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench_api_"))
    store = GeoPackageStore(work / "hanam.gpkg")
    load_sample(store, get_settings().sample_dir)
    info = next(i for i in store.list_layers() if i.name == "sites")
    assert info.bounds is not None
    tiles = _tiles(info.bounds)
    tile_paths = [f"/tiles/sites/{z}/{x}/{y}.mvt" for z, x, y in tiles]
    page_paths = [f"/collections/sites/items?limit=100&offset={o}" for o in range(0, 1100, 100)]

    with serving(store, "[]") as (port, _pid):
        context = multiprocessing.get_context("spawn")
        with context.Pool(CLIENTS) as pool:
            # Start the client processes and have the server load the layer (tile 0/0/0 is
            # not among the measured ones), so that the first pass measures tiles only.
            pool.map(_fetch, [(port, ["/tiles/sites/0/0/0.mvt"])] * CLIENTS)
            # First pass: every tile computed by the server (its cache is empty).
            cold_p50, cold_rate = _load(pool, port, tile_paths)
            warm = [_load(pool, port, tile_paths) for _ in range(ROUNDS)]
            warm_p50 = statistics.median(p for p, _ in warm)
            warm_rate = statistics.median(r for _, r in warm)
            single, _ = _fetch((port, tile_paths))
            pages = [_fetch((port, page_paths))[0] for _ in range(ROUNDS)]
        page_p50 = statistics.median(t for run in pages for t in run) * 1000
        single_p50 = statistics.median(single) * 1000

    sample = tiles[:: max(1, len(tiles) // 60)]
    naive = []
    for z, x, y in sample:
        t0 = time.perf_counter()
        _naive_tile(store, z, x, y)
        naive.append(time.perf_counter() - t0)
    naive_p50 = float(np.median(naive)) * 1000
    naive_pages = []
    for offset in range(0, 1100, 100):
        t0 = time.perf_counter()
        store.read("sites").iloc[offset : offset + 100].to_json()
        naive_pages.append(time.perf_counter() - t0)
    naive_page_p50 = float(np.median(naive_pages)) * 1000

    print_table(
        f"sites layer MVT, {len(tiles)} tiles at z{ZOOMS[0]}–z{ZOOMS[-1]}, "
        f"{CLIENTS} client processes, uvicorn in its own process",
        ("measure", "value", "note"),
        [
            (
                "first pass p50 (tiles computed)",
                f"{cold_p50:.1f} ms",
                verdict(cold_p50, TILE_P50_MS),
            ),
            (
                "first pass throughput",
                f"{cold_rate:.0f} tiles/s",
                _at_least(cold_rate, TILES_PER_S),
            ),
            ("cached p50", f"{warm_p50:.1f} ms", verdict(warm_p50, TILE_P50_MS)),
            ("cached throughput", f"{warm_rate:.0f} tiles/s", _at_least(warm_rate, TILES_PER_S)),
            ("one client, sequential p50", f"{single_p50:.1f} ms", "cached, no queueing"),
            (
                "baseline: naive tile in process p50",
                f"{naive_p50:.1f} ms",
                f"server first pass is {naive_p50 / cold_p50:.1f}× faster over HTTP",
            ),
            (
                "features page of 100, p50",
                f"{page_p50:.1f} ms",
                verdict(page_p50, PAGE_P50_MS) + f" (≤ {PAGE_P50_MS:g} ms)",
            ),
            (
                "baseline: read layer + page in process",
                f"{naive_page_p50:.1f} ms",
                f"server page over HTTP is {naive_page_p50 / page_p50:.1f}× faster",
            ),
        ],
    )


def _at_least(value: float, target: float) -> str:
    return ("meets target" if value >= target else "MISSES target") + f" (≥ {target:g})"


if __name__ == "__main__":
    main()
