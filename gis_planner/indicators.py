"""The plan's indicators: measured from the layers by unit of both administrative versions.

Targets live in ``data/plan_targets.csv`` (value, year and the document each comes from), each
with the area its plan governs (``area_version``, ``area_code``: the Hà Nam plans govern the
former Hà Nam province, not the new Ninh Bình province it joined). A plan governs the units of its
area and the communes of the other administrative version formed wholly from (or wholly into) it;
a unit no plan governs is reported as ``no plan``, never judged. Users add plans for other areas
as rows of a CSV of the same columns (an empty area: the whole store).
Measured indicators are ratios of a numerator and a denominator summed over items placed in
units: villages (mobile broadband, FTTH, 5G population), positions (sharing) and priority areas
(5G). A village belongs to its pre-2025 commune and, through the crosswalk, to a 2025 commune:
where the crosswalk splits its old commune, to the one of the listed new communes it lies in (the
crosswalk's default one if it lies in none). Positions and priority areas are placed by
location in each version. Indicators no layer can measure (subscriptions, speeds) are entered
as figures and reported beside the measured ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from io import StringIO
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.admin import locate, units
from gis_planner.catalogue.layers import ADMIN_VERSIONS
from gis_planner.crs import metric_crs_of
from gis_planner.errors import GisPlannerError

#: Unit columns of placed items: (admin version, level, column).
UNIT_COLUMNS = (
    ("pre2025", "province", "province_pre2025"),
    ("pre2025", "district", "district_pre2025"),
    ("pre2025", "commune", "commune_pre2025"),
    ("2025-07", "province", "province_2025"),
    ("2025-07", "commune", "commune_2025"),
)
#: Share of a priority area above the 5G threshold for it to count as served (the village rule).
VILLAGE_SHARE = 0.95
INDICATOR_COLUMNS = (
    "indicator", "admin_version", "level", "code", "name", "numerator", "denominator", "value",
    "target", "target_high", "year", "status", "document",
)  # fmt: skip
#: The status of a unit that no loaded plan governs.
NO_PLAN = "no plan"


@dataclass(frozen=True)
class PlanTargets:
    """The targets table: one row per indicator key."""

    table: pd.DataFrame

    def row(self, key: str) -> pd.Series:
        """The first target of ``key`` (its labels, unit and, in the bundled table, its value)."""
        return self.rows(key).iloc[0]

    def rows(self, key: str) -> pd.DataFrame:
        """Every target of ``key``: one per area a plan governs."""
        matches = self.table[self.table["key"] == key]
        if matches.empty:
            raise GisPlannerError(f"no plan target {key!r}")
        return matches

    @property
    def measured(self) -> pd.DataFrame:
        return self.table[self.table["measured"]]

    @property
    def entered(self) -> pd.DataFrame:
        return self.table[~self.table["measured"]]


def plan_targets(path: Path | None = None) -> PlanTargets:
    """The targets bundled with the package, or those of a CSV of the same columns."""
    text = (
        path.read_text(encoding="utf-8")
        if path
        else files("gis_planner").joinpath("data/plan_targets.csv").read_text(encoding="utf-8")
    )
    table = pd.read_csv(StringIO(text), dtype={"key": str, "area_version": str, "area_code": str})
    table["measured"] = table["measured"].astype(str).str.lower().eq("true")
    for column in ("area_version", "area_code"):
        if column not in table:
            table[column] = pd.NA
    unknown = sorted(set(table["area_version"].dropna()) - set(ADMIN_VERSIONS))
    if unknown:
        raise GisPlannerError(
            f"plan targets: unknown area_version {', '.join(unknown)} "
            f"(one of {', '.join(ADMIN_VERSIONS)}, or empty for the whole store)"
        )
    return PlanTargets(table)


def first_units(plan: str, path: Path | None = None) -> tuple[str, ...]:
    """The codes of the units a plan names to go first (``five_g_first``: 5G first in Phủ Lý
    and Lý Nhân), from the bundled table or a CSV of the same columns."""
    text = (
        path.read_text(encoding="utf-8")
        if path
        else files("gis_planner").joinpath("data/plan_first_units.csv").read_text(encoding="utf-8")
    )
    table = pd.read_csv(StringIO(text), dtype=str)
    return tuple(table.loc[table["plan"] == plan, "code"])


def area_units(
    admin_units: pd.DataFrame, crosswalk: pd.DataFrame, version: str, code: str
) -> set[tuple[str, str]]:
    """The units, as (admin version, code), of the area of unit ``code`` of ``version`` (what
    a plan for it governs, what a report on it shows): that unit, every unit below it, and the
    communes of the other version whose every counterpart in the crosswalk is one of its
    communes.

    Units of the other version above the commune are never governed: the new province that
    the former Hà Nam joined is not the former Hà Nam, whatever part of it a store holds.
    """
    same = admin_units[admin_units["admin_version"] == version]
    inside = {code}
    frontier = {code}
    while frontier:
        below = set(same.loc[same["parent_code"].isin(list(frontier)), "code"])
        frontier = below - inside
        inside |= below
    communes = same.loc[(same["level"] == "commune") & same["code"].isin(list(inside)), "code"]
    mine, theirs = ("old_code", "new_code") if version == "pre2025" else ("new_code", "old_code")
    other = ADMIN_VERSIONS[1 - ADMIN_VERSIONS.index(version)]
    links = crosswalk[[mine, theirs]].astype(str)
    wholly = links[mine].isin(set(communes)).groupby(links[theirs]).all()
    return {(version, c) for c in inside} | {(other, c) for c in wholly[wholly].index}


def status(value: float, target: float, target_high: float | None = None) -> str:
    """``met`` (at or above the target), ``not met``, or ``no data``; ``in range`` between marks."""
    if value is None or np.isnan(value):
        return "no data"
    if target_high is not None and not np.isnan(target_high) and target <= value < target_high:
        return "in range"
    return "met" if value >= target - 1e-9 else "not met"


def village_places(
    villages: gpd.GeoDataFrame, admin_units: gpd.GeoDataFrame, crosswalk: pd.DataFrame
) -> pd.DataFrame:
    """Each village's units in both versions (codes), indexed like ``villages``."""
    communes = units(admin_units, "commune", "pre2025")
    parent = communes.set_index("code")["parent_code"]
    districts = units(admin_units, "district", "pre2025").set_index("code")["parent_code"]
    places = pd.DataFrame({"village_code": villages["code"].to_numpy()}, index=villages.index)
    places["commune_pre2025"] = villages["commune_code"].to_numpy()
    places["district_pre2025"] = places["commune_pre2025"].map(parent)
    places["province_pre2025"] = places["district_pre2025"].map(districts)

    new_communes = units(admin_units, "commune", "2025-07")
    points = villages.geometry.representative_point()
    located = locate(points, new_communes)
    links = crosswalk[["old_code", "new_code", "is_default"]].astype({"is_default": bool})
    pairs = places[["commune_pre2025"]].assign(
        located=located.to_numpy(), row=np.arange(len(places))
    )
    pairs = pairs.merge(links, left_on="commune_pre2025", right_on="old_code", how="left")
    # Prefer the listed new commune the village lies in, then the crosswalk's default.
    pairs["rank"] = np.where(
        pairs["new_code"] == pairs["located"], 0, np.where(pairs["is_default"], 1, 2)
    )
    best = pairs.sort_values(["row", "rank"]).drop_duplicates("row").set_index("row")["new_code"]
    places["commune_2025"] = best.reindex(np.arange(len(places))).to_numpy()
    new_parent = new_communes.set_index("code")["parent_code"]
    places["province_2025"] = places["commune_2025"].map(new_parent)
    return places


def point_places(points: gpd.GeoSeries, admin_units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Units of points (positions, priority areas) in both versions, by location.

    A point inside a commune of one version but in none of the other's (a sliver between two
    sources' outlines) goes to the other version's nearest commune, so that each version
    counts the same points and a province sums its former provinces.
    """
    places = pd.DataFrame(index=points.index)
    metric = points.to_crs(metric_crs_of(admin_units))
    communes = {v: units(admin_units, "commune", v).to_crs(metric.crs) for v in ADMIN_VERSIONS}
    located = {v: locate(metric, communes[v]) for v in ADMIN_VERSIONS}
    for version, other in zip(ADMIN_VERSIONS, reversed(ADMIN_VERSIONS), strict=True):
        here = located[version].copy()
        astray = (here.isna() & located[other].notna()).to_numpy()
        if astray.any():
            tree = shapely.STRtree(communes[version].geometry.to_numpy())
            nearest = tree.query_nearest(metric.to_numpy()[astray], all_matches=False)[1]
            here[astray] = communes[version]["code"].to_numpy()[nearest]
        suffix = "pre2025" if version == "pre2025" else "2025"
        places[f"commune_{suffix}"] = here.to_numpy()
        parent = communes[version].set_index("code")["parent_code"]
        if version == "pre2025":
            places["district_pre2025"] = places["commune_pre2025"].map(parent)
            top = units(admin_units, "district", version).set_index("code")["parent_code"]
            places["province_pre2025"] = places["district_pre2025"].map(top)
        else:
            places["province_2025"] = places["commune_2025"].map(parent)
    return places


def aggregate(items: pd.DataFrame, admin_units: pd.DataFrame) -> pd.DataFrame:
    """Sums of ``numerator`` and ``denominator`` of placed items by every unit; value in %."""
    names = admin_units.set_index(["admin_version", "code"])["name"]
    parts = []
    for version, level, column in UNIT_COLUMNS:
        placed = items[items[column].notna()]
        sums = placed.groupby(column)[["numerator", "denominator"]].sum().reset_index()
        sums = sums.rename(columns={column: "code"})
        sums.insert(0, "level", level)
        sums.insert(0, "admin_version", version)
        sums["name"] = [names.get((version, code), code) for code in sums["code"]]
        parts.append(sums)
    table = pd.concat(parts, ignore_index=True)
    denominator = table["denominator"].to_numpy(dtype=float)
    table["value"] = np.divide(
        100.0 * table["numerator"].to_numpy(dtype=float),
        denominator,
        out=np.full(len(table), np.nan),
        where=denominator > 0,
    )
    return table


@dataclass(frozen=True)
class IndicatorInputs:
    """The analyses' layers the indicators are measured from (any may be missing)."""

    villages: gpd.GeoDataFrame
    admin_units: gpd.GeoDataFrame
    crosswalk: pd.DataFrame
    coverage_villages: pd.DataFrame | None = None
    coverage_areas: pd.DataFrame | None = None
    ftth_villages: pd.DataFrame | None = None
    positions: gpd.GeoDataFrame | None = None
    priority_areas: gpd.GeoDataFrame | None = None


def measure_items(inputs: IndicatorInputs) -> dict[str, pd.DataFrame]:
    """Placed items (numerator, denominator, unit codes) of every measurable indicator."""
    places = village_places(inputs.villages, inputs.admin_units, inputs.crosswalk)
    by_village = places.set_index("village_code")
    items: dict[str, pd.DataFrame] = {}
    if inputs.coverage_villages is not None:
        rows = inputs.coverage_villages[inputs.coverage_villages["operator"] == "any"]
        four_g = rows[rows["technology"] == "4G"].set_index("village_code")
        if len(four_g):
            items["villages_mobile_broadband"] = by_village.join(
                four_g["covered"].astype(float).rename("numerator"), how="inner"
            ).assign(denominator=1.0)
        five_g = rows[rows["technology"] == "5G"].set_index("village_code")
        if len(five_g):
            items["population_5g"] = by_village.join(
                five_g[["covered_population", "population"]].rename(
                    columns={"covered_population": "numerator", "population": "denominator"}
                ),
                how="inner",
            )
    if inputs.ftth_villages is not None:
        ftth = inputs.ftth_villages.set_index("code")["covered"].astype(float)
        items["villages_ftth"] = by_village.join(ftth.rename("numerator"), how="inner").assign(
            denominator=1.0
        )
    if inputs.positions is not None:
        placed = point_places(inputs.positions.geometry, inputs.admin_units)
        placed["numerator"] = inputs.positions["shared"].astype(float).to_numpy()
        items["bts_position_sharing"] = placed.assign(denominator=1.0)
    if inputs.priority_areas is not None and inputs.coverage_areas is not None:
        rows = inputs.coverage_areas
        five_g = rows[
            (rows["level"] == "priority_area")
            & (rows["technology"] == "5G")
            & (rows["operator"] == "any")
        ].set_index("code")["area_share"]
        areas = inputs.priority_areas
        placed = point_places(areas.geometry.representative_point(), inputs.admin_units)
        share = areas["area_id"].map(five_g).to_numpy(dtype=float)
        if not np.isnan(share).all():
            # An area "has 5G" on the village rule: 95 % of it above the 5G threshold.
            placed["numerator"] = (share >= VILLAGE_SHARE).astype(float)
            items["priority_areas_5g"] = placed[~np.isnan(share)].assign(denominator=1.0)
    return items


def indicators(inputs: IndicatorInputs, targets: PlanTargets | None = None) -> pd.DataFrame:
    """Every measurable indicator by unit of both versions, with the target of the plan that
    governs the unit and its status (``no plan`` where none does)."""
    targets = targets or plan_targets()
    parts = []
    areas: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for key, items in measure_items(inputs).items():
        table = aggregate(items, inputs.admin_units)
        table.insert(0, "indicator", key)
        units = pd.MultiIndex.from_arrays([table["admin_version"], table["code"].astype(str)])
        table["target"] = table["target_high"] = np.nan
        table["year"] = pd.array([pd.NA] * len(table), dtype="Int64")
        table["document"] = pd.array([pd.NA] * len(table), dtype="string")
        # Plans for the whole store first, so that a plan for an area wins inside it.
        rows = targets.rows(key)
        for _, target in rows.sort_values("area_code", na_position="first").iterrows():
            if pd.isna(target["area_code"]):
                governed = np.ones(len(table), dtype=bool)
            else:
                area = (str(target["area_version"]), str(target["area_code"]))
                if area not in areas:
                    areas[area] = area_units(inputs.admin_units, inputs.crosswalk, *area)
                governed = units.isin(list(areas[area]))
            table.loc[governed, "target"] = float(target["target"])
            high = target["target_high"]
            table.loc[governed, "target_high"] = float(high) if pd.notna(high) else np.nan
            table.loc[governed, "year"] = int(target["year"])
            table.loc[governed, "document"] = target["document"]
        table["status"] = [
            NO_PLAN if np.isnan(t) else status(v, t, h)
            for v, t, h in zip(table["value"], table["target"], table["target_high"], strict=True)
        ]
        parts.append(table)
    if not parts:
        return pd.DataFrame(columns=list(INDICATOR_COLUMNS))
    return pd.concat(parts, ignore_index=True).loc[:, list(INDICATOR_COLUMNS)]


def entered_figures(
    figures: pd.DataFrame | None, targets: PlanTargets | None = None
) -> pd.DataFrame:
    """The indicators no layer measures, with the figures entered for them (``key``, ``value``,
    ``as_of``, ``source``), their targets and status; ``no data`` where nothing was entered."""
    targets = targets or plan_targets()
    table = targets.entered[["key", "label_vi", "label_en", "unit", "target", "year", "document"]]
    if figures is not None:
        unknown = sorted(set(figures["key"]) - set(targets.table["key"]))
        if unknown:
            raise GisPlannerError(f"figures for unknown indicators: {', '.join(unknown)}")
        table = table.merge(figures[["key", "value", "as_of", "source"]], on="key", how="left")
    else:
        table = table.assign(value=np.nan, as_of=pd.NA, source=pd.NA)
    table["status"] = [
        status(float(v), float(t)) for v, t in zip(table["value"], table["target"], strict=True)
    ]
    return table.reset_index(drop=True)
