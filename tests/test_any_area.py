"""Any area: a province in UTM zone 49 measured in zone 49, and a store of two provinces.

The second province (``tests/second_province.py``) lies around 109°E, where zone 48 (Hà Nam's)
stretches lengths by about 0.2 % and zone 49 by under 0.02 %: lengths are checked against
``pyproj.Geod`` within 0.1 %. In a store holding it beside the sample, each province's
positions are counted in that province, with the figures of each province alone.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_planner.admin import locate, units
from gis_planner.crs import WGS84
from gis_planner.fibre.products import FibreParams
from gis_planner.hosting import PlannedSite
from gis_planner.inventory import describe
from gis_planner.io.coordinates import Area, province_outline
from gis_planner.io.opencellid import CellAssumptions, group_sites
from gis_planner.jobs import fibre, hosting, report, sharing
from gis_planner.jobs.fibre import FibreSpec
from gis_planner.jobs.hosting import HostingSpec
from gis_planner.jobs.report import ReportSpec
from gis_planner.jobs.sharing import SharingSpec
from gis_planner.sharing import place_positions, positions
from gis_planner.siting import PlannedCell, coverage_relation, propose_sites
from gis_planner.store import GeoPackageStore
from tests import second_province as dh
from tests.conftest import writable

#: Lengths in the area's metric CRS agree with the ellipsoid within this share.
REL = 1e-3
#: A cell whose rural service range is a few kilometres (as in ``test_siting``).
CELL = PlannedCell(threshold_dbm=-95.0)


def geodesic_lengths(frame: gpd.GeoDataFrame) -> np.ndarray:
    return dh.geodesic_length_m(frame.to_crs(WGS84).geometry.to_numpy())


# Positions and sharing.


@pytest.mark.parametrize("version", ["pre2025", "2025-07"])
def test_each_position_is_placed_in_its_own_province(
    two_province_store: GeoPackageStore, version: str
) -> None:
    admin = two_province_store.read("admin_units")
    placed = place_positions(positions(two_province_store.read("sites")), admin, version)
    expected = locate(placed.geometry, units(admin, "province", version))
    assert expected.notna().all()
    assert placed["province_code"].tolist() == expected.tolist()
    assert (placed["province_code"] == dh.PROVINCE).sum() == 8
    # The district is the commune's parent, in either province.
    if version == "pre2025":
        assert set(placed.loc[placed["province_code"] == dh.PROVINCE, "district_code"]) == {
            "961",
            "962",
        }
    else:
        assert placed["district_code"].isna().all()


def _ratios(store: GeoPackageStore, tmp_path: Path, version: str) -> pd.DataFrame:
    spec = SharingSpec(tmp_path / "out", admin_version=version)
    ratios = sharing.run(spec, writable(store, tmp_path)).ratios
    return ratios[ratios["scope"] != "operator"].set_index(["scope", "code"])


@pytest.mark.parametrize("version", ["pre2025", "2025-07"])
def test_sharing_ratios_by_province_are_those_of_each_province_alone(
    sample_store: GeoPackageStore,
    second_store: GeoPackageStore,
    two_province_store: GeoPackageStore,
    tmp_path_factory: pytest.TempPathFactory,
    version: str,
) -> None:
    both = _ratios(two_province_store, tmp_path_factory.mktemp("both"), version)
    hanam = _ratios(sample_store, tmp_path_factory.mktemp("hanam"), version)
    second = _ratios(second_store, tmp_path_factory.mktemp("second"), version)
    assert len(both) == len(hanam) + len(second)
    pd.testing.assert_frame_equal(both.loc[hanam.index], hanam)
    pd.testing.assert_frame_equal(both.loc[second.index], second)
    province = both.loc[("province", dh.PROVINCE)]
    assert (province["positions"], province["shared_positions"]) == (8, 3)
    assert province["position_ratio"] == pytest.approx(3 / 8)
    assert province["name"] == "Tỉnh Duyên Hải"
    if version == "pre2025":
        for code, (n, shared, on_shared) in dh.DISTRICT_FIGURES.items():
            row = both.loc[("district", code)]
            assert (row["positions"], row["shared_positions"], row["sites_on_shared"]) == (
                n,
                shared,
                on_shared,
            )


def test_position_tolerance_is_metres_on_the_ground() -> None:
    # Pairs 29.96 m and 30.04 m apart on the ellipsoid, at the 30 m default tolerance.
    a, b = (109.02, 13.84), (109.12, 13.96)
    rows = [("A1", "viettel", a), ("A2", "vnpt", dh.offset(*a, 60.0, 29.96))]
    rows += [("B1", "viettel", b), ("B2", "vnpt", dh.offset(*b, 60.0, 30.04))]
    sites = gpd.GeoDataFrame(
        {"site_id": [r[0] for r in rows], "operator": [r[1] for r in rows],
         "tower_type": "lattice", "height_m": 30.0},
        geometry=[shapely.Point(*r[2]) for r in rows], crs=WGS84,
    )  # fmt: skip
    assert positions(sites)["n_sites"].tolist() == [2, 1, 1]


def test_opencellid_site_tolerance_is_metres_on_the_ground() -> None:
    a, b = (109.02, 13.84), (109.12, 13.96)
    points = [a, dh.offset(*a, 0.0, 99.9), b, dh.offset(*b, 0.0, 100.1)]
    cells = gpd.GeoDataFrame(
        {"cell_id": [f"OCID-LTE-452-4-1-{i}" for i in range(4)], "operator": "viettel"},
        geometry=[shapely.Point(*p) for p in points],
        crs=WGS84,
    )
    sites, site_of_cell = group_sites(cells, CellAssumptions())
    assert len(sites) == 3
    assert site_of_cell.iloc[0] == site_of_cell.iloc[1] != site_of_cell.iloc[2]


def test_sharing_job_in_zone_49_plans_moves_of_geodesic_length(
    second_store: GeoPackageStore, tmp_path: Path
) -> None:
    store = writable(second_store, tmp_path)
    result = sharing.run(SharingSpec(tmp_path / "out"), store)
    assert result.plan_summary.set_index("area_code").loc["962", "moves_high"] == 1
    moves = store.read("consolidation_moves")
    assert len(moves) == 1
    # P6 (Viettel) and P7 (VNPT) stand 400 m apart on the ellipsoid.
    assert moves["distance_m"].iloc[0] == pytest.approx(400.0, rel=REL)
    assert geodesic_lengths(moves)[0] == pytest.approx(400.0, rel=REL)


# Host candidates.


def _planned() -> PlannedSite:
    """A Vietnamobile site planned 250 m west of P6 (Viettel), 650 m from P7 (VNPT)."""
    return PlannedSite(*dh.offset(*dh.ANCHORS["P6"], 270.0, 250.0), "vietnamobile", 30.0)


def test_host_candidates_in_zone_49_at_geodesic_distances(
    second_store: GeoPackageStore, tmp_path: Path
) -> None:
    site = _planned()
    found = hosting.run(HostingSpec(site, tmp_path), writable(second_store, tmp_path)).candidates
    assert found["site_ids"].tolist() == ["DH-VTL-04", "DH-VNP-03"]
    geodesic = [dh.geodesic_m((site.lon, site.lat), (p.x, p.y)) for p in found.geometry]
    assert geodesic == pytest.approx([250.0, 650.0], rel=REL)
    assert found["distance_m"].to_numpy() == pytest.approx(geodesic, rel=REL)


def test_host_what_if_is_the_candidates_province(
    second_store: GeoPackageStore, two_province_store: GeoPackageStore, tmp_path: Path
) -> None:
    site = _planned()
    both = hosting.host_index(two_province_store).candidates(site)
    alone = hosting.host_index(second_store).candidates(site)
    columns = ["ratio_now", "ratio_if_hosted", "ratio_if_new_build", "site_ratio_now"]
    pd.testing.assert_frame_equal(both[columns], alone[columns])
    # 8 positions, 3 shared, 7 of 12 sites on them; P6 alone would become shared.
    first = both.iloc[0]
    assert (first["ratio_now"], first["ratio_if_hosted"]) == (3 / 8, 4 / 8)
    assert first["ratio_if_new_build"] == pytest.approx(3 / 9)
    assert first["site_ratio_now"] == pytest.approx(7 / 12)


# Site planning: the service range measured on the ground.


def test_siting_covers_villages_within_the_range_on_the_ground(
    second_store: GeoPackageStore,
) -> None:
    reach = float(CELL.range_m(30.0, "rural"))
    tower = (109.10, 13.86)  # in the rural commune 96201
    half = 50.0
    rows = []
    for code, share, azimuth in (("IN", 0.999, 0.0), ("OUT", 1.001, 90.0)):
        centre = dh.offset(*tower, azimuth, share * reach)
        corners = [dh.offset(*centre, az, half * np.sqrt(2)) for az in (45, 135, 225, 315)]
        rows.append((code, shapely.Polygon(corners)))
    demand = gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "population": [500, 500]},
        geometry=[r[1] for r in rows],
        crs=WGS84,
    )
    candidates = gpd.GeoDataFrame(
        {"candidate_id": ["T"], "kind": "new_build", "height_m": 30.0, "cost": 1.0,
         "host_operators": ""},
        geometry=[shapely.Point(*tower)], crs=WGS84,
    )  # fmt: skip
    points = gpd.GeoSeries([shapely.Point(dh.offset(*tower, 0.0, 0.999 * reach))], crs=WGS84)
    cover, range_m = coverage_relation(points, candidates, CELL, ["rural"])
    assert range_m.tolist() == [reach] and cover.toarray().tolist() == [[1.0]]
    communes = units(second_store.read("admin_units"), "commune")
    result = propose_sites(demand, candidates, communes, cell=CELL, budget=None)
    status = dict(zip(result.demand["code"], result.demand["status"], strict=True))
    assert status == {"IN": "covered", "OUT": "uncoverable"}


# Fibre: backhaul, extension and inventory lengths in zone 49.


@pytest.fixture(scope="module")
def second_fibre(
    second_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> GeoPackageStore:
    """The second province's store after the fibre job."""
    folder = tmp_path_factory.mktemp("second-fibre")
    store = writable(second_store, folder)
    fibre.run(FibreSpec(FibreParams(), report=folder / "fibre.xlsx"), store)
    return store


@pytest.mark.parametrize("layer", ["backhaul_paths", "backhaul_shared_paths"])
def test_backhaul_lengths_are_geodesic(second_fibre: GeoPackageStore, layer: str) -> None:
    paths = second_fibre.read(layer)
    # VNPT's and Viettel's sites reach their own POP/OLT; over all fibre, the others do too.
    assert len(paths) >= 5
    assert paths["total_m"].to_numpy() == pytest.approx(geodesic_lengths(paths), rel=REL)
    assert paths["total_m"].min() > 1_000


def test_backhaul_of_a_site_by_hand(second_fibre: GeoPackageStore) -> None:
    # VNPT's site of P1 stands 10 m east of Viettel's, 111 m north of the trunk: its nearest
    # vertex is where the branch leaves the trunk (108.975°E), then 1.6 km west to the POP.
    row = second_fibre.read("backhaul").set_index("site_id").loc["DH-VNP-01"]
    site = dh.offset(*dh.ANCHORS["P1"], 90.0, 10.0)
    gap = dh.geodesic_m(site, (108.975, dh.TRUNK_LAT))
    path = dh.geodesic_m((108.975, dh.TRUNK_LAT), (dh.TRUNK_WEST, dh.TRUNK_LAT))
    assert row["pop_node_id"] == "DH-VNP-POP1"
    assert row["gap_m"] == pytest.approx(gap, rel=REL)
    assert row["path_m"] == pytest.approx(path, rel=REL)


def test_extension_lengths_are_geodesic(second_fibre: GeoPackageStore) -> None:
    links = second_fibre.read("fibre_extensions")
    gaps = second_fibre.read("ftth_villages")
    assert set(links["village_code"]) == set(gaps.loc[~gaps["covered"], "code"])
    assert len(links) >= 5 and links["length_m"].sum() > 10_000
    assert links["length_m"].to_numpy() == pytest.approx(geodesic_lengths(links), rel=REL)
    assert set(links["commune_code"]) <= {c[0] for c in dh.COMMUNES}


def test_inventory_length_of_routes_is_geodesic() -> None:
    # Twenty 25 km routes heading north from the province: 500 km on the ellipsoid.
    starts = [(108.96 + 0.009 * i, 13.81) for i in range(20)]
    routes = gpd.GeoDataFrame(
        {"route_class": ["trunk"] * len(starts)},
        geometry=[shapely.LineString([s, dh.offset(*s, 0.0, 25_000.0)]) for s in starts],
        crs=WGS84,
    )
    assert geodesic_lengths(routes).sum() == pytest.approx(500_000.0)
    assert describe("fibre_routes", routes, "en").startswith("500 km;")


# Imports: the province check in the province's own zone.


def test_import_area_tolerance_is_metres_on_the_ground(second_store: GeoPackageStore) -> None:
    area = Area.from_outline(province_outline(second_store.read("admin_units")))
    # East of the province's eastern edge (a meridian), 1998.5 m and 2001.5 m away.
    inside = dh.offset(dh.EAST, 13.90, 90.0, 1_998.5)
    outside = dh.offset(dh.EAST, 13.90, 90.0, 2_001.5)
    lon, lat = np.array([inside[0], outside[0]]), np.array([inside[1], outside[1]])
    assert area.contains_lonlat(lon, lat).tolist() == [True, False]
    assert area.crs == dh.ZONE_49


# The report names the store's provinces.


@pytest.mark.parametrize(
    ("store_name", "place"),
    [
        ("second_store", "Tỉnh Duyên Hải"),
        (
            "two_province_store",
            "Tỉnh Ninh Bình, Tỉnh Duyên Hải — Tỉnh Hà Nam (cũ), Tỉnh Duyên Hải (cũ)",
        ),
    ],
)
def test_report_is_of_the_stores_provinces(
    request: pytest.FixtureRequest, tmp_path: Path, store_name: str, place: str
) -> None:
    store = writable(request.getfixturevalue(store_name), tmp_path)
    html = report.run(ReportSpec(tmp_path / "out", ("vi",)), store).html[0].read_text("utf-8")
    assert f"<h1>Báo cáo chỉ tiêu hạ tầng số – {place}</h1>" in html
