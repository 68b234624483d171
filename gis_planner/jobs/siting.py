"""The siting job: new sites for an operator's coverage gaps, within a budget or covering all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gis_planner.admin import unit_names, units
from gis_planner.crs import metric_crs_of
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import Lang
from gis_planner.jobs.passive import PLAN_LAYERS, permitted_structures
from gis_planner.positions_product import PositionsProduct, read_positions
from gis_planner.products import input_revisions, layer_record, scoped_layer
from gis_planner.siting import SitingResult, planned_cell, propose_sites, siting_candidates
from gis_planner.store import LayerStore
from gis_planner.tables import write_xlsx

#: The layers the job writes (one transaction).
LAYERS = ("site_proposals", "siting_demand")


@dataclass(frozen=True)
class SitingSpec:
    #: The operator key (normalised) the sites are planned for.
    operator: str
    out_dir: Path
    technology: str = "4G"
    #: In new-tower units (a new tower costs 1, a tenancy 0.4); None: the cheapest set
    #: covering every coverable village.
    budget: float | None = None
    time_limit_s: float = 60.0
    lang: Lang = "vi"


@dataclass(frozen=True)
class SitePlan:
    layers: tuple[str, ...]
    report: Path
    #: Figure → value, as in the report's summary sheet.
    summary: pd.DataFrame
    #: The positions tenancies were offered on (the stored product, or computed now).
    positions: PositionsProduct


#: The layers a site plan is computed from: a later write of one makes it stale. Other sectors'
#: structures are candidates where the plan's zones and exclusions allow them.
INPUT_LAYERS = (
    "coverage_villages", "villages", "positions", "sites", "admin_units", "host_structures",
    *PLAN_LAYERS,
)  # fmt: skip


def run(spec: SitingSpec, store: LayerStore) -> SitePlan:
    inputs = input_revisions(store.layer_revisions(), INPUT_LAYERS)
    demand = coverage_demand(store, spec.operator, spec.technology)
    admin = store.read("admin_units")
    crs = metric_crs_of(admin)
    product = read_positions(store)
    structures = permitted_structures(store)
    candidates = siting_candidates(
        product.table, demand, spec.operator, structures=structures, metric_crs=crs
    )
    result = propose_sites(
        demand,
        candidates,
        units(admin, "commune"),
        cell=planned_cell(spec.technology),
        budget=spec.budget,
        time_limit_s=spec.time_limit_s,
        metric_crs=crs,
    )
    proposals = result.proposals.assign(operator=spec.operator)
    demand_layer = result.demand.assign(operator=spec.operator)
    parameters = {"budget": spec.budget, "time_limit_s": spec.time_limit_s,
                  "positions_tolerance_m": product.tolerance_m}  # fmt: skip
    with store.transaction() as tx:
        for name, frame in (("site_proposals", proposals), ("siting_demand", demand_layer)):
            tx.write(name, frame)
            tx.register(
                layer_record("siting", name, parameters, inputs, operators=[spec.operator],
                             technologies=[spec.technology])
            )  # fmt: skip
    summary = _summary(result, proposals, demand_layer)
    report = write_xlsx(
        spec.out_dir / f"site_plan_{spec.operator}_{spec.technology}.xlsx",
        {
            "summary": (summary, None),
            "proposals": (proposals, "site_proposals"),
            "villages": (demand_layer, "siting_demand"),
        },
        spec.lang,
        unit_names(admin),
    )
    return SitePlan(LAYERS, report, summary, product)


def coverage_rows(store: LayerStore, operator: str | None = None, scope: str = "") -> pd.DataFrame:
    """The village coverage rows (of ``operator``, or all) that ``gis-planner coverage`` writes
    for ``scope`` (a narrowed run's; "" for the province's); a clear error when it has not run."""
    layer = scoped_layer("coverage_villages", scope)
    if not store.has_layer(layer):
        raise GisPlannerError(f"the store has no {layer} layer: run `gis-planner coverage` first")
    filters = None if operator is None else {"operator": [operator]}
    return store.read(layer, filters=filters)


def coverage_demand(store: LayerStore, operator: str, technology: str) -> pd.DataFrame:
    """Villages where ``operator``'s ``technology`` misses the coverage target."""
    rows = coverage_rows(store, operator)
    rows = rows[(rows["technology"] == technology) & ~rows["covered"].astype(bool)]
    villages = store.read("villages")
    return villages[villages["code"].isin(rows["village_code"])].reset_index(drop=True)


def _summary(
    result: SitingResult, proposals: pd.DataFrame, demand_layer: pd.DataFrame
) -> pd.DataFrame:
    solution = result.solution
    status = demand_layer["status"].value_counts()
    reduced = solution.reduction
    return pd.DataFrame(
        {
            "figure": [
                "villages below target", "population below target", "villages covered",
                "population covered", "villages not reached", "villages uncoverable",
                "sites proposed", "of which tenancies", "of which on other sectors' structures",
                "cost", "method", "result",
                "proven optimal", "bound", "gap", "LP bound", "solve seconds",
                "time limit seconds", "model after reductions",
            ],
            "value": [
                len(demand_layer), int(demand_layer["population"].sum()),
                int(status.get("covered", 0)),
                int(demand_layer.loc[demand_layer["status"] == "covered", "population"].sum()),
                int(status.get("not_reached", 0)), int(status.get("uncoverable", 0)),
                len(proposals), int((proposals["kind"] == "share").sum()),
                int((proposals["kind"] == "structure").sum()),
                round(float(proposals["cost"].sum()), 2), solution.method, solution.label,
                solution.optimal, round(solution.bound, 2), f"{solution.gap:.2%}",
                round(solution.lp_bound, 2), round(solution.solve_s, 2),
                solution.time_limit_s,
                "" if reduced is None else
                f"{reduced.demand[1]} of {reduced.demand[0]} villages, "
                f"{reduced.candidates[1]} of {reduced.candidates[0]} candidates",
            ],
        }
    )  # fmt: skip
