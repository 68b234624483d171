"""Extensions: the greedy Steiner links against the straight minimum spanning tree."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_planner.fibre.extension import (
    Terminals,
    extension_links,
    straight_links,
    straight_mst_m,
    terminals,
)
from tests.fibre_networks import METRIC_CRS, X0, Y0, routes, squares

COMMUNES = gpd.GeoDataFrame(
    {"code": ["C1"]}, geometry=[shapely.box(X0 - 1e4, Y0 - 1e4, X0 + 1e4, Y0 + 1e4)], crs=METRIC_CRS
)


def _length(t: Terminals) -> float:
    _, start, end = straight_links(t)
    return float(np.hypot(*(end - start).T).sum())


def test_attaching_to_a_link_beats_the_spanning_tree() -> None:
    # The network is a stub at the origin; A lies 1 km east, B 1.1 km above A's link.
    network = routes([("N", "vnpt", [(0, 0), (1, 0)])])
    villages = squares(["A", "B"], [(1000, 0), (500, 1100)], half_m=1)
    t = terminals(villages, network)
    mst = straight_mst_m(t)
    assert mst == pytest.approx(999 + np.hypot(500, 1100), rel=1e-3)
    assert _length(t) == pytest.approx(999 + 1100, rel=1e-3)
    assert _length(t) < mst


@pytest.mark.parametrize("seed", range(20))
def test_steiner_extension_is_never_longer_than_the_straight_mst(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 40))
    xy = rng.uniform(-5000, 5000, (k, 2))
    t = Terminals(xy, np.column_stack([xy[:, 0], np.full(k, -6000.0)]), xy[:, 1] + 6000, METRIC_CRS)
    assert _length(t) <= straight_mst_m(t) + 1e-6


def test_extension_layer_links_every_village_once() -> None:
    network = routes([("N", "vnpt", [(0, 0), (2000, 0)])])
    villages = squares(["V1", "V2", "V3"], [(500, 800), (600, 1500), (1800, 900)])
    links = extension_links(villages, network, COMMUNES)
    assert sorted(links["village_code"]) == ["V1", "V2", "V3"]
    assert (links["kind"] == "straight").all() and (links["commune_code"] == "C1").all()
    t = terminals(villages, network)
    assert links["length_m"].sum() <= straight_mst_m(t) + 0.5
    # Every link ends on the network or on another link.
    reached = shapely.union_all([*network.geometry, *links.geometry])
    ends = shapely.get_point(links.geometry.to_numpy(), -1)
    assert (shapely.distance(ends, reached) < 1e-6).all()


def test_corridor_extension_follows_the_road() -> None:
    network = routes([("N", "vnpt", [(0, 0), (100, 0)])])
    # The road leaves the network, climbs to 1 km and runs east past both villages.
    road = routes([("R", "road", [(100, 0), (100, 1000), (3000, 1000)])])
    villages = squares(["V1", "V2"], [(2000, 1030), (2900, 1030)], half_m=10)
    links = extension_links(villages, network, COMMUNES, corridors=road)
    assert (links["kind"] == "corridor").all()
    total = links["length_m"].sum()
    # Up the road (1000 m), along it to the far village (2800 m), and two 30 m drops.
    assert total == pytest.approx(1000 + 2800 + 60, abs=1)
    on_road = shapely.length(shapely.intersection(links.geometry.to_numpy(), road.geometry[0]))
    assert on_road.sum() == pytest.approx(3800, abs=1)


def test_a_village_off_every_connected_corridor_goes_straight() -> None:
    network = routes([("N", "vnpt", [(0, 0), (100, 0)])])
    road = routes([("R", "road", [(100, 0), (100, 1000)]), ("L", "road", [(5000, 0), (5000, 900)])])
    villages = squares(["V1", "V2"], [(130, 1000), (5030, 500)], half_m=10)
    links = extension_links(villages, network, COMMUNES, corridors=road)
    # V1: 30 m to the road and 1000 m along it; V2: its lane never meets the fibre.
    assert links["length_m"].sum() == pytest.approx(1030 + np.hypot(4930, 500), abs=1)


def test_no_gap_villages_no_links() -> None:
    network = routes([("N", "vnpt", [(0, 0), (100, 0)])])
    assert extension_links(squares([], []), network, COMMUNES).empty
