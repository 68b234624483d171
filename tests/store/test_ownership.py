"""Ownership in the database: logins of an operator, a viewer and the service, with plain SQL,
see and change what the access table lets them, and nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
import shapely

from gis_planner.catalogue import CATALOGUE
from gis_planner.errors import StoreError
from gis_planner.store import PostGISStore
from gis_planner.store.access import layer_access
from gis_planner.store.pgschema import create_login
from tests.conftest import SiteFactory

from .test_postgis import VIETTEL

PASSWORD = "not-a-real-secret-1"


def test_operators_edit_their_source_layers_only() -> None:
    layers = [*sorted(CATALOGUE), "coverage_gaps__bbox1234", "towers"]
    editable = {layer for layer in layers if layer_access(layer).editable}
    assert editable == {"sites", "cells", "fibre_routes", "fibre_nodes"}


def _cells(operators: list[str]) -> gpd.GeoDataFrame:
    n = len(operators)
    return gpd.GeoDataFrame(
        {
            "cell_id": [f"C{i}" for i in range(n)], "site_id": "S1", "operator": operators,
            "technology": "4G", "band_mhz": 1800.0, "bandwidth_mhz": 20.0, "azimuth_deg": 0.0,
            "height_m": 30.0, "tx_power_dbm": 43.0, "antenna_gain_dbi": 17.0,
        },
        geometry=shapely.points([105.9 + i / 100 for i in range(n)], [20.5] * n),
        crs="EPSG:4326",
    )  # fmt: skip


@pytest.fixture
def owned(pg_store: PostGISStore, make_sites: SiteFactory) -> PostGISStore:
    """Two operators' sites and cells, and coverage rows of each and of any operator."""
    sites = make_sites(
        [("S1", "viettel", 105.9, 20.5), ("S1", "vnpt", 105.91, 20.5)],
        structure_id=["T1", "T2"], max_tenants=[3, 2],
    )  # fmt: skip
    coverage = pd.DataFrame(
        {
            "village_code": "V1", "commune_code": "13285", "technology": "4G",
            "operator": ["viettel", "vnpt", "any"], "threshold_dbm": -110.0, "pixels": 10,
            "population": 100.0, "area_share": 0.5, "covered_population": 50.0,
            "covered": False,
        }
    )  # fmt: skip
    with pg_store.transaction() as tx:
        tx.write("sites", sites)
        tx.write("cells", _cells(["viettel", "viettel", "vnpt"]))
        tx.write("coverage_villages", coverage)
    return pg_store


def _login(store: PostGISStore, name: str, role: str, operator: str | None = None) -> str:
    create_login(store.url, name, role, operator=operator, password=PASSWORD)
    return psycopg.conninfo.make_conninfo(store.url, user=name, password=PASSWORD)


@pytest.fixture
def vnpt(owned: PostGISStore) -> Iterator[psycopg.Connection]:
    """VNPT's own login, as QGIS would connect with it."""
    with psycopg.connect(_login(owned, "vnpt_qgis", "operator", "vnpt"), autocommit=True) as con:
        yield con


def test_an_operator_reads_none_of_another_operators_cells(vnpt: psycopg.Connection) -> None:
    count = vnpt.execute("SELECT count(*) FROM gis_planner.cells WHERE operator = 'viettel'")
    assert count.fetchone() == (0,)
    assert vnpt.execute("SELECT DISTINCT operator FROM gis_planner.cells").fetchall() == [("vnpt",)]
    # nor through the statistics, nor by turning row security off
    stats = "SELECT count(*) FROM pg_stats WHERE schemaname = 'gis_planner' AND tablename = 'cells'"
    assert vnpt.execute(stats).fetchone() == (0,)
    vnpt.execute("SET row_security = off")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        vnpt.execute("SELECT count(*) FROM gis_planner.cells")


def test_an_operator_changes_none_of_another_operators_rows(
    owned: PostGISStore, vnpt: psycopg.Connection
) -> None:
    revision = owned.revision()
    with vnpt.transaction():  # as QGIS saves its edits: one transaction
        for statement in (
            "UPDATE gis_planner.cells SET height_m = 50 WHERE operator = 'viettel'",
            "DELETE FROM gis_planner.cells WHERE operator = 'viettel'",
            "UPDATE gis_planner.sites SET max_tenants = 8",
        ):
            changed = vnpt.execute(statement).rowcount
            assert changed == (1 if "sites" in statement else 0), statement
    refused = [
        # rows of another operator, made or moved there
        "INSERT INTO gis_planner.cells (cell_id, site_id, operator, technology, band_mhz, "
        "bandwidth_mhz, azimuth_deg, height_m, tx_power_dbm, antenna_gain_dbi, geometry) VALUES "
        "('X', 'S1', 'viettel', '4G', 1800, 20, 0, 30, 43, 17, 'SRID=4326;POINT(105.9 20.5)')",
        "UPDATE gis_planner.cells SET operator = 'viettel'",
        # the store's own records and the way around the policies
        "TRUNCATE gis_planner.cells",
        "ALTER TABLE gis_planner.cells DISABLE ROW LEVEL SECURITY",
        "UPDATE gis_planner_meta.revision SET revision = 0",
        "SELECT gis_planner_meta.commit_revision()",
        "INSERT INTO gis_planner_meta.products VALUES ('x', 'layer', 'j', '', '', '{}')",
        "SET ROLE gp_admin",
        "SET ROLE gp_operator_viettel",
        # layers that are not an operator's to change or see
        "DELETE FROM gis_planner.coverage_villages",
        "SELECT * FROM gis_planner.backhaul_shared",
    ]
    for statement in refused:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            vnpt.execute(statement)
    cells = owned.read("cells")
    assert cells["operator"].tolist() == ["viettel", "viettel", "vnpt"]
    assert cells["height_m"].eq(30.0).all()
    sites = owned.read("sites").set_index("operator")
    assert sites["max_tenants"].to_dict() == {"viettel": 3, "vnpt": 8}
    # An edit in QGIS is a commit of the store like any other (one, however many statements):
    # caches see it.
    assert owned.revision() == revision + 1
    assert owned.layer_revisions()["sites"] == revision + 1


def test_an_operator_sees_the_public_fields_of_the_others_sites(vnpt: psycopg.Connection) -> None:
    rows = vnpt.execute(
        "SELECT operator, structure_id, max_tenants, height_m FROM gis_planner_shared.sites "
        "ORDER BY operator"
    ).fetchall()
    assert rows == [("viettel", None, None, 36.0), ("vnpt", "T2", 2, 36.0)]
    own = vnpt.execute("SELECT operator, structure_id FROM gis_planner.sites").fetchall()
    assert own == [("vnpt", "T2")]
    coverage = vnpt.execute("SELECT operator FROM gis_planner.coverage_villages ORDER BY 1")
    assert coverage.fetchall() == [("any",), ("vnpt",)]


def test_a_viewer_sees_public_rows_and_fields_only(owned: PostGISStore) -> None:
    with psycopg.connect(_login(owned, "public_viewer", "viewer"), autocommit=True) as con:
        for table in ("gis_planner.cells", "gis_planner.sites", "gis_planner.fibre_routes"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(f"SELECT count(*) FROM {table}")
        sites = con.execute(
            "SELECT count(*), count(structure_id), count(max_tenants) FROM gis_planner_shared.sites"
        ).fetchone()
        assert sites == (2, 0, 0)
        coverage = con.execute("SELECT operator FROM gis_planner.coverage_villages").fetchall()
        assert coverage == [("any",)]


def test_the_services_login_acts_for_each_caller_and_for_no_one_by_default(
    owned: PostGISStore,
) -> None:
    url = _login(owned, "gis_planner_api", "service")
    with psycopg.connect(url) as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute("SELECT count(*) FROM gis_planner.villages")
    service = PostGISStore(url)
    try:
        assert service.acting_for(VIETTEL).read("cells")["operator"].eq("viettel").all()
        assert len(service.acting_for(VIETTEL).read("sites")) == 2
        with pytest.raises(StoreError, match="not allowed"):
            service.read("cells")
    finally:
        service.close()
