"""Imports over HTTP: operators add their own sites only, admins import anything; rejects
come back with their reasons, bad files are 4xx, and the next answers show the new rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.store import GeoPackageStore
from tests.api.conftest import key


@pytest.fixture
def writable(
    sample_store: GeoPackageStore, api_settings: ApiSettings, tmp_path: Path
) -> tuple[GeoPackageStore, TestClient]:
    """A copy of the sample this test may write to, and the app over it."""
    shutil.copyfile(sample_store.path, tmp_path / "hanam.gpkg")
    store = GeoPackageStore(tmp_path / "hanam.gpkg")
    return store, TestClient(create_app(store, api_settings))


def new_sites(store: GeoPackageStore, path: Path, operators: dict[str, int]) -> Path:
    """A GeoJSON of sites copied from the store's under new ids: ``operators`` says how many
    of each operator."""
    sites = store.read("sites")
    assert isinstance(sites, gpd.GeoDataFrame)
    parts = []
    for operator, count in operators.items():
        rows = sites[sites["operator"] == operator].head(count).copy()
        rows["site_id"] = [f"{operator.upper()}-NEW-{i:04d}" for i in range(count)]
        parts.append(rows)
    frame = gpd.GeoDataFrame(
        gpd.pd.concat(parts, ignore_index=True), geometry="geometry", crs=sites.crs
    )
    frame.to_file(path, driver="GeoJSON")
    return path


def upload(
    client: TestClient, layer: str, path: Path, who: str | None, **params: object
) -> tuple[int, dict[str, object]]:
    with path.open("rb") as data:
        response = client.post(
            f"/imports/{layer}",
            params=params,
            files={"file": (path.name, data, "application/octet-stream")},
            headers=key(who) if who else {},
        )
    body: dict[str, object] = response.json()
    return response.status_code, body


def test_operator_adds_its_own_sites_only(
    writable: tuple[GeoPackageStore, TestClient], tmp_path: Path
) -> None:
    store, client = writable
    before = store.read("sites")
    # The layer is in the API's cache before the import: the import must refresh it.
    assert (
        client.get("/collections/sites/items?site_id=VIETTEL-NEW-0000").json()["numberMatched"] == 0
    )
    path = new_sites(store, tmp_path / "new.geojson", {"viettel": 3, "vnpt": 2})
    status, body = upload(client, "sites", path, "viettel")
    assert status == 200, body
    assert (body["read"], body["accepted"], body["rejected"]) == (5, 3, 2)
    assert body["append"] is True and body["written"] == {"sites": 3}
    assert body["rejected_by_reason"] == {"other_operator": 2}
    rejects = body["rejects"]
    assert isinstance(rejects, list) and len(rejects) == 2
    assert {r["value"] for r in rejects} == {"vnpt"}
    assert all("only rows of 'viettel'" in r["message"] for r in rejects)

    after = store.read("sites")
    assert len(after) == len(before) + 3
    assert set(after["site_id"]) - set(before["site_id"]) == {
        f"VIETTEL-NEW-{i:04d}" for i in range(3)
    }
    seen = client.get("/collections/sites/items?site_id=VIETTEL-NEW-0000").json()
    assert seen["numberMatched"] == 1

    # Importing the same file again writes nothing: the rows are there unchanged.
    status, again = upload(client, "sites", path, "viettel")
    assert status == 200
    assert (again["unchanged"], again["written"]) == (3, {})
    assert len(store.read("sites")) == len(after)


def test_admin_imports_for_any_operator(
    writable: tuple[GeoPackageStore, TestClient], tmp_path: Path
) -> None:
    store, client = writable
    before = len(store.read("sites"))
    path = new_sites(store, tmp_path / "new.geojson", {"viettel": 1, "vnpt": 2})
    status, body = upload(client, "sites", path, "admin")
    assert status == 200, body
    assert (body["accepted"], body["rejected"], body["written"]) == (3, 0, {"sites": 3})
    assert len(store.read("sites")) == before + 3


def test_rejected_rows_come_back_with_their_reasons(
    writable: tuple[GeoPackageStore, TestClient], tmp_path: Path
) -> None:
    store, client = writable
    path = tmp_path / "sites.csv"
    path.write_text(
        "site_id,operator,tower_type,lat,lon,height_m\n"
        "VTL-CSV-1,viettel,monopole,20.54,105.92,30\n"
        "VTL-CSV-2,viettel,monopole,21.90,108.50,30\n"
        "VTL-CSV-3,viettel,monopole,20.55,105.93,-4\n",
        encoding="utf-8",
    )
    status, body = upload(client, "sites", path, "viettel")
    assert status == 200, body
    assert (body["read"], body["accepted"], body["rejected"]) == (3, 1, 2)
    reasons = body["rejected_by_reason"]
    assert isinstance(reasons, dict) and "outside_province" in reasons
    rows = {r["row"] for r in body["rejects"]}  # type: ignore[attr-defined]
    assert rows == {3, 4}  # the rows a spreadsheet shows (header is row 1)
    assert store.read("sites", filters={"site_id": ["VTL-CSV-1"]}).shape[0] == 1


@pytest.mark.parametrize(
    ("layer", "who", "params", "status", "words"),
    [
        ("sites", None, {}, 403, "needs an operator or admin API key"),
        ("admin_units", "viettel", {}, 403, "sites or cells only"),
        ("sites", "viettel", {"mode": "replace"}, 403, "needs an admin key"),
        ("no_such_layer", "admin", {}, 404, "unknown layer"),
    ],
)
def test_import_refusals(
    writable: tuple[GeoPackageStore, TestClient],
    tmp_path: Path,
    layer: str,
    who: str | None,
    params: dict[str, object],
    status: int,
    words: str,
) -> None:
    store, client = writable
    before = len(store.read("sites"))
    path = new_sites(store, tmp_path / "new.geojson", {"viettel": 1})
    got, body = upload(client, layer, path, who, **params)
    assert got == status, body
    assert words in str(body["detail"])
    assert len(store.read("sites")) == before


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("sites.geojson", b"{ this is not json", "sites.geojson"),
        ("sites.csv", b"", "sites.csv"),
        ("sites.exe", b"MZ\x90\x00", "sites.exe"),
        ("sites.xlsx", b"not a workbook", "not a readable .xlsx workbook"),
        ("sites.csv", b"a,b\n1,2\n", "no header row names the columns"),
        ("sites", b"site_id\n", "a name with its extension"),
    ],
)
def test_bad_files_are_4xx(
    writable: tuple[GeoPackageStore, TestClient],
    tmp_path: Path,
    name: str,
    content: bytes,
    words: str,
) -> None:
    store, client = writable
    before = len(store.read("sites"))
    path = tmp_path / name
    path.write_bytes(content)
    status, body = upload(client, "sites", path, "admin")
    assert 400 <= status < 500, body
    assert words in str(body["detail"])
    assert "gis-planner-import" not in str(body["detail"])  # not where the server kept it
    assert len(store.read("sites")) == before


def test_missing_file_is_422(writable: tuple[GeoPackageStore, TestClient]) -> None:
    _, client = writable
    response = client.post("/imports/sites", headers=key("admin"))
    assert response.status_code == 422
    assert "file" in response.json()["detail"]


def test_an_upload_over_the_limit_is_413_and_writes_nothing(
    sample_store: GeoPackageStore, api_settings: ApiSettings, tmp_path: Path
) -> None:
    shutil.copyfile(sample_store.path, tmp_path / "hanam.gpkg")
    store = GeoPackageStore(tmp_path / "hanam.gpkg")
    small = api_settings.model_copy(update={"max_upload_mib": 0.001})
    client = TestClient(create_app(store, small))
    before = len(store.read("sites"))
    path = new_sites(store, tmp_path / "sites.geojson", {"viettel": 20})
    status, body = upload(client, "sites", path, "admin")
    assert status == 413
    assert "MiB" in str(body["detail"])
    assert len(store.read("sites")) == before
