"""The industrial-zones job: 5G (outdoor and indoor), NB-IoT and LTE-M coverage of each zone from
the coverage rasters, the zones ranked by their gap to the 5G indoor target, and the cheapest 5G
additions closing the gaps.

Each zone is read in its own window of the coverage grid: memory is bounded by the largest zone,
not by the province.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.windows import Window, from_bounds

from gis_planner.admin import units
from gis_planner.catalogue.industry import INDUSTRY_ADDITIONS
from gis_planner.coverage.registry import JOB as COVERAGE_JOB
from gis_planner.crs import WGS84, metric_crs_of
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import Lang
from gis_planner.industry import (
    ZoneParams,
    ZoneSums,
    add_5g_candidates,
    close_gaps,
    demand_cells,
    zone_gaps,
)
from gis_planner.positions_product import read_positions
from gis_planner.products import ProductRecord, input_revisions, is_stale, layer_record
from gis_planner.store import LayerStore
from gis_planner.tables import write_xlsx

LAYERS = ("industry_zones", "industry_additions")
#: Source layers the study reads besides the coverage rasters.
INPUT_LAYERS = ("priority_areas", "positions", "sites", "cells", "admin_units")
TECHNOLOGIES = ("4G", "5G")


@dataclass(frozen=True)
class IndustrySpec:
    params: ZoneParams = field(default_factory=ZoneParams)
    #: Priority-area categories studied.
    categories: tuple[str, ...] = ("industrial_zone",)
    #: The coverage run read: a narrowed run's scope, "" for the province's.
    scope: str = ""
    budget: float | None = None
    time_limit_s: float = 60.0
    lang: Lang = "vi"


@dataclass(frozen=True)
class IndustryStudy:
    #: Zone × operator (and any): the measures' shares; any-operator rows ranked by gap.
    zones: pd.DataFrame
    additions: gpd.GeoDataFrame
    #: The zones' uncovered squares and whether the additions cover them.
    demand: gpd.GeoDataFrame
    inputs: dict[str, int]


def rsrp_rasters(store: LayerStore, scope: str) -> dict[tuple[str, str], ProductRecord]:
    """Each operator's 4G and 5G best-server RSRP raster of the coverage run ``scope``, by
    (operator, technology); a clear error when there is none or it is out of date."""
    found = {
        (r.operators[0], r.technologies[0]): r
        for r in store.products()
        if r.job == COVERAGE_JOB and r.kind == "raster" and r.scope == scope
        and r.path is not None and not Path(r.path).stem.startswith("any_")
        and len(r.operators) == 1 and r.technologies and r.technologies[0] in TECHNOLOGIES
        and any(b.name == "rsrp" for b in r.bands)
    }  # fmt: skip
    name = scope or "province"
    if not any(technology == "5G" for _, technology in found):
        raise GisPlannerError(
            f"no 5G coverage raster of scope {name!r}: run `gis-planner coverage` first"
        )
    revisions = store.layer_revisions()
    if any(is_stale(record, revisions) for record in found.values()):
        raise GisPlannerError(
            f"the coverage of scope {name!r} is out of date: run `gis-planner coverage` again"
        )
    return found


def study(spec: IndustrySpec, store: LayerStore) -> IndustryStudy:
    """The study of ``spec``, computed from the store and not written."""
    records = rsrp_rasters(store, spec.scope)
    inputs = input_revisions(store.layer_revisions(), INPUT_LAYERS)
    if not store.has_layer("priority_areas"):
        raise GisPlannerError("the store has no priority_areas layer: import the zones first")
    areas = store.read("priority_areas")
    zones = areas[areas["category"].isin(spec.categories)].reset_index(drop=True)
    if zones.empty:
        raise GisPlannerError(
            f"no priority area of category {', '.join(spec.categories)} in the store"
        )
    assert isinstance(zones, gpd.GeoDataFrame)
    sums, demand = _measure(zones, records, store, spec.params)
    table = sums.table(zones)
    gaps = zone_gaps(table, spec.params)
    # Only the any-operator rows are ranked: the target is the zone's, whoever serves it.
    ranked = gaps.assign(rank=np.arange(1, len(gaps) + 1))
    ranked = ranked[["area_id", "operator", "gap", "meets_target", "rank"]]
    table = table.merge(ranked, on=["area_id", "operator"], how="left")
    table = table.sort_values(["rank", "operator"], ignore_index=True)
    additions, covered = _additions(spec, store, demand)
    return IndustryStudy(table, additions, demand.assign(covered=covered), inputs)


def run(spec: IndustrySpec, store: LayerStore, out_dir: Path) -> tuple[IndustryStudy, Path]:
    """The study of ``spec`` written to the store's industry layers and to a workbook."""
    result = study(spec, store)
    parameters = {"building": spec.params.building, "bel_5g_db": round(spec.params.bel_5g_db, 2),
                  "bel_iot_db": round(spec.params.bel_iot_db, 2), "scope": spec.scope,
                  "target_share": spec.params.target_share, "budget": spec.budget}  # fmt: skip
    with store.transaction() as tx:
        for name, frame in (
            ("industry_zones", result.zones),
            ("industry_additions", result.additions),
        ):
            tx.write(name, frame)
            tx.register(layer_record("industry", name, parameters, result.inputs,
                                     technologies=TECHNOLOGIES))  # fmt: skip
    report = write_xlsx(
        out_dir / "industrial_zones.xlsx",
        {
            "zones": (result.zones, "industry_zones"),
            "additions": (result.additions, "industry_additions"),
        },
        spec.lang,
    )
    return result, report


def _measure(
    zones: gpd.GeoDataFrame,
    records: dict[tuple[str, str], ProductRecord],
    store: LayerStore,
    params: ZoneParams,
) -> tuple[ZoneSums, gpd.GeoDataFrame]:
    """The zones' sums and their uncovered 5G indoor pixels, one zone window at a time."""
    sums = ZoneSums(len(zones), params)
    datasets = {key: rasterio.open(store.assets_dir / str(r.path)) for key, r in records.items()}
    try:
        first = next(iter(datasets.values()))
        crs = first.crs.to_string()
        pixel_area_m2 = abs(first.transform.a * first.transform.e)
        metric = zones.to_crs(crs)
        xs, ys, ids = [], [], []
        indoor_5g = params.threshold_5g_dbm + params.bel_5g_db
        for position, geometry in enumerate(metric.geometry):
            window = _window(first, geometry)
            if window is None:
                continue
            labels = _labels(first, window, geometry, position + 1)
            rsrp: dict[str, dict[str, npt.NDArray[np.float32]]] = {}
            for (operator, technology), dataset in datasets.items():
                level = dataset.read(1, window=window, boundless=True, fill_value=-999.0)
                rsrp.setdefault(technology, {})[operator] = level.astype(np.float32)
            sums.add(labels, rsrp)
            fives = list(rsrp.get("5G", {}).values())
            best = np.maximum.reduce(fives) if fives else np.full(labels.shape, -999.0)
            rows, cols = np.nonzero((labels > 0) & (best < indoor_5g))
            x, y = rasterio.transform.xy(
                first.window_transform(window), rows, cols, offset="center"
            )
            xs.append(np.asarray(x, dtype=np.float64))
            ys.append(np.asarray(y, dtype=np.float64))
            ids.append(np.full(len(rows), zones["area_id"].iloc[position], dtype=object))
    finally:
        for dataset in datasets.values():
            dataset.close()
    demand = demand_cells(
        np.concatenate(xs) if xs else np.empty(0),
        np.concatenate(ys) if ys else np.empty(0),
        np.concatenate(ids) if ids else np.empty(0, dtype=object),
        pixel_area_m2,
        crs,
    )
    return sums, demand


def _window(dataset: rasterio.io.DatasetReader, geometry: shapely.Geometry) -> Window | None:
    """The window of ``dataset`` holding ``geometry`` (whole pixels), None outside it."""
    window = from_bounds(*geometry.bounds, transform=dataset.transform)
    window = window.round_offsets(op="floor").round_lengths(op="ceil")
    whole = Window(0, 0, dataset.width, dataset.height)
    try:
        return window.intersection(whole)
    except rasterio.errors.WindowError:
        return None


def _labels(
    dataset: rasterio.io.DatasetReader, window: Window, geometry: shapely.Geometry, label: int
) -> npt.NDArray[np.int32]:
    """``label`` on the window's pixels whose centre the zone holds; a zone too small to hold
    one takes the pixel of its representative point."""
    shape = (int(window.height), int(window.width))
    transform = dataset.window_transform(window)
    labels = rasterize([(geometry, label)], out_shape=shape, transform=transform, dtype="int32")
    if not labels.any():
        point = shapely.point_on_surface(geometry)
        row, col = rasterio.transform.rowcol(transform, point.x, point.y)
        if 0 <= row < shape[0] and 0 <= col < shape[1]:
            labels[row, col] = label
    return labels


def _additions(
    spec: IndustrySpec, store: LayerStore, demand: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, npt.NDArray[np.bool_]]:
    """The 5G additions, largest uncovered area served first, and which squares they cover."""
    columns = [f.name for f in INDUSTRY_ADDITIONS.fields]
    if demand.empty:
        empty = gpd.GeoDataFrame(columns=columns, geometry=[], crs=WGS84)
        return empty, np.zeros(0, dtype=bool)
    admin = store.read("admin_units")
    assert isinstance(admin, gpd.GeoDataFrame)
    crs = metric_crs_of(admin)
    candidates = add_5g_candidates(
        read_positions(store).table, store.read("cells"), demand, metric_crs=crs
    )
    result = close_gaps(
        demand,
        candidates,
        units(admin, "commune"),
        spec.params,
        budget=spec.budget,
        time_limit_s=spec.time_limit_s,
        metric_crs=crs,
    )
    proposals = result.proposals
    served = result.demand.dropna(subset=["served_by"])
    zones_served = served.groupby("served_by")["area_id"].agg(
        lambda ids: ",".join(sorted(set(ids)))
    )
    area_served = served.groupby("served_by")["population"].sum()
    proposals = proposals.assign(
        area_ids=proposals["candidate_id"].map(zones_served).fillna(""),
        area_served_m2=proposals["candidate_id"].map(area_served).fillna(0.0),
    ).sort_values(["area_served_m2", "candidate_id"], ascending=[False, True])
    covered = (result.demand["status"] == "covered").to_numpy()
    return proposals[[*columns, "geometry"]].reset_index(drop=True), covered
