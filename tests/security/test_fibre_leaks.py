"""What an operator reads of the fibre resilience layers depends on its own fibre only (issue 12,
defect 4): its single points of failure and trunk rings are the same whether or not the other
operators' fibre is in the store."""

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
from gis_planner.fibre.graph import DEFAULT_SNAP_M
from gis_planner.store import GeoPackageStore
from tests.api.conftest import api_settings, key
from tests.security.test_operator_isolation import (
    FIBRE_OPERATORS,
    METRIC_CRS,
    NEAR_M,
    STEP_M,
    _items,
    fibre_client,
    fibre_store,
)

__all__ = ["api_settings", "fibre_client", "fibre_store"]

#: The layers an operator reads its own rows of, and their ids.
OWN_LAYERS = {"fibre_spof_links": "spof_id", "fibre_rings": "ring_id"}
#: The department's analyses over every operator's fibre.
SHARED_LAYERS = ("fibre_spof_links_shared", "fibre_spof_nodes", "fibre_extensions")


@pytest.fixture(scope="module", params=FIBRE_OPERATORS)
def own_fibre(
    request: pytest.FixtureRequest,
    fibre_store: Path,
    api_settings: ApiSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, TestClient]:
    """An operator and the API over a copy of ``fibre_store`` that holds only that operator's
    routes and nodes, after the fibre job ran there again."""
    who: str = request.param
    path = tmp_path_factory.mktemp(f"fibre-{who}") / "hanam.gpkg"
    shutil.copyfile(fibre_store, path)
    store = GeoPackageStore(path)
    for layer in ("fibre_routes", "fibre_nodes"):
        frame = store.read(layer)
        store.write(layer, frame[frame["operator"] == who])
    result = CliRunner().invoke(cli, ["fibre", "--store", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return who, TestClient(create_app(store, api_settings))


def _by_id(features: list[dict[str, Any]], id_field: str) -> dict[str, dict[str, Any]]:
    return {f["properties"][id_field]: f for f in features}


@pytest.mark.parametrize("layer", OWN_LAYERS)
def test_nothing_an_operator_sees_changes_when_the_others_fibre_goes(
    fibre_client: TestClient, own_fibre: tuple[str, TestClient], layer: str
) -> None:
    who, alone_client = own_fibre
    shared = _by_id(_items(fibre_client, layer, who), OWN_LAYERS[layer])
    alone = _by_id(_items(alone_client, layer, who), OWN_LAYERS[layer])
    assert shared and {f["properties"]["operator"] for f in shared.values()} == {who}
    assert sorted(shared) == sorted(alone)
    for feature_id, feature in shared.items():
        # Ids, routes, cut villages, people and sites, listed villages: all of it.
        assert feature["properties"] == alone[feature_id]["properties"], feature_id
        got = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))
        expected = shapely.get_coordinates(shapely.geometry.shape(alone[feature_id]["geometry"]))
        np.testing.assert_allclose(got, expected, atol=1e-7, err_msg=feature_id)


def _geometries(features: list[dict[str, Any]]) -> np.ndarray:
    shapes = [shapely.geometry.shape(f["geometry"]) for f in features]
    return gpd.GeoSeries(shapes, crs="EPSG:4326").to_crs(METRIC_CRS).to_numpy()


def test_spof_links_and_rings_lie_on_the_operators_own_fibre(
    fibre_store: Path, fibre_client: TestClient
) -> None:
    store = GeoPackageStore(fibre_store)
    routes, nodes = store.read("fibre_routes").to_crs(METRIC_CRS), store.read("fibre_nodes")
    for who in FIBRE_OPERATORS:
        own_routes = routes.geometry.to_numpy()[(routes["operator"] == who).to_numpy()]
        links = _geometries(_items(fibre_client, "fibre_spof_links", who))
        points = shapely.points(shapely.get_coordinates(shapely.segmentize(links, STEP_M)))
        assert len(links)
        on_own = np.zeros(len(points), dtype=bool)
        on_own[shapely.STRtree(own_routes).query(points, "dwithin", distance=NEAR_M)[0]] = True
        assert on_own.all(), f"{(~on_own).sum()} points of {who}'s links lie off its routes"
        # A ring turns only where the operator's own routes end or its own nodes stand: a
        # turn anywhere else is where another operator's cable or node meets its trunk.
        own_nodes = nodes.loc[nodes["operator"] == who].to_crs(METRIC_CRS).geometry.to_numpy()
        ends = np.concatenate(
            [shapely.get_point(own_routes, 0), shapely.get_point(own_routes, -1), own_nodes]
        )
        rings = _geometries(_items(fibre_client, "fibre_rings", who))
        turns = shapely.points(shapely.get_coordinates(rings))
        assert len(turns)
        near = np.zeros(len(turns), dtype=bool)
        near[shapely.STRtree(ends).query(turns, "dwithin", distance=DEFAULT_SNAP_M)[0]] = True
        off = shapely.to_wkt(turns[~near], rounding_precision=1).tolist()
        assert near.all(), f"{who}'s rings turn off its own fibre at {off}"


def test_the_departments_resilience_layers_are_admin_only(fibre_client: TestClient) -> None:
    for layer in SHARED_LAYERS:
        admin = fibre_client.get(f"/collections/{layer}/items?limit=1", headers=key("admin"))
        assert admin.status_code == 200, (layer, admin.text)
        for who in FIBRE_OPERATORS:
            response = fibre_client.get(f"/collections/{layer}/items?limit=1", headers=key(who))
            assert response.status_code in (403, 404), (layer, who, response.text)
    # The department's view names each link's operator, under a column operators never get.
    links = _items(fibre_client, "fibre_spof_links_shared", "admin")
    assert {f["properties"]["route_operator"] for f in links} >= set(FIBRE_OPERATORS)
    assert all("operator" not in f["properties"] for f in links)
