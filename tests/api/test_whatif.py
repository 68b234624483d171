"""``/analysis/coverage/what-if``: the coverage a planned site adds, by role."""

from __future__ import annotations

import pytest
import shapely
from fastapi.testclient import TestClient

from tests.api.conftest import key
from tests.test_whatif import GAP_POINT, GAP_VILLAGE

URL = "/analysis/coverage/what-if"
GAP = {"lon": GAP_POINT[0], "lat": GAP_POINT[1], "resolution_m": 100}


def test_the_gap_village_is_gained(client: TestClient) -> None:
    response = client.get(URL, params={**GAP, "operator": "vietnamobile"}, headers=key("admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["operator"] == "vietnamobile" and body["technology"] == "4G"
    assert body["height_m"] == 30 and body["band_mhz"] == 1800 and body["resolution_m"] == 100
    villages = {v["code"]: v for v in body["villages"]}
    assert villages[GAP_VILLAGE]["commune_name"] == "Xã An Lão"
    assert body["villages_gained"] == len(villages)
    assert body["people_gained"] == sum(v["population"] for v in villages.values())
    assert body["area_gained_km2"] > 1
    (feature,) = body["gained"]["features"]
    outline = shapely.geometry.shape(feature["geometry"])
    assert outline.contains(shapely.Point(*GAP_POINT))
    assert response.headers["cache-control"].startswith("private")


@pytest.mark.parametrize(
    ("who", "operator", "status"),
    [
        (None, "viettel", 403),  # viewers get no what-if
        ("viettel", None, 200),  # an operator key plans for its own operator by default
        ("viettel", "vnpt", 403),  # and for no other
        ("admin", None, 400),  # an admin key must name the operator
        ("admin", "gmobile-typo", 400),
    ],
)
def test_access(client: TestClient, who: str | None, operator: str | None, status: int) -> None:
    params: dict[str, object] = {**GAP, "resolution_m": 200}
    if operator:
        params["operator"] = operator
    response = client.get(URL, params=params, headers=key(who) if who else {})
    assert response.status_code == status, response.text


def test_outside_the_province_is_refused(client: TestClient) -> None:
    response = client.get(URL, params={"lon": 106.6, "lat": 10.8}, headers=key("viettel"))
    assert response.status_code == 400
    assert "outside the province" in response.json()["detail"]
