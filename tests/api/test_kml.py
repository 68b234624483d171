"""``?f=kml`` and ``?f=kmz`` on the items: the GeoJSON's features, filters, page and access."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient

from gis_planner.io.vector import read_vector
from gis_planner.store.access import SITE_POSITION_FIELDS
from tests.api.conftest import key

NS = {"k": "http://www.opengis.net/kml/2.2"}


def _placemarks(content: bytes) -> list[dict[str, str]]:
    """Each placemark's SimpleData as name → text."""
    root = ET.fromstring(content)
    return [
        {d.get("name", ""): d.text or "" for d in p.iterfind(".//k:SimpleData", NS)}
        for p in root.iterfind(".//k:Placemark", NS)
    ]


def test_kml_is_the_geojson_page(client: TestClient, tmp_path: Path) -> None:
    query = "bbox=105.85,20.45,106.0,20.6&operator=vnpt&limit=7&offset=2"
    geojson = client.get(f"/collections/sites/items?{query}").json()
    response = client.get(f"/collections/sites/items?{query}&f=kml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.google-earth.kml+xml")
    assert 'filename="sites.kml"' in response.headers["content-disposition"]
    placemarks = _placemarks(response.content)
    assert len(placemarks) == len(geojson["features"]) == 7
    assert [p["site_id"] for p in placemarks] == [
        f["properties"]["site_id"] for f in geojson["features"]
    ]
    path = tmp_path / "sites.kml"
    path.write_bytes(response.content)
    (table,) = read_vector(path)
    assert table.frame["operator"].eq("vnpt").all()
    assert (table.frame.geometry.x.between(105.85, 106.0)).all()


def test_kmz(client: TestClient) -> None:
    response = client.get("/collections/admin_units/items?limit=3&f=kmz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.google-earth.kmz"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        root = ET.fromstring(archive.read("doc.kml"))
    assert len(root.findall(".//k:Placemark", NS)) == 3
    assert root.find(".//k:MultiGeometry/k:Polygon", NS) is not None


def test_kml_keeps_the_access_rules(client: TestClient) -> None:
    # The public: positions only, no address or structure of any operator; no cells at all.
    public = _placemarks(client.get("/collections/sites/items?limit=5000&f=kml").content)
    assert public and {name for p in public for name in p} <= set(SITE_POSITION_FIELDS)
    assert client.get("/collections/cells/items?f=kml").status_code == 403
    assert client.get("/collections/cells/items?f=kmz").status_code == 403
    assert client.get("/collections/sites/items?address=x&f=kml").status_code == 400
    # An operator: its own confidential fields, none of the others'.
    mine = _placemarks(
        client.get("/collections/sites/items?limit=5000&f=kml", headers=key("viettel")).content
    )
    own = [p for p in mine if p["operator"] == "viettel"]
    others = [p for p in mine if p["operator"] != "viettel"]
    assert any("address" in p for p in own)
    assert others and not any("address" in p or "structure_id" in p for p in others)
    cells = _placemarks(
        client.get("/collections/cells/items?limit=10000&f=kml", headers=key("vnpt")).content
    )
    assert cells and {p["operator"] for p in cells} == {"vnpt"}


def test_unknown_format_is_refused(client: TestClient) -> None:
    assert client.get("/collections/sites/items?f=shp").status_code in (400, 422)
