"""Site proposals on a hand-built scene: service range, coverage relation, uncoverable villages."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.siting import (
    NEW_BUILD_COST,
    SHARE_COST,
    PlannedCell,
    coverage_relation,
    planned_cell,
    propose_sites,
)

from .test_sharing import METRIC_CRS, X0, Y0, admin_square

#: A cell whose service range in the rural test communes is a few kilometres.
CELL = PlannedCell(threshold_dbm=-95.0)


def village(code: str, dx: float, population: int) -> tuple[str, shapely.Geometry, int]:
    return code, shapely.box(X0 + dx - 100, Y0 - 100, X0 + dx + 100, Y0 + 100), population


def villages(rows: list[tuple[str, shapely.Geometry, int]]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [f"Thôn {r[0]}" for r in rows],
         "commune_code": "90101", "population": [r[2] for r in rows]},
        geometry=[r[1] for r in rows], crs=METRIC_CRS,
    )  # fmt: skip
    return frame.to_crs(WGS84)


def candidates(rows: list[tuple[str, float, float, float]]) -> gpd.GeoDataFrame:
    """(id, dx, height, cost) candidates along the x axis."""
    frame = gpd.GeoDataFrame(
        {"candidate_id": [r[0] for r in rows], "height_m": [r[2] for r in rows],
         "cost": [r[3] for r in rows],
         "kind": ["share" if r[3] == SHARE_COST else "new_build" for r in rows],
         "host_operators": ""},
        geometry=[shapely.Point(X0 + r[1], Y0) for r in rows], crs=METRIC_CRS,
    )  # fmt: skip
    return frame.to_crs(WGS84)


def test_service_range_grows_with_height_and_shrinks_with_threshold() -> None:
    cell = planned_cell("4G")
    low, high = cell.range_m([30.0, 60.0], "rural")
    assert 1_000 < low < high
    assert CELL.range_m(30.0, "rural") < low
    assert cell.range_m(30.0, "urban") < low  # more loss in towns
    with pytest.raises(GisPlannerError, match="technology"):
        planned_cell("6G")


def test_coverage_relation_uses_each_candidate_range() -> None:
    reach = float(CELL.range_m(30.0, "rural"))
    demand = villages([village("A", 0, 100), village("B", reach * 0.9, 100)])
    points = demand.geometry.representative_point()
    cover, range_m = coverage_relation(
        points, candidates([("c1", 0, 30, 1.0), ("c2", -reach * 0.5, 30, 1.0)]), CELL, ["rural"] * 2
    )
    assert range_m == pytest.approx([reach, reach])
    # c1 reaches both; c2 stands 0.5 range west of A, so B (1.4 ranges away) is out of reach.
    assert cover.toarray().astype(bool).tolist() == [[True, True], [True, False]]


def test_budget_proposal_and_uncoverable_villages() -> None:
    reach = float(CELL.range_m(30.0, "rural"))
    demand = villages(
        [
            village("A", 0, 500),
            village("B", 1.5 * reach, 300),
            village("C", 3.0 * reach, 900),
            village("FAR", 30 * reach, 50),  # no candidate anywhere near
        ]
    )
    options = candidates(
        [
            ("share-AB", 0.75 * reach, 30, SHARE_COST),  # reaches A and B, cheaply
            ("new-C", 3.0 * reach, 30, NEW_BUILD_COST),
            ("new-A", 0, 30, NEW_BUILD_COST),
        ]
    )
    communes = admin_square(size_m=100 * reach)
    communes = communes[communes["level"] == "commune"]
    result = propose_sites(demand, options, communes, cell=CELL, budget=1.0)
    # One unit of budget: C alone (900) beats the tenancy (800); both cost 1.4.
    assert result.proposals["candidate_id"].tolist() == ["new-C"]
    assert result.solution.optimal and result.solution.objective == 900
    assert result.solution.status == "optimal" and result.solution.label == "optimal"
    status = dict(zip(result.demand["code"], result.demand["status"], strict=True))
    assert status == {"A": "not_reached", "B": "not_reached", "C": "covered", "FAR": "uncoverable"}

    every = propose_sites(demand, options, communes, cell=CELL, budget=None)
    assert sorted(every.proposals["candidate_id"]) == ["new-C", "share-AB"]
    assert every.solution.objective == pytest.approx(SHARE_COST + NEW_BUILD_COST)
    assert every.demand.set_index("code")["served_by"].to_dict()["B"] == "share-AB"
    assert (every.demand["status"] == "uncoverable").sum() == 1
    assert np.isclose(every.proposals["range_m"], reach).all()
