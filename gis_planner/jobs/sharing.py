"""The sharing job: positions, sharing ratios and the consolidation plan, into the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gis_planner.admin import unit_names, units
from gis_planner.consolidation import DEFAULT_MERGE_DISTANCE_M, consolidation_plan
from gis_planner.crs import metric_crs_of
from gis_planner.i18n import Lang
from gis_planner.positions_product import JOB, layer_revision, positions_record
from gis_planner.products import ProductArea, input_revisions, layer_record
from gis_planner.sharing import DEFAULT_TOLERANCE_M, place_positions, position_ratios, positions
from gis_planner.store import LayerStore
from gis_planner.tables import write_csv, write_xlsx

#: The layers the job writes (one transaction, each with the positions' record).
LAYERS = ("positions", "sharing_ratios", "consolidation_moves")


@dataclass(frozen=True)
class SharingSpec:
    out_dir: Path
    #: Sites this close are one position.
    tolerance_m: float = DEFAULT_TOLERANCE_M
    #: Longest move of a site in the consolidation plan.
    merge_distance_m: float = DEFAULT_MERGE_DISTANCE_M
    #: The units the ratios are given by: ``pre2025`` (districts) or ``2025-07`` (communes).
    admin_version: str = "pre2025"
    lang: Lang = "vi"


@dataclass(frozen=True)
class SharingResult:
    layers: tuple[str, ...]
    report: Path
    ratios_csv: Path
    #: The ``sharing_ratios`` layer as written.
    ratios: pd.DataFrame
    #: Moves planned by area (``area_code``, ``moves_low``, ``moves_high``…).
    plan_summary: pd.DataFrame


#: The layers the products are computed from: a later write of either makes them stale.
INPUT_LAYERS = ("sites", "admin_units")


def run(spec: SharingSpec, store: LayerStore) -> SharingResult:
    # The revisions first: sites written after them make the product stale, never fresh.
    inputs = input_revisions(store.layer_revisions(), INPUT_LAYERS)
    record = positions_record(spec.tolerance_m, layer_revision(store, "sites"), spec.admin_version)
    sites, admin = store.read("sites"), store.read("admin_units")
    # The sites' area, as the positions product's readers take it when they compute positions.
    crs = metric_crs_of(sites)
    table = positions(sites, spec.tolerance_m, metric_crs=crs)
    placed = place_positions(table, admin, spec.admin_version)
    ratios = position_ratios(placed, admin, admin_version=spec.admin_version)
    area = "district_code" if placed["district_code"].notna().any() else "commune_code"
    plan = consolidation_plan(
        placed, area_column=area, merge_distance_m=spec.merge_distance_m, metric_crs=crs
    )
    parameters = {
        "tolerance_m": spec.tolerance_m,
        "method": record["method"],
        "merge_distance_m": spec.merge_distance_m,
        "admin_version": spec.admin_version,
    }
    provinces = units(admin, "province", spec.admin_version)
    operators = tuple(sorted(sites["operator"].dropna().unique()))
    with store.transaction() as tx:
        for name, frame in zip(LAYERS, (placed, ratios, plan.moves), strict=True):
            tx.write(name, frame, metadata=record)
            tx.register(
                layer_record(JOB, name, parameters, inputs,
                             area=ProductArea(tuple(provinces["code"])), operators=operators)
            )  # fmt: skip
    report = write_xlsx(
        spec.out_dir / "sharing.xlsx",
        {
            "ratios": (ratios, "sharing_ratios"),
            "plan": (plan.summary, None),
            "moves": (plan.moves, "consolidation_moves"),
        },
        spec.lang,
        unit_names(admin),
    )
    csv = write_csv(
        spec.out_dir / "sharing_ratios.csv", ratios, "sharing_ratios", spec.lang, unit_names(admin)
    )
    return SharingResult(LAYERS, report, csv, ratios, plan.summary)
