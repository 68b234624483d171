"""Roles: viewers never see any operator's cell configuration; operators see their own."""

from __future__ import annotations

import asyncio

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient

from api import access
from api.access import KeyRing, Principal, layer_view
from api.settings import ApiKey, ApiSettings
from gis_planner.apikeys import hash_key, verify_key
from gis_planner.catalogue import CATALOGUE
from gis_planner.store.access import (
    AGGREGATED,
    PUBLIC_LAYERS,
    SITE_POSITION_FIELDS,
    layer_access,
)
from tests.api.conftest import KEYS, PHU_LY_TILE_12, key

CELL_CONFIG = ("azimuth_deg", "tx_power_dbm", "mech_tilt_deg", "antenna_gain_dbi", "band_mhz")


def test_viewer_sees_no_cell_and_no_configuration(client: TestClient) -> None:
    ids = [c["id"] for c in client.get("/collections").json()["collections"]]
    assert "cells" not in ids and "fibre_routes" not in ids
    assert client.get("/collections/cells").status_code == 403
    assert client.get("/collections/cells/items").status_code == 403
    assert client.get("/collections/cells/items/VTL-HNM-0001-1").status_code == 403
    assert client.get("/tiles/cells/12/{}/{}.mvt".format(*PHU_LY_TILE_12)).status_code == 403
    sites = client.get("/collections/sites/items?limit=2000").json()["features"]
    assert {k for f in sites for k in f["properties"]} == set(SITE_POSITION_FIELDS)
    # Filtering on a field the viewer cannot see would leak it.
    assert client.get("/collections/sites/items?address=x").status_code == 400


def test_operator_gets_its_own_cells_only(client: TestClient) -> None:
    body = client.get("/collections/cells/items?limit=10000", headers=key("viettel")).json()
    operators = {f["properties"]["operator"] for f in body["features"]}
    assert operators == {"viettel"}
    assert body["numberMatched"] == len(body["features"]) > 0
    assert all(f["properties"]["azimuth_deg"] is not None for f in body["features"][:10])
    vnpt_cell = client.get("/collections/cells/items?limit=1", headers=key("vnpt")).json()[
        "features"
    ][0]["id"]
    # Another operator's cell is not found for Viettel, not even by id or by filter.
    assert (
        client.get(f"/collections/cells/items/{vnpt_cell}", headers=key("viettel")).status_code
        == 404
    )
    other = client.get("/collections/cells/items?operator=vnpt", headers=key("viettel")).json()
    assert other["numberMatched"] == 0


def test_operator_tiles_hold_only_its_cells(client: TestClient) -> None:
    url = "/tiles/cells/12/{}/{}.mvt".format(*PHU_LY_TILE_12)
    data = client.get(url, headers=key("vnpt")).content
    features = mapbox_vector_tile.decode(data)["cells"]["features"]
    assert features and {f["properties"]["operator"] for f in features} == {"vnpt"}
    assert all("tx_power_dbm" in f["properties"] for f in features)
    response = client.get(url, headers=key("vnpt"))
    assert response.headers["cache-control"].startswith("private")


def test_operator_sees_other_sites_as_positions(client: TestClient) -> None:
    body = client.get("/collections/sites/items?limit=2000", headers=key("viettel")).json()
    own = [f["properties"] for f in body["features"] if f["properties"]["operator"] == "viettel"]
    others = [f["properties"] for f in body["features"] if f["properties"]["operator"] != "viettel"]
    assert any(p["address"] for p in own)
    assert all(p["address"] is None and p["structure_id"] is None for p in others)
    assert (
        client.get("/collections/sites/items?address=x", headers=key("viettel")).status_code == 400
    )


def test_admin_sees_everything(client: TestClient) -> None:
    ids = {c["id"] for c in client.get("/collections", headers=key("admin")).json()["collections"]}
    assert {"cells", "fibre_routes", "fibre_nodes", "sites"} <= ids
    body = client.get("/collections/cells/items?limit=1", headers=key("admin")).json()
    assert body["numberMatched"] == 8191
    assert set(CELL_CONFIG) <= set(body["features"][0]["properties"])


def test_wrong_key_is_401_and_key_in_query_is_refused(client: TestClient) -> None:
    wrong = client.get("/collections", headers={"X-API-Key": "not-a-valid-key-at-all"})
    assert wrong.status_code == 401
    assert "invalid API key" in wrong.json()["detail"]
    by_query = client.get(f"/collections/cells/items?limit=1&api_key={KEYS['vnpt']}")
    assert by_query.status_code == 400
    assert "X-API-Key header" in by_query.json()["detail"]


def test_only_listed_layers_are_public() -> None:
    viewer, viettel = Principal("viewer"), Principal("operator", "viettel")
    for name, spec in CATALOGUE.items():
        view = layer_view(name, spec.field_names, viewer)
        if name == "positions":
            # Capacity comes from every operator's max_tenants: admins' only.
            assert view is not None and "capacity" not in view.fields
            assert view.fields == tuple(f for f in spec.field_names if f != "capacity")
        elif name in PUBLIC_LAYERS:
            assert view is not None and view.fields == spec.field_names, name
        elif name == "sites":
            assert view is not None and view.fields == SITE_POSITION_FIELDS
        elif name in ("coverage_villages", "speeds_villages", "industry_zones"):
            # Only the rows aggregated over operators are public; an operator sees its own too.
            assert view is not None and view.only_operator == AGGREGATED
            own = layer_view(name, spec.field_names, viettel)
            assert own is not None
            assert (own.only_operator, own.also_operator) == ("viettel", AGGREGATED)
        elif name == "coverage_gaps":
            assert view is not None and view.only_operator is None
            assert "best_operator" not in view.fields
        else:
            assert view is None, name
            own = layer_view(name, spec.field_names, viettel)
            # An operator gets its own rows of a layer with an operator field, else nothing.
            if "operator" in spec.field_names:
                assert own is not None and own.only_operator == "viettel", name
            else:
                assert own is None, name
    assert layer_access("not_catalogued").public_fields is None
    assert {"cells", "fibre_routes", "fibre_spof_nodes", "consolidation_moves"}.isdisjoint(
        PUBLIC_LAYERS
    )


def test_keyring_verifies_hashes() -> None:
    key = "gp_abcd_a-long-enough-secret-key"
    ring = KeyRing([ApiKey(name="x", role="admin", key_id="abcd", hash=hash_key(key))])

    async def check() -> None:
        assert ring.cached(key) is None
        assert await ring.verify(key) == Principal("admin", None, "x")
        assert ring.cached(key) == Principal("admin", None, "x")
        assert await ring.verify(key[:-1] + "z") is None
        assert await ring.verify("gp_efgh_a-long-enough-secret-key") is None
        assert await ring.verify("no-id-a-long-enough-secret-key") is None

    asyncio.run(check())


def test_one_key_presented_at_once_by_many_requests_is_derived_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server just started and many clients of one key (20 editors): one scrypt, not one
    a request, which would hold every request behind a queue of derivations."""
    key = "gp_abcd_a-long-enough-secret-key"
    ring = KeyRing([ApiKey(name="x", role="admin", key_id="abcd", hash=hash_key(key))])
    derived: list[str] = []

    def counted(presented: str, hashed: str) -> bool:
        derived.append(presented)
        return verify_key(presented, hashed)

    monkeypatch.setattr(access, "verify_key", counted)

    async def check() -> list[Principal | None]:
        return await asyncio.gather(*(ring.verify(key) for _ in range(10)),
                                    *(ring.verify(key[:-1] + "z") for _ in range(10)))  # fmt: skip

    found = asyncio.run(check())
    assert found == [Principal("admin", None, "x")] * 10 + [None] * 10
    assert sorted(derived) == sorted([key, key[:-1] + "z"])


def test_api_key_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="needs an operator"):
        ApiKey(name="x", role="operator", key_id="abcd", hash="scrypt$1$1$1$00$00")
    with pytest.raises(ValueError, match="unknown operator"):
        ApiKey(name="x", role="operator", operator="acme", key_id="abcd", hash="scrypt$1$1$1$00$00")
    with pytest.raises(ValueError, match="no key_id: keys made before key ids"):
        ApiKey(name="x", role="admin", hash="scrypt$1$1$1$00$00")
    with pytest.raises(ValueError, match="key_id"):
        ApiKey(name="x", role="admin", key_id="Not_An_Id", hash="scrypt$1$1$1$00$00")
    twice = [{"name": n, "role": "admin", "key_id": "abcd", "hash": "h"} for n in "xy"]
    with pytest.raises(ValueError, match="unique: abcd"):
        ApiSettings(api_keys=twice)
