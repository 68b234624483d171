"""Village coverage, gap villages and site backhaul, over layers the library computed on the
sample (coverage at a coarse 400 m so that the session pays about two seconds)."""

from __future__ import annotations

import shutil
from typing import Any

import geopandas as gpd
import mapbox_vector_tile
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.cli import app as cli
from gis_planner.store import GeoPackageStore
from tests.api.conftest import key, tile_of


@pytest.fixture(scope="session")
def analysed_store(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> GeoPackageStore:
    """A copy of the sample with the layers `gis-planner coverage` (4G and 5G) and
    `gis-planner fibre` write."""
    target = tmp_path_factory.mktemp("analysed") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, target)
    # The real producers: the store holds what they write, as a user's would.
    out = tmp_path_factory.mktemp("out")
    for command in (
        ["coverage", "--tech", "4G", "--tech", "5G", "--resolution-m", "400", "--replace",
         "--out", str(out)],
        ["fibre", "--report", str(out / "fibre.xlsx")],
    ):  # fmt: skip
        args = [*command, "--store", str(target)]
        result = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
    store = GeoPackageStore(target)
    return store


@pytest.fixture(scope="session")
def analysed(analysed_store: GeoPackageStore, api_settings: ApiSettings) -> TestClient:
    return TestClient(create_app(analysed_store, api_settings))


def _get(client: TestClient, url: str, who: str | None = None) -> dict[str, Any]:
    response = client.get(url, headers=key(who) if who else {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_village_coverage_by_role(analysed: TestClient, analysed_store: GeoPackageStore) -> None:
    stored = analysed_store.read("coverage_villages")
    commune = stored["commune_code"].iloc[0]
    url = f"/analysis/coverage/villages?technology=4G&commune_code={commune}"
    expected = stored[(stored["technology"] == "4G") & (stored["commune_code"] == commune)]

    viewer = _get(analysed, url)
    any_rows = expected[expected["operator"] == "any"].set_index("village_code")
    assert {r["operator"] for r in viewer["rows"]} == {"any"}
    assert viewer["villages"] == len(any_rows) > 0
    assert viewer["covered"] == int(any_rows["covered"].sum())
    for row in viewer["rows"]:
        assert row["area_share"] == pytest.approx(any_rows.loc[row["village_code"], "area_share"])
    villages = analysed_store.read("villages").set_index("code")["name"]
    assert all(r["name"] == villages[r["village_code"]] for r in viewer["rows"])

    viettel = _get(analysed, url, "viettel")
    assert {r["operator"] for r in viettel["rows"]} == {"any", "viettel"}
    assert viettel["villages"] == len(expected[expected["operator"].isin(["any", "viettel"])])
    admin = _get(analysed, url, "admin")
    assert admin["villages"] == len(expected)
    assert {r["operator"] for r in admin["rows"]} == set(expected["operator"])
    own = _get(analysed, f"{url}&operator=viettel", "viettel")
    assert {r["operator"] for r in own["rows"]} == {"viettel"}
    uncovered = _get(analysed, f"{url}&covered=false")
    assert uncovered["villages"] == len(any_rows) - viewer["covered"]
    assert not any(r["covered"] for r in uncovered["rows"])


@pytest.mark.parametrize(
    ("operator", "who"), [("viettel", None), ("vnpt", "viettel"), ("mobifone", "vnpt")]
)
def test_another_operator_s_coverage_is_refused(
    analysed: TestClient, operator: str, who: str | None
) -> None:
    response = analysed.get(
        f"/analysis/coverage/villages?operator={operator}",
        headers=key(who) if who else {},
    )
    assert response.status_code == 403
    assert f"'{operator}'" in response.json()["detail"]


def test_the_features_endpoint_follows_the_same_rows(analysed: TestClient) -> None:
    viewer = _get(analysed, "/collections/coverage_villages/items?limit=10000&technology=5G")
    assert {f["properties"]["operator"] for f in viewer["features"]} == {"any"}
    vnpt = _get(analysed, "/collections/coverage_villages/items?limit=10000&technology=5G", "vnpt")
    assert {f["properties"]["operator"] for f in vnpt["features"]} == {"any", "vnpt"}
    assert vnpt["numberMatched"] == 2 * viewer["numberMatched"]


def test_gap_villages(analysed: TestClient, analysed_store: GeoPackageStore) -> None:
    stored = analysed_store.read("coverage_gaps")
    assert len(stored) > 20
    body = _get(analysed, "/analysis/coverage/gaps?technology=5G")
    expected = stored[stored["technology"] == "5G"]
    assert body["villages"] == len(expected)
    assert body["population"] == pytest.approx(expected["population"].sum())
    populations = [r["population"] for r in body["rows"]]
    assert populations == sorted(populations, reverse=True)
    first = expected.set_index("village_code").loc[body["rows"][0]["village_code"]]
    assert body["rows"][0]["name"] == first["name"]
    assert body["rows"][0]["commune_code"] == first["commune_code"]
    # Which operator is best in a gap village is not public.
    assert all(r["best_operator"] is None for r in body["rows"])
    admin = _get(analysed, "/analysis/coverage/gaps?technology=5G&limit=5", "admin")
    assert len(admin["rows"]) == 5
    assert [r["village_code"] for r in admin["rows"]] == [
        r["village_code"] for r in body["rows"][:5]
    ]
    # The admin sees it: the stored operator, or none where no operator's level reaches.
    stored_best = expected.set_index("village_code")["best_operator"]
    for row in admin["rows"]:
        best = stored_best.loc[row["village_code"]]
        assert row["best_operator"] == (None if pd.isna(best) else best)
    everyone = _get(analysed, "/analysis/coverage/gaps?technology=5G&limit=1000", "admin")
    named = {r["village_code"]: r["best_operator"] for r in everyone["rows"] if r["best_operator"]}
    assert named and named == stored_best.dropna().to_dict()
    commune = body["rows"][0]["commune_code"]
    one = _get(analysed, f"/analysis/coverage/gaps?commune_code={commune}")
    assert {r["commune_code"] for r in one["rows"]} == {commune}


def test_gap_villages_as_geojson(analysed: TestClient) -> None:
    response = analysed.get("/analysis/coverage/gaps?f=geojson&limit=3")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    assert response.headers["cache-control"].startswith("public")
    frame = gpd.read_file(response.text)
    assert len(frame) == 3
    assert set(frame.geom_type) <= {"MultiPolygon", "Polygon"}
    assert "best_operator" not in frame.columns
    assert frame["population"].is_monotonic_decreasing


def test_gaps_in_the_viewer_and_its_tiles(analysed: TestClient) -> None:
    config = _get(analysed, "/viewer/config.json")
    # One layer a technology, all in the gaps group, none showing the best operator.
    entries = [e for e in config["layers"] if e.get("source") == "coverage_gaps"]
    assert entries and all(e["id"].startswith("coverage_gaps.") for e in entries)
    assert all(e["group"] == "gaps" for e in entries)
    assert config["groups"]["gaps"] == "Vùng lõm sóng"
    assert all("best_operator" not in e["popup_fields"] for e in entries)
    # The tile of the most populous gap village holds it.
    gaps = _get(analysed, "/analysis/coverage/gaps?f=geojson")
    centre = shapely.geometry.shape(gaps["features"][0]["geometry"]).representative_point()
    x, y = tile_of(centre.x, centre.y, 12)
    tile = analysed.get(f"/tiles/coverage_gaps/12/{x}/{y}.mvt")
    assert tile.status_code == 200
    features = mapbox_vector_tile.decode(tile.content)["coverage_gaps"]["features"]
    assert features and all("best_operator" not in f["properties"] for f in features)


def _a_site_with_a_path(store: GeoPackageStore, operator: str) -> pd.Series:
    backhaul = store.read("backhaul", filters={"operator": [operator], "kind": ["site"]})
    with_path = backhaul[backhaul["path_m"].notna()]
    return with_path.iloc[0]


def test_site_backhaul(analysed: TestClient, analysed_store: GeoPackageStore) -> None:
    site = _a_site_with_a_path(analysed_store, "viettel")
    url = f"/analysis/fibre/backhaul/{site['site_id']}"
    body = _get(analysed, url, "viettel")
    assert body["site_id"] == site["site_id"] and body["kind"] == "site"
    assert body["pop_node_id"] == site["pop_node_id"]
    assert body["total_m"] == pytest.approx(site["total_m"])
    assert body["gap_m"] == pytest.approx(site["gap_m"])
    assert (body["lon"], body["lat"]) == pytest.approx((site.geometry.x, site.geometry.y))
    path = shapely.geometry.shape(body["path"])
    assert path.geom_type == "LineString"
    # The path starts at the site.
    assert shapely.Point(path.coords[0]).distance(site.geometry) < 1e-6
    assert _get(analysed, url, "admin") == body
    assert analysed.get(f"{url}?kind=proposed", headers=key("viettel")).status_code == 404


@pytest.mark.parametrize(
    ("who", "status", "words"),
    [
        (None, 403, "needs an operator or admin API key"),
        ("vnpt", 404, "no backhaul of"),
    ],
)
def test_site_backhaul_of_others_is_hidden(
    analysed: TestClient,
    analysed_store: GeoPackageStore,
    who: str | None,
    status: int,
    words: str,
) -> None:
    site = _a_site_with_a_path(analysed_store, "viettel")
    response = analysed.get(
        f"/analysis/fibre/backhaul/{site['site_id']}", headers=key(who) if who else {}
    )
    assert response.status_code == status
    assert words in response.json()["detail"]


def test_unknown_site_is_404(analysed: TestClient) -> None:
    response = analysed.get("/analysis/fibre/backhaul/NO-SUCH-SITE", headers=key("admin"))
    assert response.status_code == 404
    assert "'NO-SUCH-SITE'" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "command"),
    [
        ("/analysis/coverage/villages", "gis-planner coverage"),
        ("/analysis/coverage/gaps?f=geojson", "gis-planner coverage"),
        ("/analysis/fibre/backhaul/VTL-HNM-0001", "gis-planner fibre"),
    ],
)
def test_analysis_not_run_is_404(client: TestClient, url: str, command: str) -> None:
    response = client.get(url, headers=key("admin"))
    assert response.status_code == 404
    assert f"run `{command}` first" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/analysis/coverage/villages?operator=acme", 400, "one of"),
        ("/analysis/coverage/villages?technology=6G", 422, "technology"),
        ("/analysis/coverage/villages?covered=maybe", 422, "covered"),
        ("/analysis/coverage/gaps?limit=0", 422, "limit"),
        ("/analysis/coverage/gaps?f=xml", 422, "f"),
        ("/analysis/coverage/gaps?commune_code=" + "1" * 40, 422, "commune_code"),
        ("/analysis/fibre/backhaul/X?kind=planned", 422, "kind"),
    ],
)
def test_bad_parameters(analysed: TestClient, url: str, status: int, words: str) -> None:
    response = analysed.get(url, headers=key("admin"))
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]


def test_new_routes_are_documented_in_both_languages(analysed: TestClient) -> None:
    paths = analysed.get("/openapi.json").json()["paths"]
    for path in (
        "/analysis/coverage/villages",
        "/analysis/coverage/gaps",
        "/analysis/fibre/backhaul/{site_id}",
    ):
        summary = paths[path]["get"]["summary"]
        assert " / " in summary, summary
