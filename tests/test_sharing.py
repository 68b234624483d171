"""Physical positions from sites: tolerance, structure ids, chains."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from gis_planner.crs import UTM48N, utm_to_lonlat
from gis_planner.sharing import cluster_positions

from .conftest import SiteFactory

X0, Y0 = 590_000.0, 2_270_000.0


def at(
    make_sites: SiteFactory, rows: list[tuple[str, str, float, float]], **kw: object
) -> gpd.GeoDataFrame:
    """Sites placed by metre offsets from a point in Phủ Lý."""
    lon, lat = utm_to_lonlat([X0 + r[2] for r in rows], [Y0 + r[3] for r in rows])
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
    assert sites.to_crs(UTM48N).geometry.x.diff().dropna().round().eq(100).all()
