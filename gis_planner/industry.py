"""5G and IoT in industrial zones: outdoor and indoor 5G coverage, NB-IoT and LTE-M coverage,
the zones furthest from the target, and the cheapest 5G additions that close each gap.

Each measure counts a zone's pixels where a technology's best-server level reaches a threshold
(``coverage.stats.LevelSums``, which add up across windows):

* 5G outdoor: SS-RSRP ≥ the 5G threshold (DOMAIN.md: −110 dBm);
* 5G indoor: SS-RSRP minus the building entry loss at the 5G band ≥ the threshold;
* LTE-M and NB-IoT indoor, NB-IoT outdoor: the 4G RSRP, minus the building entry loss at the
  IoT band indoors, ≥ the 4G threshold lowered by the access's extra coupling-loss budget
  (``radio.indoor``).

A zone meets the target when its any-operator 5G indoor share reaches ``target_share``. Its gap
is closed by 5G cells chosen by set covering (``siting.propose_sites``): a 5G radio on an
existing position with no 5G yet (cheapest), else a new tower at the uncovered pixels. The
demand is the zone's uncovered pixels gathered in ``DEMAND_CELL_M`` squares weighted by area, and
a candidate serves a square where the planned 5G cell's indoor level (its threshold raised by
the building entry loss) reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gis_planner.coverage.stats import ANY_OPERATOR, LevelSums, with_any
from gis_planner.crs import WGS84
from gis_planner.radio.indoor import BuildingType, building_entry_loss_db, iot_extra_budget_db
from gis_planner.sharing import members
from gis_planner.siting import (
    PlannedCell,
    SitingResult,
    new_build_candidates,
    planned_cell,
    position_candidates,
    propose_sites,
)

#: Side of the squares the uncovered pixels of a zone are gathered in as demand (m).
DEMAND_CELL_M = 100.0
#: Relative cost of a 5G radio on an existing position (a new tower costs 1, as in siting).
ADD_5G_COST = 0.3


@dataclass(frozen=True)
class ZoneParams:
    """What the zones are measured against; defaults from DOMAIN.md and ``radio.indoor``."""

    threshold_5g_dbm: float = -110.0
    threshold_4g_dbm: float = -110.0
    building: BuildingType = "traditional"
    band_5g_mhz: float = 3500.0
    #: NB-IoT and LTE-M ride on LTE; 900 MHz is the band that reaches furthest indoors.
    band_iot_mhz: float = 900.0
    target_share: float = 0.95

    @property
    def bel_5g_db(self) -> float:
        return building_entry_loss_db(self.band_5g_mhz, self.building)

    @property
    def bel_iot_db(self) -> float:
        return building_entry_loss_db(self.band_iot_mhz, self.building)

    def measures(self) -> dict[str, tuple[str, float]]:
        """Measure → (technology whose RSRP it reads, threshold in dBm)."""
        nbiot = self.threshold_4g_dbm - iot_extra_budget_db("NB-IoT")
        ltem = self.threshold_4g_dbm - iot_extra_budget_db("LTE-M")
        return {
            "5g_outdoor": ("5G", self.threshold_5g_dbm),
            "5g_indoor": ("5G", self.threshold_5g_dbm + self.bel_5g_db),
            "nbiot_outdoor": ("4G", nbiot),
            "nbiot_indoor": ("4G", nbiot + self.bel_iot_db),
            "ltem_indoor": ("4G", ltem + self.bel_iot_db),
        }


class ZoneSums:
    """The measures' pixel sums of each zone, per operator and for any operator."""

    def __init__(self, n_zones: int, params: ZoneParams) -> None:
        self.params = params
        self.sums = {
            measure: LevelSums.empty(n_zones, threshold)
            for measure, (_, threshold) in params.measures().items()
        }

    def add(
        self,
        labels: npt.NDArray[np.int32],
        rsrp: Mapping[str, Mapping[str, npt.NDArray[np.float32]]],
    ) -> None:
        """Add a window: its zone labels (row + 1, 0 outside) and, by technology, each
        operator's best-server RSRP on the same pixels."""
        for measure, (technology, _) in self.params.measures().items():
            if technology in rsrp:
                self.sums[measure].add(labels, with_any(rsrp[technology]))

    def table(self, zones: pd.DataFrame) -> pd.DataFrame:
        """One row per zone × operator (and ``any``): each measure's share of the zone."""
        layers = sorted({layer for s in self.sums.values() for layer in s.covered})
        frames = []
        for layer in layers:
            frame = pd.DataFrame(
                {
                    "area_id": zones["area_id"].to_numpy(),
                    "name": zones["name"].to_numpy(),
                    "operator": layer,
                    "pixels": next(iter(self.sums.values())).pixels[1:],
                }
            )
            for measure, sums in self.sums.items():
                frame[f"{measure}_share"] = sums.share(layer) if layer in sums.covered else np.nan
            frames.append(frame)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def zone_gaps(table: pd.DataFrame, params: ZoneParams) -> pd.DataFrame:
    """The zones by how far their any-operator 5G indoor share is below the target, furthest
    first, with whether they meet it."""
    rows = table[table["operator"] == ANY_OPERATOR].copy()
    rows["gap"] = (params.target_share - rows["5g_indoor_share"].fillna(0.0)).clip(lower=0.0)
    rows["meets_target"] = rows["gap"] == 0.0
    return rows.sort_values(["gap", "area_id"], ascending=[False, True]).reset_index(drop=True)


def demand_cells(
    x_m: npt.NDArray[np.float64],
    y_m: npt.NDArray[np.float64],
    zone_ids: npt.NDArray[np.object_],
    pixel_area_m2: float,
    crs: str,
) -> gpd.GeoDataFrame:
    """The uncovered pixels (centres in metres of ``crs``) of each zone gathered in squares of
    ``DEMAND_CELL_M``: one demand polygon per zone and square, weighted by the area it holds
    (as ``population``, the weight the covering solvers take), in WGS84."""
    if not len(x_m):
        return gpd.GeoDataFrame(
            {"code": [], "area_id": [], "population": []}, geometry=[], crs=WGS84
        )
    col = np.floor(x_m / DEMAND_CELL_M).astype(np.int64)
    row = np.floor(y_m / DEMAND_CELL_M).astype(np.int64)
    pixels = pd.DataFrame({"area_id": zone_ids, "col": col, "row": row})
    cells = pixels.groupby(["area_id", "col", "row"]).size().rename("pixels").reset_index()
    west = cells["col"].to_numpy() * DEMAND_CELL_M
    south = cells["row"].to_numpy() * DEMAND_CELL_M
    squares = shapely.box(west, south, west + DEMAND_CELL_M, south + DEMAND_CELL_M)
    codes = (
        cells["area_id"].astype(str)
        + ":"
        + cells["col"].astype(str)
        + ":"
        + cells["row"].astype(str)
    )
    frame = gpd.GeoDataFrame(
        {
            "code": codes.to_numpy(),
            "area_id": cells["area_id"].to_numpy(),
            "population": cells["pixels"].to_numpy() * pixel_area_m2,
        },
        geometry=squares,
        crs=crs,
    )
    return frame.to_crs(WGS84)


def add_5g_candidates(
    positions: gpd.GeoDataFrame,
    cells: pd.DataFrame,
    demand: gpd.GeoDataFrame,
    *,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Positions without any 5G cell (a 5G radio added, ``ADD_5G_COST``) and new towers at the
    demand squares (cost 1), in the shape ``siting.propose_sites`` takes."""
    sites = members(positions)
    with_5g = cells.loc[cells["technology"] == "5G", ["operator", "site_id"]].astype(str)
    has_5g = sites.merge(with_5g.drop_duplicates(), on=["operator", "site_id"], how="inner")
    free = positions[~positions["position_id"].isin(has_5g["position_id"])]
    return pd.concat(
        [
            position_candidates(free, "add_5g", ADD_5G_COST),
            new_build_candidates(demand, metric_crs=metric_crs),
        ],
        ignore_index=True,
    )


def indoor_cell(params: ZoneParams) -> PlannedCell:
    """The planned 5G cell, serving where its level indoors reaches the threshold."""
    return replace(planned_cell("5G"), threshold_dbm=params.threshold_5g_dbm + params.bel_5g_db)


def close_gaps(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    params: ZoneParams,
    *,
    budget: float | None = None,
    time_limit_s: float = 60.0,
    metric_crs: str | None = None,
) -> SitingResult:
    """The cheapest 5G additions covering every demand square that can be (or the most area
    within ``budget``)."""
    return propose_sites(
        demand,
        candidates,
        communes,
        cell=indoor_cell(params),
        budget=budget,
        time_limit_s=time_limit_s,
        metric_crs=metric_crs,
    )
