"""What an operator may learn of other operators: fibre backhaul and topology problems, antenna
pattern references, the capacity of positions (issue 12, defects 4, 7 and part of 10)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.cli import app as cli
from gis_planner.crs import UTM48N
from gis_planner.store import GeoPackageStore
from tests.api.conftest import api_settings, key

__all__ = ["api_settings"]

#: Operators with fibre in the sample whose keys the API tests hold.
FIBRE_OPERATORS = ("viettel", "vnpt")
#: How far a drawn path may stand off the route it follows (vertices snap within 5 m).
NEAR_M = 10.0
#: Spacing of the points a path is checked at.
STEP_M = 5.0


@pytest.fixture(scope="module")
def fibre_store(sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample after the real ``gis-planner fibre`` job."""
    path = tmp_path_factory.mktemp("fibre") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, path)
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
    routes = store.read("fibre_routes").to_crs(UTM48N)
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
    lines = gpd.GeoSeries(fibre, crs="EPSG:4326").to_crs(UTM48N).to_numpy()
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
