"""Vector tiles: tile bounds, clipping and simplification by zoom, encoding."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pytest
import shapely

from gis_planner.errors import GisPlannerError
from gis_planner.vectortiles import (
    BUFFER,
    EXTENT,
    ORIGIN_M,
    encode_tile,
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
