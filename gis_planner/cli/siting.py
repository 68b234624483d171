"""``plan-sites``: new sites for an operator's coverage gaps, within a budget or covering all."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_planner.cli.common import (
    LangOption,
    StoreOption,
    console,
    lang_from,
    operator_key,
    output_dir,
    required_layers,
    store_from,
    t,
)
from gis_planner.cli.sharing import warn_positions


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
        float,
        typer.Option(
            "--time-limit-s",
            help="Solver time limit (s); past it the best plan found is kept, with its gap, "
            "and reported as not proven optimal.",
        ),
    ] = 60.0,
    store: StoreOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the report.")] = None,
    lang: LangOption = None,
) -> None:
    """Propose sites (tenancies first, new towers where needed) for the coverage gaps.

    Tenancies are offered on the store's positions product (``gis-planner sharing``); without
    one the positions are computed now at the default tolerance, with a warning.
    """
    from rich.table import Table

    from gis_planner.jobs import siting
    from gis_planner.jobs.siting import SitingSpec

    key = operator_key(operator, mobile=True)
    target = store_from(store)
    required_layers(target, ("admin_units", "sites", "cells"))
    spec = SitingSpec(
        operator=key,
        out_dir=output_dir(out, target),
        technology=technology,
        budget=budget,
        time_limit_s=time_limit_s,
        lang=lang_from(lang),
    )
    plan = siting.run(spec, target)
    warn_positions(plan.positions)
    table = Table(
        title=t("Site plan for {operator} {technology}").format(operator=key, technology=technology)
    )
    table.add_column(t("figure"))
    table.add_column(t("value"), justify="right")
    for row in plan.summary.itertuples():
        number = isinstance(row.value, int) and not isinstance(row.value, bool)
        table.add_row(t(row.figure), f"{row.value:,}" if number else str(row.value))
    console.print(table)
    result = dict(zip(plan.summary["figure"], plan.summary["value"], strict=True))["result"]
    if result != "optimal":
        # Never let a best-found plan read as the optimum.
        message = t("{result}: raise --time-limit-s to prove it").format(result=result)
        console.print(f"[yellow]{message}[/yellow]")
    console.print(f"[green]{t('report')}[/green] {plan.report}")


def register(app: typer.Typer) -> None:
    app.command("plan-sites")(plan_sites)
