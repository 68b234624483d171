"""Computed MVT tiles beside tipg on the same PostGIS tables (issue 22), both measured by wrk.

Targets: gis-planner ≥ 4× tipg's tiles/s, tile cache off, (a) 150,000 national-scale sites
(``synthetic.national_sites``) at z6–z10 and (b) the Hà Nam sample's sites at z12–z14.
A private PostgreSQL + PostGIS cluster (``pgcluster``, from the system packages) holds one store
database per area, made by ``init_schema`` and written through ``PostGISStore``. Each server
runs in a child process on loopback with one uvicorn process and no access log:
``gis-planner serve`` on the store with ``GIS_PLANNER_TILE_CACHE_MIB=0``, and tipg (``tipg>=1,<2``,
in a venv of its own under ``benchmarks/results/tipg-venv``, made on first run: it pins its own
FastAPI) on the same database's ``gis_planner.sites`` table with its default settings (a tile
holds at most ``TIPG_MAX_FEATURES_PER_TILE`` = 10,000 features; gis-planner counts points on a
grid past ``MAX_DETAIL_POINTS``). Both get the same tile list: every tile of the layer's
bounds at the area's zooms, cycled by wrk (``apt-get install wrk``) with 8 connections. Before
the load, every tile of both servers is decoded, and at z12–z14 the ids of the sites strictly
inside each tile (``site_id:operator``; the buffers differ) must be the same on both sides.
Servers take turns, ROUNDS each per area: start, WARMUP_S of wrk, DURATION_S measured, stop;
the table holds the medians and the load average, which matters on a machine of 2 cores.
gis-planner makes, once per revision of a layer, its point index, its values coded for the
tiles and the counts of each zoom where a tile is counted; it does so on its first requests
(within the warm-up here). The same work, timed in this process on the national table, is
reported beside the throughput, with what the throughput would be if one 20 s run paid it.
Run: ``python -m benchmarks.bench_tipg``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mapbox_vector_tile
import psycopg
from psycopg import sql

from api.access import VIEWER, layer_view
from api.layercache import LayerCache
from benchmarks.bench_api import _free_port, _tiles
from benchmarks.bench_mvt import (
    CURRENT,
    SERVE,
    THREADS,
    WRK_SCRIPT,
    Run,
    _env,
    _launch,
    _load_average,
    _stop,
    _wrk,
)
from benchmarks.bench_security import MVT_CLIENTS
from benchmarks.harness import print_table
from benchmarks.synthetic import national_sites
from gis_planner.sample import load_sample
from gis_planner.settings import get_settings
from gis_planner.store import PostGISStore
from gis_planner.store.pgcluster import Cluster, start_cluster, stop_cluster
from gis_planner.store.pgschema import LAYER_SCHEMA, init_schema
from gis_planner.vectortiles import EXTENT

RATIO_MIN = 4.0
NATIONAL_SITES = 150_000
ROUNDS = 3
WARMUP_S = 5
DURATION_S = 20
TIPG = "tipg>=1.0,<2"
TIPG_VENV = CURRENT / "benchmarks" / "results" / "tipg-venv"
#: Durability is of no use to a cluster deleted when the benchmark ends.
CLUSTER_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclass(frozen=True)
class Area:
    """One comparison: a store database and the zooms its tiles are drawn at."""

    name: str
    label: str
    database: str
    zooms: tuple[int, ...]
    #: Whether both servers' tiles must hold the same sites (not where gis-planner counts).
    same_ids: bool


AREAS = (
    Area("national", f"{NATIONAL_SITES:,} sites, z6–z10", "national", (6, 7, 8, 9, 10), False),
    Area("hanam", "Hà Nam sample sites, z12–z14", "hanam", (12, 13, 14), True),
)
SERVERS = ("gis-planner", "tipg")


def _tipg_python() -> Path:
    """The tipg venv's interpreter, the venv made and tipg installed on first use."""
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing {TIPG} into {TIPG_VENV}", flush=True)
        venv.create(TIPG_VENV, with_pip=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", TIPG, "uvicorn"], check=True
        )
    return python


def _database(cluster: Cluster, name: str) -> str:
    """A new store database ``name`` in ``cluster``, schema made; its URL."""
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as con:
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = cluster.url(name)
    init_schema(url)
    return url


def _load(cluster: Cluster) -> dict[str, str]:
    """Each area's database, its sites written through the store and analysed; their URLs."""
    urls = {area.name: _database(cluster, area.database) for area in AREAS}
    load_sample(PostGISStore(urls["hanam"]), get_settings().sample_dir)
    PostGISStore(urls["national"]).write("sites", national_sites(NATIONAL_SITES))
    for url in urls.values():
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(LAYER_SCHEMA, "sites")))
    return urls


def _password_url(cluster: Cluster, database: str) -> str:
    """``cluster.url`` with the password itself: tipg validates DATABASE_URL as a DSN of its
    own and drops libpq's ``passfile``."""
    password = cluster.passfile.read_text().strip().rsplit(":", 1)[1]
    return cluster.url(database).split("?")[0].replace("@", f":{password}@", 1)


def _start(
    server: str, url: str, cluster: Cluster, area: Area, log: Path
) -> tuple[subprocess.Popen[bytes], int]:
    """``server`` on the area's database, once it answers: (process, port)."""
    port = _free_port()
    if server == "gis-planner":
        command = [sys.executable, "-c", SERVE, "serve", "--store", url, "--port", str(port),
                   "--access-log", "off"]  # fmt: skip
        env = {**_env(CURRENT), "GIS_PLANNER_TILE_CACHE_MIB": "0"}
    else:
        command = [str(_tipg_python()), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1",
                   "--port", str(port), "--no-access-log", "--log-level", "warning"]  # fmt: skip
        env = {
            **_env(CURRENT),
            "DATABASE_URL": _password_url(cluster, area.database),
            "TIPG_DB_SCHEMAS": f'["{LAYER_SCHEMA}"]',
            "TIPG_DB_TABLES": f'["{LAYER_SCHEMA}.sites"]',
        }
    return _launch(command, CURRENT, env, log, port), port


def _paths(server: str, tiles: Sequence[tuple[int, int, int]]) -> list[str]:
    if server == "gis-planner":
        return [f"/tiles/sites/{z}/{x}/{y}.mvt" for z, x, y in tiles]
    return [
        f"/collections/{LAYER_SCHEMA}.sites/tiles/WebMercatorQuad/{z}/{x}/{y}" for z, x, y in tiles
    ]


def _get_all(port: int, paths: Sequence[str]) -> list[bytes]:
    """Every path's body, on one keep-alive connection; anything but a 2xx is an error."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    bodies = []
    for path in paths:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        if not 200 <= response.status < 300:
            raise RuntimeError(f"{path}: HTTP {response.status}: {body[:200]!r}")
        bodies.append(body)
    connection.close()
    return bodies


def _features(tile: bytes) -> list[dict[str, object]]:
    """The features of a tile's only layer (none in an empty tile)."""
    layers = mapbox_vector_tile.decode(tile) if tile else {}
    if len(layers) > 1:
        raise RuntimeError(f"a tile of one layer holds {sorted(layers)}")
    return [f for layer in layers.values() for f in layer["features"]]


def _inside_ids(features: list[dict[str, object]], server: str) -> set[str]:
    """``site_id:operator`` of the point features strictly inside the tile (each server keeps
    its own buffer around it)."""
    ids = set()
    for feature in features:
        x, y = feature["geometry"]["coordinates"]  # type: ignore[index]
        if 0 < x < EXTENT and 0 < y < EXTENT:
            props = feature["properties"]
            assert isinstance(props, dict)
            ids.add(props["fid"] if server == "gis-planner" else
                    f"{props['site_id']}:{props['operator']}")  # fmt: skip
    return ids


@dataclass(frozen=True)
class Check:
    """What the decoded tiles of one server over one area hold."""

    tiles: int
    features: int
    mean_bytes: float


def _check(bodies: dict[str, list[bytes]], area: Area) -> tuple[dict[str, Check], int]:
    """Every tile decodes; at ``same_ids`` areas both hold the same sites inside each tile.
    (Each server's check, the number of tiles compared site by site.)"""
    checks = {}
    decoded = {}
    for server, tiles in bodies.items():
        decoded[server] = [_features(tile) for tile in tiles]
        checks[server] = Check(
            len(tiles),
            sum(len(f) for f in decoded[server]),
            statistics.mean(len(tile) for tile in tiles),
        )
    compared = 0
    if area.same_ids:
        for mine, theirs in zip(decoded["gis-planner"], decoded["tipg"], strict=True):
            if any("point_count" in f["properties"] for f in mine):  # type: ignore[operator]
                raise RuntimeError(f"{area.name}: a tile shows counts, not sites")
            if _inside_ids(mine, "gis-planner") != _inside_ids(theirs, "tipg"):
                raise RuntimeError(f"{area.name}: the servers' tiles hold different sites")
            compared += 1
    return checks, compared


@dataclass(frozen=True)
class Precomputed:
    """What gis-planner makes once per revision of the national sites, as its server does."""

    read_s: float
    index_s: float
    properties_s: float
    counts_s: float
    counted_zooms: tuple[int, ...]
    mib: float

    @property
    def total_s(self) -> float:
        return self.index_s + self.properties_s + self.counts_s


def _precompute(url: str, tiles: Sequence[tuple[int, int, int]]) -> Precomputed:
    """The anonymous view's point index, coded values and counts of the zooms where one of
    ``tiles`` is counted, made and timed as the server makes them."""
    started = time.perf_counter()
    cached = LayerCache(PostGISStore(url)).layer("sites")
    view = layer_view("sites", cached.fields, VIEWER)
    assert view is not None
    read = time.perf_counter()
    points = cached.point_tiles(view, {})
    indexed = time.perf_counter()
    properties = cached.point_properties(view)
    coded = time.perf_counter()
    zooms = sorted({z for z, x, y in tiles if points.is_counted(z, x, y)})
    for z in zooms:
        points.counts(z)
    counted = time.perf_counter()
    return Precomputed(
        read - started,
        indexed - read,
        coded - indexed,
        counted - coded,
        tuple(zooms),
        (points.nbytes + properties.codes.nbytes) / 2**20,
    )


def _measure(
    wrk: str, work: Path, cluster: Cluster, urls: dict[str, str]
) -> tuple[dict[str, list[tuple[int, int, int]]], dict[tuple[str, str], list[Run]], list[str]]:
    """Tiles checked, then the servers in turn; (tiles of each area, runs, check notes)."""
    tiles = {}
    scripts = {}
    notes = []
    for area in AREAS:
        info = next(i for i in PostGISStore(urls[area.name]).list_layers() if i.name == "sites")
        assert info.bounds is not None
        tiles[area.name] = _tiles(info.bounds, area.zooms)
        bodies = {}
        for server in SERVERS:
            paths = _paths(server, tiles[area.name])
            process, port = _start(server, urls[area.name], cluster, area, work / f"{server}.log")
            try:
                bodies[server] = _get_all(port, paths)
            finally:
                _stop(process)
            script = work / f"{area.name}-{server}.lua"
            listed = ",\n".join(f'  "{path}"' for path in paths)
            script.write_text(WRK_SCRIPT.format(paths=listed, threads=THREADS))
            scripts[area.name, server] = script
        checks, compared = _check(bodies, area)
        for server, check in checks.items():
            notes.append(
                f"{area.name} {server}: {check.tiles} tiles decoded, {check.features:,} "
                f"features, {check.mean_bytes / 1024:.1f} KiB a tile on average"
            )
        if area.same_ids:
            notes.append(f"{area.name}: same sites inside each of {compared} tiles on both sides")
        print(*notes[-3:], sep="\n", flush=True)

    runs: dict[tuple[str, str], list[Run]] = {key: [] for key in scripts}
    for round_ in range(ROUNDS):
        for area in AREAS:
            for server in SERVERS:
                log = work / f"{server}.log"
                process, port = _start(server, urls[area.name], cluster, area, log)
                try:
                    # gis-planner reads the layer on its first tile, longer than wrk's timeout.
                    _get_all(port, _paths(server, tiles[area.name][:1]))
                    _wrk(wrk, port, scripts[area.name, server], WARMUP_S)
                    run = _wrk(wrk, port, scripts[area.name, server], DURATION_S)
                finally:
                    _stop(process)
                runs[area.name, server].append(run)
                print(
                    f"round {round_ + 1}/{ROUNDS} {area.name} {server}: "
                    f"{run.requests_per_s:.0f} tiles/s, p99 {run.p99_ms:.1f} ms",
                    flush=True,
                )
    return tiles, runs, notes


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench_tipg needs wrk, a C HTTP load generator: apt-get install wrk")
    _tipg_python()
    load_before = _load_average()
    work = Path(tempfile.mkdtemp(prefix="bench_tipg_"))
    # A directory of its own, not inside ``work``: a temporary directory is private to this
    # user, and run as root, the cluster runs as the postgres system user.
    cluster_dir = Path(tempfile.mkdtemp(prefix="bench_tipg_pg_"))
    try:
        cluster = start_cluster(cluster_dir, CLUSTER_SETTINGS)
        try:
            urls = _load(cluster)
            tiles, runs, notes = _measure(wrk, work, cluster, urls)
            precomputed = _precompute(urls["national"], tiles["national"])
        finally:
            stop_cluster(cluster_dir, immediate=True)
    finally:
        shutil.rmtree(cluster_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    load_after = _load_average()

    rows: list[tuple[object, ...]] = []
    for area in AREAS:
        rate = {s: statistics.median(r.requests_per_s for r in runs[area.name, s]) for s in SERVERS}
        p99 = {s: statistics.median(r.p99_ms for r in runs[area.name, s]) for s in SERVERS}
        for server in SERVERS:
            rounds = ", ".join(f"{r.requests_per_s:.0f}" for r in runs[area.name, server])
            rows.append(
                (f"{area.label}: {server}", f"{rate[server]:.0f} tiles/s",
                 f"p99 {p99[server]:.1f} ms; rounds {rounds}")
            )  # fmt: skip
        ratio = rate["gis-planner"] / rate["tipg"]
        verdict = "meets target" if ratio >= RATIO_MIN else "MISSES target"
        rows.append(
            (f"{area.label}: gis-planner / tipg", f"{ratio:.2f}×",
             f"{verdict} (≥ {RATIO_MIN:g}×); {len(tiles[area.name])} tiles")
        )  # fmt: skip
        if area.name == "national":
            p = precomputed
            paid = rate["gis-planner"] * DURATION_S / (DURATION_S + p.total_s)
            zooms = ", ".join(f"z{z}" for z in p.counted_zooms) or "none"
            rows.append(
                (f"{area.label}: made once per revision", f"{p.total_s:.2f} s",
                 f"index {p.index_s:.2f} s, values coded {p.properties_s:.2f} s, counts of "
                 f"{zooms} {p.counts_s:.2f} s; {p.mib:.1f} MiB; after reading the layer "
                 f"({p.read_s:.1f} s)")
            )  # fmt: skip
            rows.append(
                (f"{area.label}: gis-planner, one {DURATION_S} s run paying it",
                 f"{paid:.0f} tiles/s", f"{paid / rate['tipg']:.2f}× tipg")
            )  # fmt: skip
    rows.append(
        ("load average (1, 5, 15 min)", load_before,
         f"before the benchmark; after: {load_after}; {os.cpu_count()} cores")
    )  # fmt: skip
    print("\n" + "\n".join(notes))
    print_table(
        f"computed sites MVT (tile cache off), wrk -t{THREADS} -c{MVT_CLIENTS} -d{DURATION_S}s "
        f"after {WARMUP_S} s of warm-up, {ROUNDS} alternated rounds per server (medians)",
        ("measure", "value", "note"),
        rows,
    )


if __name__ == "__main__":
    main()
