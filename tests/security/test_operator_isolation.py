"""What an operator may learn of other operators: fibre backhaul and topology problems, antenna
pattern references, the capacity of positions (issue 12, defects 4, 7 and part of 10)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.cli import app as cli
from gis_planner.radio.antenna import load_patterns
from gis_planner.sharing import positions
from gis_planner.store import GeoPackageStore
from tests.api.conftest import api_settings, key

__all__ = ["api_settings"]

#: A Viettel site id that a VNPT site uses too in ``fibre_store``.
SQUATTED = "VTL-HNM-0001"
#: Operators with fibre in the sample whose keys the API tests hold.
FIBRE_OPERATORS = ("viettel", "vnpt")
#: How far a drawn path may stand off the route it follows (vertices snap within 5 m).
NEAR_M = 10.0
#: Spacing of the points a path is checked at.
STEP_M = 5.0
#: The sample's metric CRS: Hà Nam lies in UTM zone 48N.
METRIC_CRS = "EPSG:32648"


@pytest.fixture(scope="module")
def fibre_store(sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample after the real ``gis-planner fibre`` job."""
    path = tmp_path_factory.mktemp("fibre") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, path)
    # VNPT uses one of Viettel's site ids: site ids are each operator's own.
    store = GeoPackageStore(path)
    sites = store.read("sites")
    squat = sites[sites["operator"] == "vnpt"].iloc[[0]].copy()
    squat["site_id"] = SQUATTED
    store.write("sites", squat, mode="append")
    result = CliRunner().invoke(cli, ["fibre", "--store", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def fibre_client(fibre_store: Path, api_settings: ApiSettings) -> TestClient:
    return TestClient(create_app(GeoPackageStore(fibre_store), api_settings))


def _items(client: TestClient, layer: str, who: str) -> list[dict[str, Any]]:
    """Every feature of ``layer`` the operator ``who`` gets, page after page."""
    features: list[dict[str, Any]] = []
    while True:
        url = f"/collections/{layer}/items?limit=1000&offset={len(features)}"
        response = client.get(url, headers=key(who))
        assert response.status_code == 200, response.text
        page = response.json()["features"]
        features += page
        if not page:
            return features


@pytest.mark.parametrize("who", FIBRE_OPERATORS)
def test_backhaul_runs_over_the_operators_own_fibre_only(
    fibre_store: Path, fibre_client: TestClient, who: str
) -> None:
    store = GeoPackageStore(fibre_store)
    routes = store.read("fibre_routes").to_crs(METRIC_CRS)
    nodes = store.read("fibre_nodes")
    mine = (routes["operator"] == who).to_numpy()
    own_nodes = set(nodes.loc[nodes["operator"] == who, "node_id"])
    sites = store.read("sites")
    fibre = []
    for site_id in sites.loc[sites["operator"] == who, "site_id"]:
        response = fibre_client.get(f"/analysis/fibre/backhaul/{site_id}", headers=key(who))
        if response.status_code == 404:  # a planned site: backhauled as "proposed"
            continue
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["pop_node_id"] is None or body["pop_node_id"] in own_nodes, body
        coords = shapely.geometry.shape(body["path"]).coords if body["path"] else []
        # The first segment is the straight gap from the site to the network; then fibre.
        if len(coords) > 2:
            fibre.append(shapely.LineString(coords[1:]))
    lines = gpd.GeoSeries(fibre, crs="EPSG:4326").to_crs(METRIC_CRS).to_numpy()
    assert shapely.length(lines).sum() > 10_000
    # The paths as points every STEP_M (once each where paths share a trunk): those off the
    # operator's own routes but on another operator's are fibre the operator could trace.
    xy = shapely.get_coordinates(shapely.segmentize(lines, STEP_M))
    points = shapely.points(np.unique(np.round(xy, 1), axis=0))
    near = []
    for part in (mine, ~mine):
        tree = shapely.STRtree(routes.geometry.to_numpy()[part])
        hit = np.zeros(len(points), dtype=bool)
        hit[tree.query(points, "dwithin", distance=NEAR_M)[0]] = True
        near.append(hit)
    traced_m = STEP_M * int((~near[0] & near[1]).sum())
    assert traced_m < 50, f"about {traced_m:,.0f} m of {who}'s paths run on others' routes"


@pytest.mark.parametrize("who", FIBRE_OPERATORS)
def test_topology_problems_name_only_the_operators_own_ids(
    fibre_store: Path, fibre_client: TestClient, who: str
) -> None:
    store = GeoPackageStore(fibre_store)
    routes, nodes = store.read("fibre_routes"), store.read("fibre_nodes")
    own_ids = set(routes.loc[routes["operator"] == who, "route_id"]) | set(
        nodes.loc[nodes["operator"] == who, "node_id"]
    )
    rows = [f["properties"] for f in _items(fibre_client, "fibre_topology_problems", who)]
    assert rows
    named = {r["feature_id"] for r in rows} | {r["other_id"] for r in rows if r["other_id"]}
    assert named <= own_ids, sorted(named - own_ids)[:5]


@pytest.mark.parametrize("layer", ["backhaul_shared", "backhaul_shared_paths"])
def test_backhaul_over_any_fibre_is_the_departments_only(
    fibre_client: TestClient, layer: str
) -> None:
    admin = fibre_client.get(f"/collections/{layer}/items?limit=1", headers=key("admin"))
    assert admin.status_code == 200 and admin.json()["features"]
    for who in FIBRE_OPERATORS:
        response = fibre_client.get(f"/collections/{layer}/items?limit=1", headers=key(who))
        assert response.status_code in (403, 404), response.text


def test_a_path_as_pattern_ref_is_rejected_at_import(
    sample_store: GeoPackageStore, api_settings: ApiSettings, tmp_path: Path
) -> None:
    shutil.copyfile(sample_store.path, tmp_path / "hanam.gpkg")
    store = GeoPackageStore(tmp_path / "hanam.gpkg")
    client = TestClient(create_app(store, api_settings))
    cells = store.read("cells", filters={"operator": ["viettel"]}).head(2)
    cells["cell_id"] = ["VTL-NEW-1", "VTL-NEW-2"]
    cells["pattern_ref"] = [None, "../../../../etc/hostname"]
    path = tmp_path / "cells.geojson"
    cells.to_file(path, driver="GeoJSON")
    with path.open("rb") as data:
        response = client.post(
            "/imports/cells",
            params={"append": True},
            files={"file": (path.name, data, "application/octet-stream")},
            headers=key("viettel"),
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    [reject] = body["rejects"]
    assert (reject["row"], reject["field"]) == (2, "pattern_ref")
    assert "not a path" in reject["message"]
    stored = store.read("cells", filters={"cell_id": ["VTL-NEW-1", "VTL-NEW-2"]})
    assert stored["cell_id"].tolist() == ["VTL-NEW-1"]


def test_pattern_names_resolve_inside_the_patterns_folder(tmp_path: Path) -> None:
    folder = tmp_path / "patterns"
    folder.mkdir()
    (tmp_path / "secret.msi").write_text("GAIN 10\n", encoding="utf-8")
    (folder / "link.msi").symlink_to(tmp_path / "secret.msi")
    names = ["../secret.msi", "/etc/hostname", "link.msi", "absent.msi"]
    patterns, problems = load_patterns(folder, names)
    assert patterns == {}
    assert problems == {
        "../secret.msi": "not a pattern file name",
        "/etc/hostname": "not a pattern file name",
        "link.msi": "resolves outside the patterns folder",
        "absent.msi": "no such file in the patterns folder",
    }


def _coverage(store: Path, patterns: Path, out: Path, bbox: str) -> str:
    args = ["coverage", "--store", str(store), "--resolution-m", "400", "--workers", "1",
            "--tech", "4G", "--operator", "viettel", "--bbox", bbox, "--replace",
            "--patterns", str(patterns),
            "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_an_unusable_pattern_flags_its_cells_and_the_run_goes_on(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    path = tmp_path / "hanam.gpkg"
    shutil.copyfile(sample_store.path, path)
    store = GeoPackageStore(path)
    patterns = tmp_path / "patterns"
    patterns.mkdir()
    (patterns / "broken.msi").write_text("NAME BROKEN\nHORIZONTAL 360\n", encoding="utf-8")
    cells = store.read("cells")
    lte = cells.index[(cells["operator"] == "viettel") & (cells["technology"] == "4G")]
    absent, broken = cells.loc[lte[0], "cell_id"], cells.loc[lte[1], "cell_id"]
    point = cells.loc[lte[0]].geometry
    bbox = f"{point.x - 0.05},{point.y - 0.05},{point.x + 0.05},{point.y + 0.05}"
    rasters = store.assets_dir / "coverage"

    default = _coverage(path, patterns, tmp_path / "default", bbox)
    assert "default pattern" not in default
    with rasterio.open(rasters / "viettel_4G_rsrp.tif") as dataset:
        expected = dataset.read(1)

    # An admin writes the references straight into the store.
    cells.loc[lte[0], "pattern_ref"] = "absent.msi"
    cells.loc[lte[1], "pattern_ref"] = "broken.msi"
    store.write("cells", cells)
    output = " ".join(_coverage(path, patterns, tmp_path / "flagged", bbox).split())
    assert f"default pattern cell {absent} (viettel): 'absent.msi': no such file" in output
    assert f"default pattern cell {broken} (viettel): 'broken.msi'" in output
    with rasterio.open(rasters / "viettel_4G_rsrp.tif") as dataset:
        np.testing.assert_array_equal(dataset.read(1), expected)


@pytest.fixture(scope="module")
def sample_client(sample_store: GeoPackageStore, api_settings: ApiSettings) -> TestClient:
    return TestClient(create_app(sample_store, api_settings))


def test_positions_capacity_uses_no_other_operators_max_tenants(
    sample_store: GeoPackageStore, sample_client: TestClient
) -> None:
    sites = sample_store.read("sites")
    # What vnpt may know of a structure it is not on: its tower type, not its max_tenants.
    public = positions(sites.drop(columns="max_tenants")).set_index("position_id")
    recorded = positions(sites).set_index("position_id")
    body = sample_client.get("/analysis/positions", headers=key("vnpt")).json()
    got = {
        f["properties"]["position_id"]: f["properties"]
        for f in body["features"]
        if "vnpt" not in f["properties"]["operators"].split(",")
    }
    assert len(got) > 100
    assert all(p["capacity"] == public.loc[i, "capacity"] for i, p in got.items())
    # The sample records capacities that differ from the tower type's on many structures.
    assert (recorded.loc[list(got), "capacity"] != public.loc[list(got), "capacity"]).sum() > 10
    admin = sample_client.get("/analysis/positions", headers=key("admin")).json()
    assert all(
        f["properties"]["capacity"] == recorded.loc[f["properties"]["position_id"], "capacity"]
        for f in admin["features"]
    )


def test_host_candidates_use_no_other_operators_masked_fields_or_fibre(
    sample_store: GeoPackageStore, sample_client: TestClient
) -> None:
    sites = sample_store.read("sites")
    public = positions(sites.drop(columns="max_tenants")).set_index("position_id")
    routes, nodes = sample_store.read("fibre_routes"), sample_store.read("fibre_nodes")
    own_fibre = pd.concat(
        [
            routes.loc[routes["operator"] == "vnpt"].geometry,
            nodes.loc[nodes["operator"] == "vnpt"].geometry,
        ]
    ).to_crs(METRIC_CRS)
    checked = 0
    for site in sites[sites["operator"] == "viettel"].head(20).itertuples():
        params = {"lon": site.geometry.x + 0.002, "lat": site.geometry.y, "radius_m": 3000}
        response = sample_client.get(
            "/analysis/host-candidates", params=params, headers=key("vnpt")
        )
        assert response.status_code == 200, response.text
        for feature in response.json()["features"]:
            props = feature["properties"]
            assert props["capacity"] == public.loc[props["position_id"], "capacity"]
            point = gpd.GeoSeries([shapely.geometry.shape(feature["geometry"])], crs="EPSG:4326")
            own_m = own_fibre.distance(point.to_crs(METRIC_CRS).iloc[0]).min()
            assert props["fibre_distance_m"] == pytest.approx(own_m, abs=1.0)
            checked += 1
    assert checked > 50


def test_an_id_two_operators_use_gets_each_its_own_backhaul(fibre_client: TestClient) -> None:
    url = f"/analysis/fibre/backhaul/{SQUATTED}"
    for who in FIBRE_OPERATORS:
        response = fibre_client.get(url, headers=key(who))
        assert response.status_code == 200, response.text
        assert response.json()["operator"] == who
    assert fibre_client.get(url, headers=key("admin")).status_code == 400
    chosen = fibre_client.get(f"{url}?operator=vnpt", headers=key("admin"))
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["operator"] == "vnpt"


def test_stored_positions_serve_no_capacity_but_to_admins(
    sample_copy: Path, api_settings: ApiSettings
) -> None:
    result = CliRunner().invoke(cli, ["sharing", "--store", str(sample_copy)])
    assert result.exit_code == 0, result.output
    client = TestClient(create_app(GeoPackageStore(sample_copy), api_settings))
    for who in (None, "viettel"):
        headers = key(who) if who else {}
        page = client.get("/collections/positions/items?limit=5", headers=headers).json()
        assert page["features"], page
        assert all("capacity" not in f["properties"] for f in page["features"]), who
        queryables = client.get("/collections/positions/queryables", headers=headers).json()
        assert "capacity" not in queryables["properties"]
    admin = client.get("/collections/positions/items?limit=5", headers=key("admin")).json()
    assert all("capacity" in f["properties"] for f in admin["features"])
