"""Physical positions from sites: tolerance, structure ids, chains."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_planner.crs import lonlat_to_metric, metric_to_lonlat
from gis_planner.sharing import (
    DEFAULT_CAPACITY,
    cluster_points,
    cluster_positions,
    hosts_operator,
    members,
    position_capacity,
    positions,
    sharing_ratios,
)
from gis_planner.store import GeoPackageStore

from .conftest import SiteFactory

#: Phủ Lý's UTM zone (48N) and a point in it: the hand-built scenes are drawn in its metres.
METRIC_CRS = "EPSG:32648"
X0, Y0 = 590_000.0, 2_270_000.0


def at(
    make_sites: SiteFactory, rows: list[tuple[str, str, float, float]], **kw: object
) -> gpd.GeoDataFrame:
    """Sites placed by metre offsets from a point in Phủ Lý."""
    lon, lat = metric_to_lonlat([X0 + r[2] for r in rows], [Y0 + r[3] for r in rows], METRIC_CRS)
    return make_sites([(r[0], r[1], x, y) for r, x, y in zip(rows, lon, lat, strict=True)], **kw)


def test_tolerance_and_chain(make_sites: SiteFactory) -> None:
    sites = at(
        make_sites,
        [
            ("A", "viettel", 0, 0),
            ("B", "vnpt", 22, 0),  # 22 m from A
            ("C", "mobifone", 44, 0),  # 44 m from A, 22 m from B: same position by chaining
            ("D", "viettel", 200, 0),
            ("E", "vnpt", 231, 0),  # 31 m from D: a separate position at 30 m
        ],
    )
    positions = cluster_positions(sites)
    assert positions.tolist() == [0, 0, 0, 1, 2]
    assert cluster_positions(sites, tolerance_m=35).tolist() == [0, 0, 0, 1, 1]


def test_structure_id_joins_distant_sites(make_sites: SiteFactory) -> None:
    sites = at(
        make_sites,
        [("A", "viettel", 0, 0), ("B", "vnpt", 80, 0), ("C", "mobifone", 500, 0)],
        structure_id=["T1", "T1", None],
    )
    assert cluster_positions(sites).tolist() == [0, 0, 1]


def test_ids_do_not_depend_on_row_order(make_sites: SiteFactory) -> None:
    rows = [(f"S{i:02d}", "viettel", float(i * 100), 0.0) for i in range(20)]
    sites = at(make_sites, rows)
    shuffled = sites.iloc[np.random.default_rng(1).permutation(len(sites))]
    assert cluster_positions(shuffled).sort_index().tolist() == cluster_positions(sites).tolist()
    assert sites.to_crs(METRIC_CRS).geometry.x.diff().dropna().round().eq(100).all()


def admin_square(size_m: float = 5_000.0) -> gpd.GeoDataFrame:
    """A province of one district of two communes side by side, around the test sites."""

    def box(x0: float, x1: float) -> shapely.Geometry:
        return shapely.box(X0 + x0, Y0 - size_m, X0 + x1, Y0 + size_m)

    frame = gpd.GeoDataFrame(
        {
            "code": ["90", "901", "90101", "90102"],
            "name": ["Tỉnh Thử", "Huyện Thử", "Xã Đông", "Xã Tây"],
            "level": ["province", "district", "commune", "commune"],
            "unit_type": ["province", "rural_district", "rural_commune", "rural_commune"],
            "parent_code": [None, "90", "901", "901"],
            "admin_version": "pre2025",
        },
        geometry=[box(-size_m, size_m), box(-size_m, size_m), box(0, size_m), box(-size_m, 0)],
        crs=METRIC_CRS,
    )
    return frame.to_crs("EPSG:4326")


def test_positions_count_operators_not_sites(make_sites: SiteFactory) -> None:
    sites = at(
        make_sites,
        [
            ("A", "viettel", 100, 0),
            ("B", "viettel", 110, 0),  # same operator twice on one structure: not shared
            ("C", "vnpt", 500, 0),
            ("D", "mobifone", 510, 0),
        ],
        height_m=[30.0, 40.0, 20.0, 45.0],
        tower_type=["monopole", "lattice", "rooftop", "lattice"],
    )
    table = positions(sites)
    assert table["n_sites"].tolist() == [2, 2]
    assert table["tenants"].tolist() == [1, 2]
    assert table["shared"].tolist() == [False, True]
    assert table["operators"].tolist() == ["viettel", "mobifone,vnpt"]
    # The tallest structure of a position speaks for it; capacity from the tower type.
    assert table["height_m"].tolist() == [40.0, 45.0]
    assert table["capacity"].tolist() == [DEFAULT_CAPACITY["lattice"]] * 2
    x, _ = lonlat_to_metric(table.geometry.x, table.geometry.y, METRIC_CRS)
    assert np.allclose(x - X0, [105.0, 505.0], atol=0.01)


def test_cluster_points_links_groups_however_far() -> None:
    xy = np.array([[0.0, 0.0], [20.0, 0.0], [5_000.0, 0.0], [9_000.0, 0.0]])
    assert cluster_points(xy, 30.0).tolist() == [0, 0, 1, 2]
    groups = np.array([None, None, "S1", "S1"], dtype=object)
    assert cluster_points(xy, 30.0, groups).tolist() == [0, 0, 1, 1]


def test_members_and_capacity_of_a_view_of_the_sites(make_sites: SiteFactory) -> None:
    # Two operators use the id "X": the site keys say whose each site is.
    sites = at(
        make_sites,
        [("X", "viettel", 0, 0), ("X", "vnpt", 10, 0), ("Y", "vnpt", 900, 0)],
        max_tenants=[5, 6, 4],
        tower_type=["lattice", "street_pole", "monopole"],
    )
    table = positions(sites)
    assert table["site_keys"].tolist() == ["viettel:X,vnpt:X", "vnpt:Y"]
    listed = members(table).sort_values(["position_id", "operator"])
    assert listed[["operator", "site_id"]].values.tolist() == [
        ["viettel", "X"], ["vnpt", "X"], ["vnpt", "Y"],
    ]  # fmt: skip
    assert position_capacity(table, sites).tolist() == [6, 4]
    # Viettel's view: VNPT's max_tenants emptied, its structures at the tower type's default.
    seen = sites.copy()
    seen.loc[seen["operator"] == "vnpt", "max_tenants"] = None
    assert position_capacity(table, seen).tolist() == [5, DEFAULT_CAPACITY["monopole"]]


def test_ratio_by_both_definitions(make_sites: SiteFactory) -> None:
    # East commune: one shared position (3 sites) and two single ones; west: one single.
    sites = at(
        make_sites,
        [
            ("A", "viettel", 100, 0),
            ("B", "vnpt", 105, 0),
            ("C", "mobifone", 110, 0),
            ("D", "viettel", 1_000, 0),
            ("E", "vnpt", 2_000, 0),
            ("F", "vnpt", -1_000, 0),
        ],
    )
    table = sharing_ratios(sites, admin_square()).set_index(["scope", "code"])
    province = table.loc[("province", "90")]
    assert (province["positions"], province["shared_positions"]) == (4, 1)
    assert province["position_ratio"] == pytest.approx(1 / 4)
    assert province["site_ratio"] == pytest.approx(3 / 6)
    assert bool(province["meets_low"]) and not bool(province["meets_high"])
    assert province["shared_needed_high"] == 1  # 0.30 × 4 = 1.2 → 2 shared positions
    east, west = table.loc[("commune", "90101")], table.loc[("commune", "90102")]
    assert (east["positions"], east["shared_positions"], east["sites"]) == (3, 1, 5)
    assert east["name"] == "Xã Đông"
    assert (west["positions"], west["shared_positions"], west["position_ratio"]) == (1, 0, 0.0)
    vnpt = table.loc[("operator", "vnpt")]
    assert (vnpt["positions"], vnpt["shared_positions"], vnpt["sites"]) == (3, 1, 3)
    assert vnpt["name"] == "VNPT-VinaPhone"
    assert table.loc[("district", "901"), "positions"] == 4


def test_ratio_on_the_sample_by_district(sample_store: GeoPackageStore) -> None:
    table = sharing_ratios(sample_store.read("sites"), sample_store.read("admin_units"))
    districts = table[table["scope"] == "district"]
    assert districts["code"].tolist() == ["347", "349", "350", "351", "352", "353"]
    assert (
        districts["positions"].sum() == table.loc[table["scope"] == "province", "positions"].iloc[0]
    )
    province = table[table["scope"] == "province"].iloc[0]
    assert province["positions"] == 930
    assert province["position_ratio"] == pytest.approx(177 / 930)


def test_hosts_operator_matches_whole_keys() -> None:
    operators = pd.Series(["viettel", "mobifone,vnpt", "vietnamobile"])
    assert hosts_operator(operators, "vnpt").tolist() == [False, True, False]
    # "viet" is part of two keys but none of them.
    assert hosts_operator(operators, "viet").tolist() == [False, False, False]
    assert hosts_operator(operators, "vietnamobile").tolist() == [False, False, True]
