"""Host candidates: ranking, eligibility, overlap and what-if on a small scene, and the sample."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gis_planner.admin import units
from gis_planner.crs import metric_to_lonlat
from gis_planner.errors import GisPlannerError
from gis_planner.hosting import HostIndex, PlannedSite, disc_overlap_share
from gis_planner.jobs.hosting import host_index
from gis_planner.sharing import positions
from gis_planner.store import GeoPackageStore

from .conftest import SiteFactory
from .test_sharing import METRIC_CRS, X0, Y0, admin_square, at


def test_disc_overlap_share() -> None:
    share = disc_overlap_share(
        100.0, np.array([100.0, 100.0, 50.0, 100.0]), np.array([0, 200, 10, 100.0])
    )
    assert share[0] == pytest.approx(1.0)
    assert share[1] == pytest.approx(0.0)
    assert share[2] == pytest.approx(0.25)  # a disc of half the radius fully inside
    lens = 2 * 100**2 * math.acos(0.5) - 0.5 * 100 * math.sqrt(4 * 100**2 - 100**2)
    assert share[3] == pytest.approx(lens / (math.pi * 100**2))


def scene(make_sites: SiteFactory) -> HostIndex:
    sites = at(
        make_sites,
        [
            ("V1", "viettel", 100, 0),  # near, tall lattice, alone: the best host
            ("N1", "vnpt", 400, 0),  # further, a short rooftop
            ("M1", "mobifone", -150, 0),
            ("N2", "vnpt", -150, 5),  # shared with M1, rooftop of capacity 2: full
            ("G1", "vietnamobile", 200, 0),  # the planning operator's own site: never a host
            ("V2", "viettel", 3_000, 0),  # outside the search radius
        ],
        height_m=[45.0, 15.0, 30.0, 30.0, 30.0, 40.0],
        tower_type=["lattice", "rooftop", "rooftop", "rooftop", "monopole", "lattice"],
    )
    return HostIndex(positions(sites), units(admin_square(), "commune"))


def test_ranking_and_what_if(make_sites: SiteFactory) -> None:
    index = scene(make_sites)
    lon, lat = metric_to_lonlat(X0, Y0, METRIC_CRS)
    found = index.candidates(
        PlannedSite(float(lon), float(lat), "vietnamobile", 30.0), radius_m=1_000
    )
    assert found["site_ids"].tolist() == ["V1", "N1", "M1,N2"]
    assert found["rank"].tolist() == [1, 2, 3]
    assert found["eligible"].tolist() == [True, True, False]  # the shared rooftop is full
    assert found["distance_m"].round().tolist() == [100, 400, 150]
    assert found["score_height"].tolist() == pytest.approx([1.0, 0.5, 1.0])
    assert found["score"].iloc[0] > found["score"].iloc[1]
    # 5 positions, 1 shared: hosting on a single-operator position makes it 2 of 5.
    assert found["ratio_now"].iloc[0] == pytest.approx(1 / 5)
    assert found["ratio_if_hosted"].tolist() == pytest.approx([2 / 5, 2 / 5, 1 / 5])
    assert found["ratio_if_new_build"].iloc[0] == pytest.approx(1 / 6)
    assert found["site_ratio_if_hosted"].iloc[0] == pytest.approx((2 + 2) / 7)


def test_radius_by_area_type_and_bad_height(make_sites: SiteFactory) -> None:
    index = scene(make_sites)
    lon, lat = metric_to_lonlat(X0, Y0, METRIC_CRS)
    # The test communes are rural: the default radius is 1 km, so V2 at 3 km stays out.
    found = index.candidates(PlannedSite(float(lon), float(lat), "vietnamobile"))
    assert "V2" not in found["site_ids"].tolist() and len(found) == 3
    with pytest.raises(GisPlannerError, match="height"):
        index.candidates(PlannedSite(float(lon), float(lat), "vietnamobile", height_m=0))
    with pytest.raises(GisPlannerError, match="radius"):
        index.candidates(PlannedSite(float(lon), float(lat), "vietnamobile"), radius_m=-5)
    on_the_spot = index.candidates(PlannedSite(float(lon), float(lat), "vietnamobile"), radius_m=0)
    assert on_the_spot.empty


def test_candidates_in_phu_ly(sample_store: GeoPackageStore) -> None:
    index = host_index(sample_store)
    found = index.candidates(PlannedSite(105.9130, 20.5410, "vietnamobile", 30.0))
    assert len(found) >= 1
    assert not found["operators"].str.contains("vietnamobile").any()
    assert (found["distance_m"] <= 300.0).all()  # Phủ Lý's wards are urban
    assert found["fibre_distance_m"].notna().all()
