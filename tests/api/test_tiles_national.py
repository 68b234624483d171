"""Vector tiles of a national table: counts on a grid at low zoom that add up to the layer, detail
where a tile holds few points, and no tile over the byte cap at any zoom."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from benchmarks.synthetic import VIETNAM_BBOX, national_sites
from gis_planner.store import GeoPackageStore
from gis_planner.vectortiles import (
    AGGREGATE_CELLS,
    EXTENT,
    MAX_DETAIL_POINTS,
    MAX_TILE_BYTES,
    encode_tile,
    tile_bounds,
)

N_SITES = 40_000


def tiles_over(bbox: tuple[float, float, float, float], z: int) -> list[tuple[int, int]]:
    n = 2**z

    def tile_y(lat: float) -> int:
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    xs = range(int((bbox[0] + 180) / 360 * n), int((bbox[2] + 180) / 360 * n) + 1)
    ys = range(tile_y(bbox[3]), tile_y(bbox[1]) + 1)
    return [(x, y) for x in xs for y in ys]


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, Counter[str]]:
    store = GeoPackageStore(tmp_path_factory.mktemp("national") / "vn.gpkg")
    sites = national_sites(N_SITES, seed=3)
    store.write("sites", sites)
    client = TestClient(create_app(store, ApiSettings(cache_check_s=0)))
    return client, Counter(sites["operator"])


def _features(client: TestClient, z: int, x: int, y: int) -> list[dict]:
    response = client.get(f"/tiles/sites/{z}/{x}/{y}.mvt")
    assert response.status_code == 200
    assert len(response.content) <= MAX_TILE_BYTES
    if not response.content:
        return []
    return mapbox_vector_tile.decode(response.content)["sites"]["features"]


@pytest.mark.parametrize("z", [3, 4, 5, 6])  # every tile over Vietnam holds > 1,000 sites
def test_low_zoom_counts_add_up_to_the_layer(
    national: tuple[TestClient, Counter[str]], z: int
) -> None:
    client, by_operator = national
    total = 0
    summed: Counter[str] = Counter()
    for x, y in tiles_over(VIETNAM_BBOX, z):
        features = _features(client, z, x, y)
        assert len(features) <= AGGREGATE_CELLS**2
        for feature in features:
            props = feature["properties"]
            assert "fid" not in props  # counts, not sites
            total += props["point_count"]
            assert (
                sum(v for k, v in props.items() if k.startswith("operator_"))
                == (props["point_count"])
            )
            summed.update({k.removeprefix("operator_"): v for k, v in props.items()
                           if k.startswith("operator_")})  # fmt: skip
    assert total == N_SITES
    assert summed == by_operator


def test_counts_of_a_filter_add_up_to_its_rows(national: tuple[TestClient, Counter[str]]) -> None:
    client, by_operator = national
    z = 3  # every tile over Vietnam holds > 1,000 of Viettel's sites
    total = 0
    for x, y in tiles_over(VIETNAM_BBOX, z):
        response = client.get(f"/tiles/sites/{z}/{x}/{y}.mvt?operator=viettel")
        assert response.status_code == 200
        features = mapbox_vector_tile.decode(response.content)["sites"]["features"]
        for feature in features:
            props = feature["properties"]
            assert [k for k in props if k.startswith("operator_")] == ["operator_viettel"]
            assert props["operator_viettel"] == props["point_count"]
        total += sum(f["properties"]["point_count"] for f in features)
    assert total == by_operator["viettel"]


@pytest.mark.parametrize("z", range(17))
def test_no_tile_over_the_cap_at_any_zoom(
    national: tuple[TestClient, Counter[str]], z: int
) -> None:
    client, _ = national
    for x, y in tiles_over((105.85, 21.0, 106.0, 21.1), z)[:4]:
        features = _features(client, z, x, y)  # at most MAX_TILE_BYTES
        counted = [("point_count" in f["properties"]) for f in features]
        assert all(counted) or not any(counted)
        assert len(features) <= (AGGREGATE_CELLS**2 if any(counted) else 2 * MAX_DETAIL_POINTS)


def test_a_tile_of_few_points_shows_each_one(national: tuple[TestClient, Counter[str]]) -> None:
    client, _ = national
    z = 11
    x, y = tiles_over((105.85, 21.0, 105.85, 21.0), z)[0]
    features = _features(client, z, x, y)
    assert 0 < len(features) <= MAX_DETAIL_POINTS
    assert all(f["properties"]["fid"].startswith("VN-") for f in features)


def test_no_tile_exceeds_the_cap_and_keeps_the_largest() -> None:
    bounds = tile_bounds(8, 203, 113)
    minx, miny, maxx, maxy = bounds
    rng = np.random.default_rng(1)
    # 4,000 polygons with long properties: far over the cap if all were kept
    centres = rng.uniform([minx, miny], [maxx, maxy], (4000, 2))
    sizes_m = rng.uniform(200, 5000, 4000)
    polygons = shapely.buffer(shapely.points(centres), sizes_m, quad_segs=16)
    properties = [{"name": "x" * 300, "size": float(s)} for s in sizes_m]
    data = encode_tile("areas", polygons, properties, bounds, max_bytes=MAX_TILE_BYTES)
    assert len(data) <= MAX_TILE_BYTES
    kept = mapbox_vector_tile.decode(data)["areas"]["features"]
    assert 0 < len(kept) < 4000
    smallest_kept = min(f["properties"]["size"] for f in kept)
    dropped = sorted(sizes_m)[: 4000 - len(kept)]
    assert max(dropped) <= smallest_kept  # largest first


def test_features_below_a_pixel_are_dropped() -> None:
    bounds = tile_bounds(10, 814, 449)
    minx, miny, maxx, _ = bounds
    pixel_m = (maxx - minx) / 256
    tiny = shapely.box(minx + 1000, miny + 1000, minx + 1000 + pixel_m / 3, miny + 1000 + 10)
    large = shapely.box(minx + 2000, miny + 2000, minx + 2000 + 4 * pixel_m, miny + 2100)
    data = encode_tile("areas", np.array([tiny, large]), [{"n": 1}, {"n": 2}], bounds)
    kept = mapbox_vector_tile.decode(data)["areas"]["features"]
    assert [f["properties"]["n"] for f in kept] == [2]
    assert EXTENT // 256 == 16


def test_counts_follow_a_new_revision_of_the_layer(tmp_path: Path) -> None:
    store = GeoPackageStore(tmp_path / "vn.gpkg")
    store.write("sites", national_sites(20_000, seed=4))
    client = TestClient(create_app(store, ApiSettings(cache_check_s=0)))
    before = _features(client, 5, 25, 14)
    store.write("sites", national_sites(30_000, seed=4))
    after = _features(client, 5, 25, 14)
    assert sum(f["properties"].get("point_count", 1) for f in after) > sum(
        f["properties"].get("point_count", 1) for f in before
    )
