"""Host candidates: other operators' positions that could carry a planned site, ranked.

The score (0–1, higher is better) is a weighted sum of five documented parts:

* ``distance``: 1 at the planned point, 0 at the search radius;
* ``overlap``: the share of the planned cell's service area that a cell hosted on the candidate
  would serve too (service ranges from ``siting.PlannedCell``, at the planned height on the
  planned point and at ``min(planned, structure)`` height on the candidate; areas as discs);
* ``height``: the structure's height over the required antenna height, capped at 1;
* ``capacity``: free tenant slots over the structure's capacity (0 when full);
* ``fibre``: 1 on a fibre route or node, 0 at ``FIBRE_REACH_M`` or beyond.

A full structure is still listed, as ineligible, after the eligible ones. Each candidate also
carries its province's sharing ratio if the site were hosted there ("what-if"), beside the
ratio now and the ratio if the site were built on a new position in that province.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gis_planner.admin import units
from gis_planner.crs import WGS84, lonlat_to_metric, metric_crs_of
from gis_planner.errors import GisPlannerError
from gis_planner.radio import Environment, environment_for_unit_type
from gis_planner.sharing import hosts_operator
from gis_planner.siting import PlannedCell, planned_cell

#: Search radius by propagation environment (metres).
SEARCH_RADIUS_M: dict[str, float] = {"urban": 300.0, "suburban": 500.0, "rural": 1_000.0}
#: Layers whose geometry counts as fibre for the distance part of the score.
FIBRE_LAYERS = ("fibre_routes", "fibre_nodes")
#: Beyond this distance a candidate gets no credit for fibre.
FIBRE_REACH_M = 2_000.0


@dataclass(frozen=True)
class HostWeights:
    """Weights of the score's parts; they sum to 1."""

    distance: float = 0.25
    overlap: float = 0.30
    height: float = 0.20
    capacity: float = 0.15
    fibre: float = 0.10


@dataclass(frozen=True)
class PlannedSite:
    """A site an operator plans: where, for whom, how high, which technology."""

    lon: float
    lat: float
    operator: str
    height_m: float = 30.0
    technology: str = "4G"


CANDIDATE_COLUMNS = (
    "rank", "position_id", "operators", "site_ids", "tower_type", "height_m", "tenants",
    "capacity", "free_slots", "eligible", "distance_m", "fibre_distance_m", "overlap_share",
    "score_distance", "score_overlap", "score_height", "score_capacity", "score_fibre", "score",
    "ratio_now", "ratio_if_hosted", "ratio_if_new_build", "site_ratio_now", "site_ratio_if_hosted",
)  # fmt: skip


@dataclass
class HostIndex:
    """Positions prepared once for many host queries (metres, spatial index, fibre distance).

    Distances are measured in ``metric_crs`` (default: the communes' area's). The what-if
    ratios are by province when the positions carry a ``province_code`` (a positions product
    placed by ``sharing.place_positions``), else over all the positions.
    """

    positions: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    fibre: gpd.GeoSeries | None = None
    weights: HostWeights = field(default_factory=HostWeights)
    metric_crs: str | None = None

    def __post_init__(self) -> None:
        self._crs = self.metric_crs or metric_crs_of(self.communes)
        metric = self.positions.geometry.to_crs(self._crs).to_numpy()
        self._xy = shapely.get_coordinates(metric)
        self._tree = shapely.STRtree(metric)
        self._fibre_m = np.full(len(metric), np.inf)
        if self.fibre is not None and len(self.fibre):
            fibre_tree = shapely.STRtree(self.fibre.to_crs(self._crs).to_numpy())
            (point_idx, _), dist = fibre_tree.query_nearest(metric, return_distance=True)
            np.minimum.at(self._fibre_m, point_idx, dist)
        self._geometry = self.positions.geometry.to_numpy()
        self._columns = {
            name: self.positions[name].to_numpy()
            for name in ("position_id", "operators", "site_ids", "tower_type", "n_sites")
        }
        self._columns["height_m"] = self.positions["height_m"].to_numpy(dtype=np.float64)
        self._columns["capacity"] = self.positions["capacity"].to_numpy(dtype=np.int64)
        self._columns["tenants"] = self.positions["tenants"].to_numpy(dtype=np.int64)
        self._communes_tree = shapely.STRtree(self.communes.geometry.to_numpy())
        self._unit_types = self.communes["unit_type"].to_numpy(dtype=object)
        # Each position's province (positions outside every province make one group of their
        # own), and the counts of each province the what-if starts from.
        province = (
            self.positions["province_code"].fillna("").astype(str).to_numpy()
            if "province_code" in self.positions
            else np.zeros(len(self.positions), dtype=str)
        )
        self._province = np.unique(province, return_inverse=True)[1]
        tenants = self.positions["tenants"].to_numpy()
        n_sites = self.positions["n_sites"].to_numpy()
        shared = tenants >= 2
        self._positions_in = np.bincount(self._province)
        self._shared_in = np.bincount(self._province, weights=shared)
        self._sites_in = np.bincount(self._province, weights=n_sites)
        self._sites_on_shared_in = np.bincount(self._province, weights=n_sites * shared)

    @property
    def crs(self) -> str:
        """The metric CRS the index measures in."""
        return self._crs

    @classmethod
    def from_layers(
        cls,
        positions: gpd.GeoDataFrame,
        admin_units: gpd.GeoDataFrame,
        fibre: Sequence[gpd.GeoDataFrame] = (),
        *,
        metric_crs: str | None = None,
    ) -> HostIndex:
        """The index of positions (a positions product), the pre-2025 communes and any fibre
        layers (routes, nodes), in ``metric_crs`` (default: the admin units' area's)."""
        geometry = (
            gpd.GeoSeries(pd.concat([f.geometry.to_crs(WGS84) for f in fibre]), crs=WGS84)
            if fibre
            else None
        )
        return cls(
            positions.reset_index(drop=True),
            units(admin_units, "commune"),
            geometry,
            metric_crs=metric_crs or metric_crs_of(admin_units),
        )

    def candidates(
        self, site: PlannedSite, radius_m: float | None = None, cell: PlannedCell | None = None
    ) -> gpd.GeoDataFrame:
        """Other operators' positions within the radius of ``site``, best first."""
        if site.height_m <= 0:
            raise GisPlannerError(f"required antenna height must be positive, got {site.height_m}")
        cell = cell or planned_cell(site.technology)
        x, y = (float(v) for v in lonlat_to_metric(site.lon, site.lat, self._crs))
        environment = self._environment(site.lon, site.lat)
        radius = SEARCH_RADIUS_M[environment] if radius_m is None else float(radius_m)
        if radius < 0:
            raise GisPlannerError(f"search radius must not be negative, got {radius_m} m")
        found = self._tree.query(shapely.Point(x, y), predicate="dwithin", distance=radius)
        others = ~hosts_operator(self.positions["operators"].iloc[found], site.operator)
        idx = np.sort(found[others])

        columns = {name: self._columns[name][idx] for name in self._columns}
        height, capacity, tenants = columns["height_m"], columns["capacity"], columns["tenants"]
        distance = np.hypot(self._xy[idx, 0] - x, self._xy[idx, 1] - y)
        free = np.clip(capacity - tenants, 0, None)
        planned_range = float(cell.range_m(site.height_m, environment))
        hosted_range = cell.range_m(np.minimum(height, site.height_m), environment)
        overlap = disc_overlap_share(planned_range, hosted_range, distance)
        fibre_m = self._fibre_m[idx]
        parts = {
            # A zero radius finds only positions on the point itself: full distance credit.
            "distance": 1.0 - np.clip(distance / max(radius, 1e-9), 0.0, 1.0),
            "overlap": overlap,
            "height": np.minimum(height / site.height_m, 1.0),
            "capacity": free / capacity,
            "fibre": 1.0 - np.clip(fibre_m / FIBRE_REACH_M, 0.0, 1.0),
        }
        columns.update({f"score_{name}": values for name, values in parts.items()})
        columns["score"] = sum(getattr(self.weights, name) * v for name, v in parts.items())
        columns["distance_m"] = distance
        columns["fibre_distance_m"] = np.where(np.isfinite(fibre_m), fibre_m, np.nan)
        columns["overlap_share"] = overlap
        columns["free_slots"] = free
        columns["eligible"] = free > 0
        columns.update(self._what_if(idx, tenants, columns["n_sites"]))
        order = np.lexsort((columns["position_id"], -columns["score"], ~columns["eligible"]))
        columns = {name: values[order] for name, values in columns.items()}
        columns["rank"] = np.arange(1, len(order) + 1)
        geometry = self._geometry[idx][order]
        table = {name: columns[name] for name in CANDIDATE_COLUMNS}
        return gpd.GeoDataFrame(table, geometry=geometry, crs=WGS84)

    def _environment(self, lon: float, lat: float) -> Environment:
        """Propagation environment at a point, from its commune's unit type (rural outside)."""
        hits = self._communes_tree.query(shapely.Point(lon, lat), predicate="intersects")
        unit_type = self._unit_types[hits.min()] if len(hits) else "rural_commune"
        return environment_for_unit_type(str(unit_type))

    def _what_if(
        self,
        idx: npt.NDArray[np.int64],
        tenants: npt.NDArray[np.int64],
        n_sites: npt.NDArray[np.int64],
    ) -> dict[str, npt.NDArray[np.float64]]:
        """Ratios of each candidate's (row ``idx``) province now, if hosted on the candidate,
        and if built on a new position."""
        province = self._province[idx]
        n_positions = self._positions_in[province]
        shared, sites = self._shared_in[province], self._sites_in[province]
        sites_on_shared = self._sites_on_shared_in[province]
        becomes_shared = (tenants == 1).astype(np.float64)
        joining = 1 + becomes_shared * n_sites
        return {
            "ratio_now": shared / n_positions,
            "ratio_if_hosted": (shared + becomes_shared) / n_positions,
            "ratio_if_new_build": shared / (n_positions + 1),
            "site_ratio_now": sites_on_shared / sites,
            "site_ratio_if_hosted": (sites_on_shared + joining) / (sites + 1),
        }


def disc_overlap_share(
    r_planned: float, r_hosted: npt.NDArray[np.float64], dist_m: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Area of the intersection of two discs over the planned disc's area (lens formula)."""
    r1 = float(r_planned)
    r2 = np.asarray(r_hosted, dtype=np.float64)
    d = np.asarray(dist_m, dtype=np.float64)
    if r1 <= 0:
        return np.zeros_like(d)
    with np.errstate(invalid="ignore", divide="ignore"):
        a1 = np.arccos(np.clip((d**2 + r1**2 - r2**2) / (2 * d * r1), -1, 1))
        a2 = np.arccos(np.clip((d**2 + r2**2 - r1**2) / (2 * d * r2), -1, 1))
        kite = (-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2)
        lens = r1**2 * a1 + r2**2 * a2 - 0.5 * np.sqrt(np.clip(kite, 0, None))
    inside = d <= np.abs(r1 - r2)
    area = np.where(inside, np.pi * np.minimum(r1, r2) ** 2, np.where(d >= r1 + r2, 0.0, lens))
    return np.clip(area / (np.pi * r1**2), 0.0, 1.0)
