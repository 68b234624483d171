"""``plan-sites``: new sites for an operator's coverage gaps, within a budget or covering all."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from gis_planner.admin import units
from gis_planner.cli.common import LangOption, StoreOption, console, lang_from, store_from
from gis_planner.cli.sharing import warn_positions
from gis_planner.errors import GisPlannerError
from gis_planner.operators import normalise_operator_name
from gis_planner.positions_product import read_positions
from gis_planner.settings import get_settings
from gis_planner.siting import planned_cell, propose_sites, siting_candidates
from gis_planner.store import LayerStore
from gis_planner.tables import write_xlsx


def coverage_demand(store: LayerStore, operator: str, technology: str) -> pd.DataFrame:
    """Villages where ``operator``'s ``technology`` misses the coverage target.

    Read from the ``coverage_villages`` layer that ``gis-planner coverage`` writes.
    """
    if not store.has_layer("coverage_villages"):
        raise GisPlannerError(
            "the store has no coverage_villages layer: run `gis-planner coverage` first"
        )
    rows = store.read("coverage_villages", filters={"operator": [operator]})
    rows = rows[(rows["technology"] == technology) & ~rows["covered"].astype(bool)]
    villages = store.read("villages")
    return villages[villages["code"].isin(rows["village_code"])].reset_index(drop=True)


def plan_sites(
    operator: Annotated[str, typer.Option("--operator", help="The operator to plan for.")],
    budget: Annotated[
        float | None,
        typer.Option(
            "--budget",
            help="Budget in new-tower units (a new tower costs 1, a tenancy 0.4); "
            "without it, the cheapest set covering every coverable village.",
        ),
    ] = None,
    technology: Annotated[str, typer.Option("--technology", help="4G or 5G.")] = "4G",
    time_limit_s: Annotated[
        float, typer.Option("--time-limit-s", help="Solver time limit (s).")
    ] = 60.0,
    store: StoreOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the report.")] = None,
    lang: LangOption = "vi",
) -> None:
    """Propose sites (tenancies first, new towers where needed) for the coverage gaps.

    Tenancies are offered on the store's positions product (``gis-planner sharing``); without
    one the positions are computed now at the default tolerance, with a warning.
    """
    key = normalise_operator_name(operator)
    if key is None:
        raise typer.BadParameter(f"unknown operator {operator!r}", param_hint="--operator")
    target = store_from(store)
    demand = coverage_demand(target, key, technology)
    communes = units(target.read("admin_units"), "commune")
    product = read_positions(target)
    warn_positions(product)
    candidates = siting_candidates(product.table, demand, key)
    result = propose_sites(
        demand,
        candidates,
        communes,
        cell=planned_cell(technology),
        budget=budget,
        time_limit_s=time_limit_s,
    )
    proposals = result.proposals.assign(operator=key)
    demand_layer = result.demand.assign(operator=key)
    with target.transaction() as tx:
        tx.write("site_proposals", proposals)
        tx.write("siting_demand", demand_layer)
    solution = result.solution
    status = demand_layer["status"].value_counts()
    summary = pd.DataFrame(
        {
            "figure": [
                "villages below target", "population below target", "villages covered",
                "population covered", "villages not reached", "villages uncoverable",
                "sites proposed", "of which tenancies", "cost", "method", "proven optimal",
                "bound", "gap", "solve seconds",
            ],
            "value": [
                len(demand_layer), int(demand_layer["population"].sum()),
                int(status.get("covered", 0)),
                int(demand_layer.loc[demand_layer["status"] == "covered", "population"].sum()),
                int(status.get("not_reached", 0)), int(status.get("uncoverable", 0)),
                len(proposals), int((proposals["kind"] == "share").sum()),
                round(float(proposals["cost"].sum()), 2), solution.method, solution.optimal,
                round(solution.bound, 2), f"{solution.gap:.2%}", round(solution.solve_s, 2),
            ],
        }
    )  # fmt: skip
    folder = out or get_settings().output_dir
    report = write_xlsx(
        folder / f"site_plan_{key}_{technology}.xlsx",
        {
            "summary": (summary, None),
            "proposals": (proposals, "site_proposals"),
            "villages": (demand_layer, "siting_demand"),
        },
        lang_from(lang),
    )
    table = Table(title=f"Site plan for {key} {technology}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for row in summary.itertuples():
        number = isinstance(row.value, int) and not isinstance(row.value, bool)
        table.add_row(row.figure, f"{row.value:,}" if number else str(row.value))
    console.print(table)
    console.print(f"[green]report[/green] {report}")


def register(app: typer.Typer) -> None:
    app.command("plan-sites")(plan_sites)
