"""Positions table and the plan's sharing ratio."""

from __future__ import annotations

import pytest
import shapely

from gis_planner.crs import utm_to_lonlat
from gis_planner.sharing import positions_of, sharing_ratio

from .conftest import SiteFactory

X0, Y0 = 590_000.0, 2_270_000.0


def test_positions_and_ratio(make_sites: SiteFactory) -> None:
    offsets = [
        ("A", "viettel", 0),
        ("B", "vnpt", 10),
        ("C", "viettel", 500),
        ("D", "mobifone", 2000),
    ]
    lon, lat = utm_to_lonlat([X0 + dx for *_, dx in offsets], [Y0] * len(offsets))
    sites = make_sites([(s, op, x, y) for (s, op, _), x, y in zip(offsets, lon, lat, strict=True)])
    table = positions_of(sites, tolerance_m=30)
    assert list(table["n_sites"]) == [2, 1, 1]
    assert list(table["operators"]) == ["viettel,vnpt", "viettel", "mobifone"]
    assert list(table["site_ids"]) == ["A,B", "C", "D"]
    assert list(table["shared"]) == [True, False, False]
    # The shared position's centre is half-way between A and B.
    centre_lon, centre_lat = utm_to_lonlat([X0 + 5], [Y0])
    assert shapely.get_x(table.geometry.iloc[0]) == pytest.approx(centre_lon[0], abs=1e-7)
    assert shapely.get_y(table.geometry.iloc[0]) == pytest.approx(centre_lat[0], abs=1e-7)
    ratio = sharing_ratio(table, 30)
    assert (ratio.positions, ratio.shared_positions, ratio.sites, ratio.sites_on_shared) == (
        3, 1, 4, 2
    )  # fmt: skip
    assert ratio.position_ratio == pytest.approx(1 / 3)
    assert ratio.site_ratio == pytest.approx(0.5)


def test_empty_sites(make_sites: SiteFactory) -> None:
    table = positions_of(make_sites([]), tolerance_m=30)
    assert len(table) == 0
    ratio = sharing_ratio(table, 30)
    assert ratio.position_ratio == 0.0 and ratio.site_ratio == 0.0
