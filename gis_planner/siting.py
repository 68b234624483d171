"""New-site proposals for coverage gaps: candidates, coverage relation, maximal/set covering.

Demand is the villages below the coverage target, weighted by population. Candidates are the
positions of other operators with room for one more tenant (sharing: cheaper) and new builds at
the gap villages' populated points. A candidate covers a village when the planned cell's
predicted RSRP at the village's populated point (its representative point) reaches the
threshold, that is when the village lies within the cell's service range: the distance at which
the model's path loss uses up the link budget (boresight gain: a planned site has three
sectors, so some sector faces every village to within a few dB).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy import sparse

from gis_planner.admin import locate
from gis_planner.covering import CoveringProblem, CoveringSolution, maximal_covering, set_covering
from gis_planner.crs import WGS84, metric_crs_of
from gis_planner.errors import GisPlannerError
from gis_planner.radio import UE_HEIGHT_M, Carrier, LinkBudget, environment_for_unit_type
from gis_planner.radio.propagation import Environment, model_for
from gis_planner.sharing import hosts_operator

#: Relative cost of a candidate: a tenancy on an existing structure, or a new tower.
SHARE_COST = 0.4
NEW_BUILD_COST = 1.0
#: A tenancy on another sector's structure (a power or lighting pole, a public roof) is taken to
#: cost as one on a tower: a planning assumption, not a tariff.
STRUCTURE_COST = SHARE_COST
NEW_BUILD_HEIGHT_M = 30.0
#: Distances the service range is searched over (metres, log-spaced).
_RANGE_GRID_M = np.geomspace(10.0, 20_000.0, 2_000)


@dataclass(frozen=True)
class PlannedCell:
    """The radio of a planned site, used to predict where it would serve."""

    technology: str = "4G"
    band_mhz: float = 1800.0
    bandwidth_mhz: float = 20.0
    tx_power_dbm: float = 46.0
    antenna_gain_dbi: float = 17.5
    feeder_loss_db: float = 0.5
    #: RSRP (4G) or SS-RSRP (5G) a served point needs (DOMAIN.md default).
    threshold_dbm: float = -110.0

    @property
    def budget(self) -> LinkBudget:
        return LinkBudget(
            self.tx_power_dbm,
            self.antenna_gain_dbi,
            self.feeder_loss_db,
            Carrier(self.technology, self.bandwidth_mhz),
        )

    def range_m(self, height_m: npt.ArrayLike, environment: Environment) -> npt.NDArray[np.float64]:
        """Service range for each antenna height: the largest distance still ≥ the threshold.

        Limited to the model's validity range, so a model is never extrapolated to reach far.
        """
        heights = np.asarray(height_m, dtype=np.float64)
        unique, inverse = np.unique(heights, return_inverse=True)
        ranges = np.array([_service_range_m(self, float(h), environment) for h in unique])
        return ranges[inverse].reshape(heights.shape)


@lru_cache(maxsize=4096)
def _service_range_m(cell: PlannedCell, height_m: float, environment: Environment) -> float:
    """Service range of one cell at one height (cached: host queries ask the same ones)."""
    model = model_for(cell.band_mhz, environment)
    allowed_db = cell.budget.reference_eirp_dbm - cell.threshold_dbm
    grid = _RANGE_GRID_M[np.less_equal(_RANGE_GRID_M, model.max_dist_m)]
    loss = model.path_loss(grid, cell.band_mhz, height_m, UE_HEIGHT_M).loss_db
    within = np.flatnonzero(loss <= allowed_db)
    return float(grid[within[-1]]) if len(within) else 0.0


#: Planned cells by technology: LTE 1800 MHz 20 MHz, NR n78 100 MHz with a 64T64R panel.
PLANNED_CELLS: dict[str, PlannedCell] = {
    "4G": PlannedCell(),
    "5G": PlannedCell("5G", 3500.0, 100.0, 53.0, 24.0, 0.0),
}


def planned_cell(technology: str) -> PlannedCell:
    try:
        return PLANNED_CELLS[technology]
    except KeyError:
        raise GisPlannerError(
            f"no planned cell for technology {technology!r}; choose one of {sorted(PLANNED_CELLS)}"
        ) from None


def environments(points: gpd.GeoSeries, communes: gpd.GeoDataFrame) -> npt.NDArray[np.str_]:
    """The propagation environment at each point, from the unit type of its commune."""
    unit_type = locate(points, communes, key="unit_type").fillna("rural_commune")
    by_type = {t: environment_for_unit_type(t) for t in unit_type.unique()}
    return unit_type.map(by_type).to_numpy(dtype=str)


def siting_candidates(
    placed_positions: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    operator: str,
    *,
    structures: gpd.GeoDataFrame | None = None,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Other operators' positions with room (cost ``SHARE_COST``), other sectors' structures
    (``structures``, a ``host_structures`` layer already checked against the zones; cost
    ``STRUCTURE_COST``) and new builds at the demand.

    New builds stand at the demand villages' populated points at ``NEW_BUILD_HEIGHT_M``
    (``populated_points`` in ``metric_crs``).
    """
    room = (placed_positions["capacity"] > placed_positions["tenants"]).to_numpy()
    hosts = placed_positions[~hosts_operator(placed_positions["operators"], operator) & room]
    parts = [position_candidates(hosts, "share", SHARE_COST)]
    if structures is not None and not structures.empty:
        parts.append(structure_candidates(structures))
    parts.append(new_build_candidates(demand, metric_crs=metric_crs))
    return pd.concat(parts, ignore_index=True)


def _candidates(
    candidate_id: pd.Series,
    kind: str,
    height_m: npt.ArrayLike,
    cost: float,
    hosts: npt.ArrayLike,
    geometry: gpd.GeoSeries,
) -> gpd.GeoDataFrame:
    """Candidates in the shape ``propose_sites`` takes."""
    return gpd.GeoDataFrame(
        {
            "candidate_id": candidate_id.to_numpy(dtype=object),
            "kind": kind,
            "height_m": height_m,
            "cost": cost,
            "host_operators": hosts,
        },
        geometry=geometry.to_numpy(),
        crs=WGS84,
    )


def position_candidates(
    positions: gpd.GeoDataFrame, kind: str, cost: float, prefix: str = "P"
) -> gpd.GeoDataFrame:
    """Candidates on existing ``positions`` (a positions product's rows), all of one ``kind``
    and ``cost``, in the shape ``propose_sites`` takes."""
    return _candidates(
        prefix + positions["position_id"].astype(str),
        kind,
        positions["height_m"].to_numpy(),
        cost,
        positions["operators"].to_numpy(),
        positions.geometry.to_crs(WGS84),
    )


def structure_candidates(structures: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Candidates (kind ``structure``, cost ``STRUCTURE_COST``) on other sectors' structures
    (a ``host_structures`` layer), at their height; their owner stands for the host."""
    return _candidates(
        "S" + structures["structure_id"].astype(str),
        "structure",
        structures["height_m"].to_numpy(dtype=np.float64),
        STRUCTURE_COST,
        structures["owner"].fillna("").to_numpy(dtype=object),
        structures.geometry.to_crs(WGS84),
    )


def new_build_candidates(
    demand: gpd.GeoDataFrame, *, metric_crs: str | None = None
) -> gpd.GeoDataFrame:
    """New towers of ``NEW_BUILD_HEIGHT_M`` at the demand's populated points."""
    return _candidates(
        "N" + demand["code"].astype(str),
        "new_build",
        np.full(len(demand), NEW_BUILD_HEIGHT_M),
        NEW_BUILD_COST,
        np.full(len(demand), "", dtype=object),
        populated_points(demand, metric_crs=metric_crs),
    )


def populated_points(villages: gpd.GeoDataFrame, *, metric_crs: str | None = None) -> gpd.GeoSeries:
    """Each village's populated point: a point inside its polygon, computed in metres of
    ``metric_crs`` (default: the villages' area's), returned in WGS84."""
    crs = metric_crs or metric_crs_of(villages)
    metric = villages.geometry.to_crs(crs)
    return gpd.GeoSeries(shapely.point_on_surface(metric.to_numpy()), crs=crs).to_crs(WGS84)


def coverage_relation(
    demand_points: gpd.GeoSeries,
    candidates: gpd.GeoDataFrame,
    cell: PlannedCell,
    candidate_environment: npt.ArrayLike,
    *,
    metric_crs: str | None = None,
) -> tuple[sparse.csr_array, npt.NDArray[np.float64]]:
    """Which candidate covers which demand point, and each candidate's service range in metres.

    Distances are measured in ``metric_crs`` (default: the demand points' area's).
    """
    env = np.asarray(candidate_environment, dtype=str)
    heights = candidates["height_m"].to_numpy(dtype=float)
    range_m = np.zeros(len(candidates))
    for name in np.unique(env):  # three environments at most
        mask = env == name
        range_m[mask] = cell.range_m(heights[mask], name)
    crs = metric_crs or metric_crs_of(demand_points)
    demand_xy = demand_points.to_crs(crs).to_numpy()
    candidate_xy = candidates.geometry.to_crs(crs).to_numpy()
    tree = shapely.STRtree(demand_xy)
    cand, dem = tree.query(
        candidate_xy, predicate="dwithin", distance=float(range_m.max(initial=0))
    )
    dist = shapely.distance(candidate_xy[cand], demand_xy[dem])
    keep = dist <= range_m[cand]
    shape = (len(demand_xy), len(candidate_xy))
    cover = sparse.csr_array(
        (np.ones(int(keep.sum())), (dem[keep], cand[keep])), shape=shape, dtype=np.float64
    )
    return cover, range_m


@dataclass(frozen=True)
class SitingResult:
    """Chosen sites, the demand with its status, and the solver's figures."""

    proposals: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    solution: CoveringSolution


def propose_sites(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    *,
    cell: PlannedCell,
    budget: float | None = None,
    time_limit_s: float = 60.0,
    metric_crs: str | None = None,
) -> SitingResult:
    """Maximal covering within ``budget`` (cost units), or set covering when it is None.

    ``demand`` is villages (polygons with ``code`` and ``population``). The result lists each
    demand village as ``covered`` by a proposal, ``not_reached`` (coverable but not within the
    budget) or ``uncoverable`` (no candidate's range reaches it). Distances are measured in
    ``metric_crs`` (default: the communes' area's).
    """
    crs = metric_crs or metric_crs_of(communes)
    points = populated_points(demand, metric_crs=crs)
    env = environments(candidates.geometry, communes)
    cover, range_m = coverage_relation(points, candidates, cell, env, metric_crs=crs)
    problem = CoveringProblem(
        demand["population"].to_numpy(dtype=float), candidates["cost"].to_numpy(dtype=float), cover
    )
    if budget is None:
        solution = set_covering(problem, time_limit_s=time_limit_s)
    else:
        solution = maximal_covering(problem, budget, time_limit_s=time_limit_s)

    chosen = candidates.iloc[solution.selected].copy()
    chosen["environment"] = env[solution.selected]
    chosen["range_m"] = range_m[solution.selected]
    sub = cover[:, solution.selected]
    gained = demand["population"].to_numpy(dtype=float) @ (sub > 0).astype(float).toarray()
    chosen["villages_covered"] = np.asarray((sub > 0).sum(axis=0)).ravel()
    chosen["population_in_range"] = gained.astype("int64")
    chosen = chosen.sort_values(["population_in_range", "candidate_id"], ascending=[False, True])

    status = np.where(problem.coverable, "not_reached", "uncoverable")
    status[solution.covered] = "covered"
    served_by = pd.Series(pd.NA, index=demand.index, dtype="str")
    if len(solution.selected):
        proposal_ids = candidates["candidate_id"].to_numpy(dtype=str)[solution.selected]
        first = np.asarray(sub.argmax(axis=1)).ravel()
        served_by[solution.covered] = proposal_ids[first[solution.covered]]
    out = demand.copy()
    out["status"] = status
    out["served_by"] = served_by
    return SitingResult(chosen.reset_index(drop=True), out, solution)
