"""The first tiles of a layer after an edit (issue 18): from PostGIS, against reading the layer
again.

An edit moves the layer's revision, and the API's cached layer is stale until read again whole.
Before ``api.dbtiles`` the next tile waited for that read (and the layer's projection, index
and point tiles); now PostGIS reads the rows of the tile and its buffer and the cache's own code
draws them. Both run here in one process on a private PostGIS cluster holding the Hà Nam sample
and 150,000 national-scale sites: for each layer, the cache's path (read the layer, draw the
tile) once, then each of the tiles from PostGIS, the two tiles compared to the byte. CPU time
beside wall time, and the load average: the machine is shared.

Run: ``python -m benchmarks.bench_stale_tiles``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np

from api.access import Principal, layer_view
from api.dbtiles import database_tile
from api.layercache import LayerCache
from benchmarks.bench_mvt import _load_average
from benchmarks.bench_tipg import CLUSTER_SETTINGS, _load
from benchmarks.harness import print_table
from gis_planner.catalogue import CATALOGUE
from gis_planner.jobs.editing import Editor, Feature, feature_id_of, update
from gis_planner.store import PostGISStore
from gis_planner.store.pgcluster import start_cluster, stop_cluster
from gis_planner.tilearchive import tiles_over

ADMIN = Principal("admin")
TILES = 30


@dataclass(frozen=True)
class Case:
    label: str
    database: str
    layer: str
    zoom: int


CASES = (
    Case("Hà Nam sample cells, z14", "hanam", "cells", 14),
    Case("150,000 national sites, z12", "national", "sites", 12),
    Case("Hà Nam sample fibre routes, z14", "hanam", "fibre_routes", 14),
)


@dataclass(frozen=True)
class Result:
    reload_s: float
    reload_cpu_s: float
    tile_s: list[float]
    tile_cpu_s: list[float]
    same: bool


def _tiles(frame: gpd.GeoDataFrame, zoom: int) -> list[tuple[int, int, int]]:
    """The tiles of ``TILES`` of the layer's features, spread over its rows."""
    points = frame.geometry.representative_point()
    picked = points.iloc[np.linspace(0, len(points) - 1, TILES).astype(int)]
    return sorted({(zoom, *next(tiles_over((p.x, p.y, p.x, p.y), zoom))) for p in picked})


def _edit(store: PostGISStore, layer: str, frame: gpd.GeoDataFrame) -> None:
    """An admin's edit of the layer's first feature through the editing job (a merge patch of
    nothing: the row is written again and the layer's revision moves)."""
    record = frame.iloc[0].to_dict()
    feature_id = feature_id_of(CATALOGUE[layer], record)
    update(store, layer, feature_id, Feature({}), Editor("admin", name="bench"), if_match="*")


def _run(url: str, case: Case) -> Result:
    store = PostGISStore(url)
    frame = store.read(case.layer)
    assert isinstance(frame, gpd.GeoDataFrame)
    tiles = _tiles(frame, case.zoom)
    # The cache's path: the layer read whole, then the first tile drawn.
    layers = LayerCache(store)
    wall, cpu = time.perf_counter(), time.process_time()
    cached = layers.layer(case.layer)
    view = layer_view(case.layer, cached.fields, ADMIN)
    assert view is not None
    first = cached.tile(view, {}, *tiles[0])
    reload_s, reload_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    expected = {tile: cached.tile(view, {}, *tile) for tile in tiles}
    # PostGIS: a cache holding the layer as it was before an edit.
    stale = LayerCache(store, check_s=0.0)
    stale.layer(case.layer)
    _edit(store, case.layer, frame)
    assert stale.is_stale(case.layer)
    same = first == expected[tiles[0]]
    tile_s, tile_cpu_s = [], []
    for tile in tiles:
        wall, cpu = time.perf_counter(), time.process_time()
        data = database_tile(stale, case.layer, ADMIN, [], *tile)
        tile_s.append(time.perf_counter() - wall)
        tile_cpu_s.append(time.process_time() - cpu)
        same = same and data == expected[tile]
    assert stale.is_stale(case.layer)  # none of the tiles read the layer again
    store.close()
    return Result(reload_s, reload_cpu_s, tile_s, tile_cpu_s, same)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    load_before = _load_average()
    cluster_dir = Path(tempfile.mkdtemp(prefix="bench_stale_tiles_pg_"))
    try:
        cluster = start_cluster(cluster_dir, CLUSTER_SETTINGS)
        try:
            urls = _load(cluster)
            results = {case: _run(urls[case.database], case) for case in CASES}
        finally:
            stop_cluster(cluster_dir, immediate=True)
    finally:
        shutil.rmtree(cluster_dir, ignore_errors=True)
    rows = []
    for case, result in results.items():
        median_s = statistics.median(result.tile_s)
        rows.append(
            (
                case.label,
                f"{result.reload_s * 1e3:,.0f} ms ({result.reload_cpu_s * 1e3:,.0f} ms CPU)",
                f"{median_s * 1e3:.1f} ms ({statistics.median(result.tile_cpu_s) * 1e3:.1f} ms "
                f"CPU), max {max(result.tile_s) * 1e3:.1f} ms, {len(result.tile_s)} tiles",
                f"{result.reload_s / median_s:.0f}×",
                "the same to the byte" if result.same else "DIFFER",
            )
        )
    print_table(
        "The first tile of a layer after an edit (admin, no filter)",
        ("layer", "read the layer, draw", "from PostGIS (median)", "ratio", "tiles"),
        rows,
    )
    print(f"load average {load_before} before, {_load_average()} after (2 cores)")


if __name__ == "__main__":
    main()
