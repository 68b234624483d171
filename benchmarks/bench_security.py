"""Denial of service (issue 12): a key flood, low-zoom raster tiles and MVT throughput, over HTTP.

Targets: under 64 connections sending random wrong API keys, a light anonymous request keeps
p99 ≤ 100 ms; raster tiles z0–z8 p99 ≤ 100 ms with server memory growth ≤ 100 MiB; MVT tiles
with 8 clients ≥ 1,000 tiles/s. The server is ``gis-planner serve`` in a child process on
loopback, over the sample with the COGs of the real ``gis-planner coverage`` job at 25 m. Every
loop is bounded in count and time. Baselines in this run: the anonymous request on an idle
server; the former raster reader (rio-tiler's ``Reader.tile``) against the current one in process,
at z6 only, since lower zooms take it minutes; bench_api's MVT measure (3 clients).
Run: ``python -m benchmarks.bench_security``.
"""

from __future__ import annotations

import http.client
import json
import math
import multiprocessing
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import rasterio
from rio_tiler.io import Reader

from benchmarks.bench_api import _fetch, _load, _tiles, serving
from benchmarks.harness import print_table, verdict
from gis_planner.apikeys import hash_key, key_id, new_key
from gis_planner.rastertiles import Pyramid, read_tile
from gis_planner.sample import load_sample
from gis_planner.settings import get_settings
from gis_planner.store import GeoPackageStore

P99_MS = 100.0
RSS_GROWTH_MIB = 100.0
MVT_TILES_PER_S = 1000.0
FLOOD_CONNECTIONS = 64
FLOOD_S = 10.0
LIGHT = "/conformance"
#: What the flood asks for: an answer that depends on the caller, so every key is checked.
KEYED = "/collections"
RASTER_ZOOMS = range(9)
RASTER_CLIENTS = 4
RASTER_ROUNDS = 5
#: The former reader takes seconds here and minutes below: the baseline stops at this zoom.
BASELINE_ZOOM = 6
MVT_CLIENTS = 8
MVT_ROUNDS = 3
#: No single request may hold the benchmark longer than this.
TIMEOUT_S = 120.0


def _p99_ms(latencies_s: list[float]) -> float:
    return float(np.percentile(latencies_s, 99)) * 1000


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, float]:
    """One request on a new connection: (HTTP status, seconds)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    start = time.perf_counter()
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - start
    finally:
        connection.close()


def _flood(port: int, seconds: float, known_id: str) -> int:
    """``FLOOD_CONNECTIONS`` keep-alive connections sending random wrong keys until the time is
    up; the number of answers. Runs in its own process, so the flood's client work does not
    slow the measuring client."""
    deadline = time.monotonic() + seconds
    answered = [0] * FLOOD_CONNECTIONS

    def connection_loop(index: int) -> None:
        connection: http.client.HTTPConnection | None = None
        while time.monotonic() < deadline:
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
                # Half the keys name an id the server knows (each costs a derivation until the
                # client is limited), half an unknown id (refused without one).
                known = known_id if index % 2 else secrets.token_hex(6)
                headers = {"X-API-Key": f"gp_{known}_{secrets.token_urlsafe(32)}"}
                connection.request("GET", KEYED, headers=headers)
                connection.getresponse().read()
                answered[index] += 1
            except (OSError, http.client.HTTPException):
                # refused, limited or closed by the server: a new connection, after a breath
                connection = None
                time.sleep(0.05)
        if connection is not None:
            connection.close()

    threads = [
        threading.Thread(target=connection_loop, args=(i,)) for i in range(FLOOD_CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(answered)


def _light_latencies(port: int, seconds: float, count: int) -> list[float]:
    """Up to ``count`` anonymous light requests, one every 20 ms, for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    while len(latencies) < count and time.monotonic() < deadline:
        status, elapsed = _get(port, LIGHT)
        if status != 200:
            raise RuntimeError(f"{LIGHT}: HTTP {status}")
        latencies.append(elapsed)
        time.sleep(0.02)
    return latencies


def _raster_tiles(bounds: tuple[float, float, float, float]) -> list[tuple[int, int, int]]:
    """Every XYZ tile at RASTER_ZOOMS over a lon/lat box."""
    out = []
    for z in RASTER_ZOOMS:
        n = 2**z
        x0, x1 = (int((lon + 180) / 360 * n) for lon in (bounds[0], bounds[2]))
        y0, y1 = (
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
            for lat in (bounds[3], bounds[1])
        )
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out


def _vm_kib(pid: int, field: str) -> int:
    """``VmRSS`` or ``VmHWM`` (peak) of a process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench_security_"))
    store = GeoPackageStore(work / "hanam.gpkg")
    load_sample(store, get_settings().sample_dir)
    cli = str(Path(sys.executable).with_name("gis-planner"))
    subprocess.run(
        [cli, "coverage", "--store", str(store.path), "--resolution-m", "25", "--tech", "4G",
         "--replace", "--workers", "2", "--out", str(work / "tables")],
        check=True, stdout=subprocess.DEVNULL, timeout=600,
    )  # fmt: skip
    cog = store.assets_dir / "coverage" / "any_4G_rsrp.tif"
    real_key = new_key()
    entry = {
        "name": "admin",
        "role": "admin",
        "key_id": key_id(real_key),
        "hash": hash_key(real_key),
    }
    keys = json.dumps([entry])
    sites = next(i for i in store.list_layers() if i.name == "sites")
    assert sites.bounds is not None
    mvt_paths = [f"/tiles/sites/{z}/{x}/{y}.mvt" for z, x, y in _tiles(sites.bounds)]

    with serving(store, keys) as (port, pid):
        # (a) a light anonymous request, idle then under a flood of wrong keys
        idle = _light_latencies(port, 30, 200)
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as flood_pool:
            flood = flood_pool.apply_async(_flood, (port, FLOOD_S, entry["key_id"]))
            time.sleep(1)  # let the flood build up
            flooded = _light_latencies(port, FLOOD_S - 1, 400)
            flood_answers = flood.get(timeout=FLOOD_S + TIMEOUT_S)

        # (b) every raster tile at z0–z8 meeting the raster, RASTER_CLIENTS at once
        # The public RSRP raster over every operator, found by its record.
        raster = next(
            r for r in json.loads(_get_body(port, "/rasters"))
            if r["operator"] is None and r["bands"][0]["quantity"] == "rsrp_dbm"
        )  # fmt: skip
        raster_id, bounds = raster["id"], raster["bounds"]
        minzoom = json.loads(_get_body(port, f"/rasters/{raster_id}/tilejson.json"))["minzoom"]
        raster_paths = [
            f"/rasters/{raster_id}/tiles/{z}/{x}/{y}.png" for z, x, y in _raster_tiles(bounds)
        ]
        rss_before_kib = _vm_kib(pid, "VmRSS")
        with ThreadPoolExecutor(RASTER_CLIENTS) as clients:
            # The first pass draws every tile; the later ones find them in the server's cache.
            drawn = list(clients.map(lambda path: _get(port, path), raster_paths))
            cached = list(
                clients.map(lambda path: _get(port, path), raster_paths * (RASTER_ROUNDS - 1))
            )
        answers = drawn + cached
        growth_mib = (_vm_kib(pid, "VmHWM") - rss_before_kib) / 1024
        statuses = {status for status, _ in answers}
        if not statuses <= {200, 400}:
            raise RuntimeError(f"raster tiles answered {sorted(statuses)}")
        raster_p99 = _p99_ms([t for _, t in answers])
        refused = sum(status == 400 for status, _ in answers)

        # (c) MVT tiles: bench_api's measure, then 8 clients
        with context.Pool(MVT_CLIENTS) as pool:
            pool.map(_fetch, [(port, ["/tiles/sites/0/0/0.mvt"])] * MVT_CLIENTS)
            _load(pool, port, mvt_paths)  # the server computes and caches every tile once
            _, baseline_rate = _load(pool, port, mvt_paths)
            rates = []
            for _ in range(MVT_ROUNDS):
                shares = [mvt_paths[i::MVT_CLIENTS] for i in range(MVT_CLIENTS)]
                start = time.perf_counter()
                pool.map(_fetch, [(port, share) for share in shares])
                rates.append(len(mvt_paths) / (time.perf_counter() - start))
        mvt_rate = statistics.median(rates)

    # In process, one tile at a time: the former reader against the one the server now uses.
    with rasterio.open(cog) as dataset:
        pyramid = Pyramid.of(dataset)
    x, y = next((x, y) for z, x, y in _raster_tiles(bounds) if z == BASELINE_ZOOM)
    former, current = [], []
    for _ in range(3):
        start = time.perf_counter()
        with Reader(str(cog)) as reader:
            reader.tile(x, y, BASELINE_ZOOM, tilesize=256, indexes=1)
        former.append(time.perf_counter() - start)
        start = time.perf_counter()
        read_tile(cog, pyramid, BASELINE_ZOOM, x, y)
        current.append(time.perf_counter() - start)
    former_ms = statistics.median(former) * 1000
    current_ms = statistics.median(current) * 1000

    idle_p99, flooded_p99 = _p99_ms(idle), _p99_ms(flooded)
    print_table(
        f"denial of service, gis-planner serve on loopback, raster {raster_id} (25 m, minzoom "
        f"{minzoom})",
        ("measure", "value", "note"),
        [
            ("light anonymous request p99, idle", f"{idle_p99:.1f} ms", f"{len(idle)} requests"),
            (
                f"same under {FLOOD_CONNECTIONS} connections of wrong keys",
                f"{flooded_p99:.1f} ms",
                verdict(flooded_p99, P99_MS) + f" (≤ {P99_MS:g}); {len(flooded)} requests, "
                f"{flooded_p99 / idle_p99:.1f}× idle; flood answered {flood_answers}",
            ),
            (
                f"raster tiles z0–z8 p99, {RASTER_CLIENTS} clients",
                f"{raster_p99:.1f} ms",
                verdict(raster_p99, P99_MS) + f" (≤ {P99_MS:g}); {len(answers)} requests, "
                f"{refused} refused below minzoom",
            ),
            (
                "  of which the first pass (every tile drawn)",
                f"{_p99_ms([t for _, t in drawn]):.1f} ms",
                f"{len(drawn)} requests; later passes {_p99_ms([t for _, t in cached]):.1f} ms",
            ),
            (
                "server memory growth (peak RSS − RSS before)",
                f"{growth_mib:.0f} MiB",
                verdict(growth_mib, RSS_GROWTH_MIB) + f" (≤ {RSS_GROWTH_MIB:g})",
            ),
            (
                f"baseline: former reader, one z{BASELINE_ZOOM} tile in process",
                f"{former_ms:.1f} ms",
                f"the tile reader now: {current_ms:.1f} ms, {former_ms / current_ms:.1f}× faster",
            ),
            (
                f"MVT tiles, {MVT_CLIENTS} clients (cached)",
                f"{mvt_rate:.0f} tiles/s",
                ("meets target" if mvt_rate >= MVT_TILES_PER_S else "MISSES target")
                + f" (≥ {MVT_TILES_PER_S:g})",
            ),
            (
                "baseline: bench_api's measure (3 clients)",
                f"{baseline_rate:.0f} tiles/s",
                f"8 clients give {mvt_rate / baseline_rate:.2f}×",
            ),
        ],
    )


def _get_body(port: int, path: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
        return body
    finally:
        connection.close()


if __name__ == "__main__":
    main()
