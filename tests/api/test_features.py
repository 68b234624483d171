"""OGC API – Features: routes, paging, filters, bad parameters, and GDAL's OAPIF driver."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from api.routers.features import CONFORMANCE, CRS84
from gis_planner.store import GeoPackageStore
from tests.api.conftest import key

JSON = {"Accept": "application/json"}
PUBLIC = (
    "admin_units", "villages", "sites", "priority_areas", "admin_crosswalk",
    # the passive infrastructure plan's published layers (not military_areas nor structures)
    "planning_zones", "exclusion_areas", "exclusion_points",
)  # fmt: skip


def test_landing_page_links(client: TestClient) -> None:
    body = client.get("/", headers=JSON).json()
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert client.get(rels["data"]).status_code == 200
    assert client.get(rels["service-desc"]).json()["openapi"].startswith("3.")
    # A browser asking for HTML gets the viewer instead.
    html = client.get("/", headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    assert client.get("/?f=json").json()["title"] == body["title"]


def test_conformance_declares_core_and_geojson(client: TestClient) -> None:
    assert client.get("/conformance").json()["conformsTo"] == list(CONFORMANCE)


def test_collections_are_the_visible_layers(client: TestClient) -> None:
    body = client.get("/collections").json()
    ids = [c["id"] for c in body["collections"]]
    assert sorted(ids) == sorted(PUBLIC)
    sites = next(c for c in body["collections"] if c["id"] == "sites")
    assert sites["title"] == "Trạm BTS (nhà trạm)"
    assert sites["crs"] == [CRS84]
    minx, miny, maxx, maxy = sites["extent"]["spatial"]["bbox"][0]
    assert 105.7 < minx < maxx < 106.3 and 20.3 < miny < maxy < 20.8
    english = client.get("/collections/sites?lang=en").json()
    assert english["title"] == "BTS sites"
    assert english["fields"]["height_m"] == "Structure height"


def test_items_paging_and_counts(client: TestClient) -> None:
    first = client.get("/collections/sites/items?limit=100").json()
    assert first["type"] == "FeatureCollection"
    assert first["numberMatched"] == 1157
    assert first["numberReturned"] == len(first["features"]) == 100
    next_link = next(link["href"] for link in first["links"] if link["rel"] == "next")
    second = client.get(next_link).json()
    assert second["numberReturned"] == 100
    ids = {f["id"] for f in first["features"]} | {f["id"] for f in second["features"]}
    assert len(ids) == 200
    last = client.get("/collections/sites/items?limit=100&offset=1100").json()
    assert last["numberReturned"] == 57
    assert not [link for link in last["links"] if link["rel"] == "next"]
    feature = first["features"][0]
    assert feature["geometry"]["type"] == "Point"
    # A site is its operator's id: the feature id names both, as for any key of two fields.
    properties = feature["properties"]
    assert feature["id"] == f"{properties['site_id']}:{properties['operator']}"


def test_items_bbox_and_property_filters(client: TestClient, sample_store: GeoPackageStore) -> None:
    bbox = (105.88, 20.50, 105.96, 20.58)
    expected = sample_store.read("sites", bbox=bbox, filters={"operator": "viettel"})
    body = client.get(
        "/collections/sites/items",
        params={"bbox": ",".join(map(str, bbox)), "operator": "viettel", "limit": 1000},
    ).json()
    assert body["numberMatched"] == len(expected) > 0
    assert {f["id"] for f in body["features"]} == set(expected["site_id"] + ":viettel")
    typed = client.get("/collections/villages/items?population=0&limit=1").json()
    assert typed["numberMatched"] == 0
    communes = client.get(
        "/collections/admin_units/items?level=commune&admin_version=pre2025"
    ).json()
    assert communes["numberMatched"] == 98


def test_table_without_geometry(client: TestClient) -> None:
    body = client.get("/collections/admin_crosswalk/items?limit=5").json()
    assert body["numberMatched"] == 103
    assert all(f["geometry"] is None for f in body["features"])


def test_missing_numbers_are_null(client: TestClient) -> None:
    answer = client.get("/collections/planning_zones/items?limit=1000")

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    body = json.loads(answer.text, parse_constant=refuse)
    heights = [f["properties"]["max_height_m"] for f in body["features"]]
    assert None in heights and any(h is not None for h in heights)


def test_single_item(client: TestClient) -> None:
    body = client.get("/collections/admin_units/items/347:pre2025").json()
    assert body["properties"]["name"] == "Thành phố Phủ Lý"
    assert body["geometry"]["type"] == "MultiPolygon"
    missing = client.get("/collections/sites/items/NOPE")
    assert missing.status_code == 404
    assert "NOPE" in missing.json()["detail"]


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/collections/nowhere", 404, "unknown layer"),
        ("/collections/nowhere/items", 404, "unknown layer"),
        ("/collections/sites/items?limit=0", 422, "limit"),
        ("/collections/sites/items?limit=abc", 422, "limit"),
        ("/collections/sites/items?offset=-1", 422, "offset"),
        ("/collections/sites/items?bbox=1,2,3", 400, "4 numbers"),
        ("/collections/sites/items?bbox=a,b,c,d", 400, "4 comma-separated numbers"),
        ("/collections/sites/items?bbox=106,20,105,21", 400, "minlon ≤ maxlon"),
        ("/collections/sites/items?bbox-crs=EPSG:3857", 422, "bbox-crs"),
        ("/collections/sites/items?crs=EPSG:4326", 422, "crs"),
        ("/collections/sites/items?colour=red", 400, "unknown parameter or field 'colour'"),
        ("/collections/sites/items?height_m=tall", 400, "'tall' is not one"),
        ("/collections/sites/items?f=html", 422, "f"),
        ("/collections?f=xml", 422, "f"),
        ("/collections/admin_crosswalk/items?is_default=maybe", 400, "true or false"),
    ],
)
def test_bad_parameters_are_4xx_with_a_message(
    client: TestClient, url: str, status: int, words: str
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]


def test_large_limit_is_served_at_the_maximum(client: TestClient) -> None:
    body = client.get("/collections/cells/items?limit=100000", headers={}).json()
    assert "detail" in body  # cells need a key
    body = client.get("/collections/villages/items?limit=100000").json()
    assert body["numberReturned"] == 1091


#: GDAL as a GIS client reads the server: in a process of its own, since importing the library
#: restricts this process's GDAL to the formats users may upload, without network.
_OAPIF_CLIENT = """
import json, sys
import pyogrio
url, bbox = sys.argv[1], tuple(map(float, sys.argv[2].split(",")))
layers = [str(name) for name, _ in pyogrio.list_layers(url)]
counts = {name: len(pyogrio.read_dataframe(url, layer=name)) for name in layers}
sites = pyogrio.read_dataframe(url, layer="sites", bbox=bbox)
print(json.dumps({"counts": counts, "sites": len(sites), "columns": list(sites.columns)}))
"""


def test_gdal_oapif_reads_every_collection(live_server: str, sample_store: GeoPackageStore) -> None:
    bbox = (105.88, 20.50, 105.96, 20.58)
    done = subprocess.run(
        [sys.executable, "-c", _OAPIF_CLIENT, f"OAPIF:{live_server}/", ",".join(map(str, bbox))],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    read = json.loads(done.stdout)
    assert set(read["counts"]) == set(PUBLIC)
    for name in PUBLIC:
        assert read["counts"][name] == sample_store.list_layers()[_index(sample_store, name)].count
    assert read["sites"] == len(sample_store.read("sites", bbox=bbox))
    assert "address" not in read["columns"]  # anonymous: positions without configuration


def _index(store: GeoPackageStore, name: str) -> int:
    return [info.name for info in store.list_layers()].index(name)


def test_queryables_are_the_filterable_fields(client: TestClient) -> None:
    body = client.get("/collections/sites/queryables").json()
    assert body["additionalProperties"] is False
    assert set(body["properties"]) == {
        "site_id", "operator", "tower_type", "height_m", "commune_code", "status"
    }  # fmt: skip
    assert body["properties"]["height_m"] == {"title": "Độ cao cột", "type": "number"}
    assert "viettel" in body["properties"]["operator"]["enum"]
    keyed = client.get("/collections/sites/queryables", headers=key("viettel")).json()
    assert "address" not in keyed["properties"]  # masked on other operators' rows
    admin = client.get("/collections/sites/queryables", headers=key("admin")).json()
    assert "address" in admin["properties"]
    assert client.get("/collections/cells/queryables").status_code == 403
    links = client.get("/collections/sites").json()["links"]
    assert any(link["href"].endswith("/collections/sites/queryables") for link in links)
