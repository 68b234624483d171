"""Vector tiles: tile bounds, clipping and simplification by zoom, encoding."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_planner.errors import GisPlannerError
from gis_planner.vectortiles import (
    BUFFER,
    EXTENT,
    ORIGIN_M,
    PointIndex,
    PointProperties,
    buffered,
    encode_points,
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


@pytest.mark.parametrize("z", [0, 5, 9, 14, 18, 22])
def test_point_index_finds_what_a_comparison_of_every_point_finds(z: int) -> None:
    rng = np.random.default_rng(z)
    n = PointIndex.MIN_POINTS
    lon, lat = rng.uniform(102, 110, n), rng.uniform(8, 24, n)
    x = lon * ORIGIN_M / 180
    y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * ORIGIN_M / np.pi
    # A tenth of the points on edges of the tiles of zoom 16, written as ``tile_bounds`` does.
    size, edge = 2 * ORIGIN_M / 2**16, slice(0, n // 10)
    x[edge] = -ORIGIN_M + np.round((x[edge] + ORIGIN_M) / size) * size
    y[edge] = ORIGIN_M - np.round((ORIGIN_M - y[edge]) / size) * size
    xy = np.column_stack([x, y])
    index = PointIndex(xy)
    for i in rng.integers(0, len(xy), 20):
        n = 1 << z
        tx = int((xy[i, 0] + ORIGIN_M) / (2 * ORIGIN_M) * n)
        ty = int((ORIGIN_M - xy[i, 1]) / (2 * ORIGIN_M) * n)
        for bounds in (tile_bounds(z, tx, ty), buffered(tile_bounds(z, tx, ty))):
            np.testing.assert_array_equal(index.query(bounds), points_in(xy, bounds))
