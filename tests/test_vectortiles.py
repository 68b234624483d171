"""Vector tiles: tile bounds, clipping and simplification by zoom, encoding; point tiles: the
Z-order index and the counts of a zoom."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import shapely

from gis_planner.errors import GisPlannerError
from gis_planner.mvtpoints import PointProperties, encode_points
from gis_planner.pointtiles import PointIndex, PointTiles, ZoomCounts, count_tile
from gis_planner.vectortiles import (
    BUFFER,
    EXTENT,
    ORIGIN_M,
    Category,
    buffered,
    encode_tile,
    points_in,
    tile_bounds,
    to_tile_space,
)


def test_tile_bounds() -> None:
    assert tile_bounds(0, 0, 0) == pytest.approx((-ORIGIN_M, -ORIGIN_M, ORIGIN_M, ORIGIN_M))
    assert tile_bounds(2, 3, 0) == pytest.approx((ORIGIN_M / 2, ORIGIN_M / 2, ORIGIN_M, ORIGIN_M))
    with pytest.raises(GisPlannerError, match="zoom 25"):
        tile_bounds(25, 0, 0)
    with pytest.raises(GisPlannerError, match="0–3"):
        tile_bounds(2, 0, 4)


def test_lines_are_clipped_to_the_buffered_tile() -> None:
    bounds = (0.0, 0.0, 4096.0, 4096.0)
    line = shapely.LineString([(-100_000, 2048), (100_000, 2048)])
    (clipped,) = to_tile_space(np.array([line], dtype=object), bounds)
    minx, _, maxx, _ = clipped.bounds
    assert minx == pytest.approx(-BUFFER) and maxx == pytest.approx(EXTENT + BUFFER)


def test_simplification_follows_the_tile_size() -> None:
    # A wiggle of 2 m on a 1 km line: kept in a 1 km tile, gone in a 100 km tile.
    xs = np.linspace(0, 1000, 201)
    line = shapely.LineString(np.column_stack([xs, np.where(np.arange(201) % 2, 2.0, 0.0)]))
    geoms = np.array([line], dtype=object)
    small = to_tile_space(geoms, (0.0, -500.0, 1000.0, 500.0))[0]
    large = to_tile_space(geoms, (0.0, -50_000.0, 100_000.0, 50_000.0))[0]
    assert shapely.get_num_coordinates(small) > 100
    assert shapely.get_num_coordinates(large) == 2


def test_encode_round_trip() -> None:
    bounds = tile_bounds(1, 0, 0)
    point = shapely.Point(bounds[0] + (bounds[2] - bounds[0]) / 4, bounds[3] - 1000)
    data = encode_tile("sites", np.array([point], dtype=object), [{"a": 1, "b": None}], bounds)
    (feature,) = mapbox_vector_tile.decode(data)["sites"]["features"]
    assert feature["properties"] == {"a": 1}
    x, y = feature["geometry"]["coordinates"]
    assert x == EXTENT // 4 and y >= EXTENT - 1
    assert encode_tile("sites", np.array([], dtype=object), [], bounds) == b""


def test_points_encode_as_mapbox_vector_tile_encodes_them() -> None:
    bounds = tile_bounds(10, 813, 459)
    rng = np.random.default_rng(1)
    grown = buffered(bounds)
    xy = np.column_stack(
        [rng.uniform(grown[0], grown[2], 300), rng.uniform(grown[1], grown[3], 300)]
    )
    records = [
        {
            "fid": f"VN-{i}:viettel",
            "name": ["Phủ Lý", "Duy Tiên", None][i % 3],
            "height_m": [30.5, None, 45.0][i % 3],
            "sectors": [3, -2, 10**12][i % 3],
            "shared": [True, False, None][i % 3],
            "since": pd.Timestamp("2024-01-01"),  # no MVT type: left out by both
        }
        for i in range(len(xy))
    ]
    properties = PointProperties.of({key: [r[key] for r in records] for key in records[0]})
    mine = mapbox_vector_tile.decode(encode_points("sites", xy, properties, bounds))["sites"]
    theirs = mapbox_vector_tile.decode(encode_tile("sites", shapely.points(xy), records, bounds))[
        "sites"
    ]
    assert mine["extent"] == EXTENT
    assert [f["properties"] for f in mine["features"]] == [
        f["properties"] for f in theirs["features"]
    ]
    ours = np.array([f["geometry"]["coordinates"] for f in mine["features"]])
    reference = np.array([f["geometry"]["coordinates"] for f in theirs["features"]])
    assert np.abs(ours - reference).max() <= 1  # rounded at another step
    assert encode_points("sites", xy[:0], properties[np.arange(0)], bounds) == b""
    bare = PointProperties.of({"name": [None, float("nan")]})
    tile = mapbox_vector_tile.decode(encode_points("sites", xy[:2], bare, bounds))
    assert [f["properties"] for f in tile["sites"]["features"]] == [{}, {}]


def test_points_past_the_byte_cap_keep_the_first() -> None:
    bounds = tile_bounds(10, 813, 459)
    xy = np.tile([[(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2]], (500, 1))
    properties = PointProperties.of({"fid": [f"{'x' * 200}{i}" for i in range(500)]})
    data = encode_points("sites", xy, properties, bounds, max_bytes=20_000)
    features = mapbox_vector_tile.decode(data)["sites"]["features"]
    assert len(data) <= 20_000 and 50 < len(features) < 100
    assert [f["properties"]["fid"] for f in features] == [
        f"{'x' * 200}{i}" for i in range(len(features))
    ]


def _points(seed: int, n: int, on_edges: float = 0.1) -> npt.NDArray[np.float64]:
    """``n`` points over Vietnam in Web Mercator, a share ``on_edges`` of them on edges of the
    tiles of zoom 16, written as ``tile_bounds`` does."""
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(102, 110, n), rng.uniform(8, 24, n)
    x = lon * ORIGIN_M / 180
    y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * ORIGIN_M / np.pi
    size, edge = 2 * ORIGIN_M / 2**16, slice(0, int(n * on_edges))
    x[edge] = -ORIGIN_M + np.round((x[edge] + ORIGIN_M) / size) * size
    y[edge] = ORIGIN_M - np.round((ORIGIN_M - y[edge]) / size) * size
    return np.column_stack([x, y])


def _tile_of(xy: npt.NDArray[np.float64], z: int) -> tuple[int, int]:
    n = 1 << z
    return (
        int((xy[0] + ORIGIN_M) / (2 * ORIGIN_M) * n),
        int((ORIGIN_M - xy[1]) / (2 * ORIGIN_M) * n),
    )


@pytest.mark.parametrize("z", [0, 5, 9, 14, 18, 22])
def test_point_index_finds_what_a_comparison_of_every_point_finds(z: int) -> None:
    xy = _points(z, PointIndex.MIN_POINTS)
    index = PointIndex(xy)
    rng = np.random.default_rng(z)
    for i in rng.integers(0, len(xy), 20):
        tile = tile_bounds(z, *_tile_of(xy[i], z))
        for bounds in (tile, buffered(tile)):
            np.testing.assert_array_equal(index.query(bounds), points_in(xy, bounds))


@pytest.mark.parametrize("z", [2, 6, 8, 10, 12])
def test_a_tile_and_its_buffer_are_found_as_by_comparing_every_point(z: int) -> None:
    xy = _points(z, 2 * PointIndex.MIN_POINTS)
    index = PointIndex(xy)
    odd = np.flatnonzero(np.arange(len(xy)) % 2)
    some = index.subset(odd)
    rng = np.random.default_rng(z)
    for i in rng.integers(0, len(xy), 20):
        tx, ty = _tile_of(xy[i], z)
        bounds = buffered(tile_bounds(z, tx, ty))
        np.testing.assert_array_equal(index.tile_rows(z, tx, ty), points_in(xy, bounds))
        found = points_in(xy, bounds)
        np.testing.assert_array_equal(some.tile_rows(z, tx, ty), found[found % 2 == 1])


@pytest.mark.parametrize("z", [3, 6, 9])
def test_the_counts_of_a_zoom_are_those_of_each_tile_and_add_up(z: int) -> None:
    # Off the edges: a point on a cell's side may be counted in either cell.
    xy = _points(z, 30_000, on_edges=0)
    operators = pd.Series(np.random.default_rng(z).choice(["mobifone", "viettel", None], len(xy)))
    categories = {"operator": Category.of(operators)}
    index = PointIndex(xy)
    counts = ZoomCounts(index, categories, z)
    n = 1 << z
    tiles = {_tile_of(p, z) for p in xy}
    total = 0
    for tx, ty in tiles:
        if not 0 <= tx < n or not 0 <= ty < n:
            continue
        bounds = tile_bounds(z, tx, ty)
        mine = mapbox_vector_tile.decode(counts.tile("sites", tx, ty))
        rows = index.query(buffered(bounds))
        theirs = mapbox_vector_tile.decode(
            count_tile("sites", xy, rows, {"operator": categories["operator"]}, bounds)
        )
        features = mine["sites"]["features"] if mine else []
        assert sorted(repr(f) for f in features) == sorted(
            repr(f) for f in (theirs["sites"]["features"] if theirs else [])
        )
        assert sum(f["properties"]["point_count"] for f in features) == index.count_in_tile(
            z, tx, ty
        )
        total += sum(f["properties"]["point_count"] for f in features)
    assert total == len(xy)


def test_point_tiles_count_past_the_detail_limit_only() -> None:
    xy = _points(0, 30_000)
    tiles = PointTiles(PointIndex(xy), {})
    properties = PointProperties.of({"fid": np.arange(len(xy))})
    for z in (4, 12):
        tx, ty = _tile_of(xy[0], z)
        features = mapbox_vector_tile.decode(tiles.draw("sites", z, tx, ty, lambda: properties))[
            "sites"
        ]["features"]
        counted = tiles.is_counted(z, tx, ty)
        assert counted == (z == 4)
        assert all(("point_count" in f["properties"]) == counted for f in features)
        assert tiles.is_quick(z, tx, ty)
