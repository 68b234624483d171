"""``plan-sites``: new sites for an operator's coverage gaps, within a budget or covering all."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_planner.cli.common import LangOption, StoreOption, console, lang_from, store_from
from gis_planner.cli.sharing import warn_positions
from gis_planner.operators import normalise_operator_name


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
    lang: LangOption = "vi",
) -> None:
    """Propose sites (tenancies first, new towers where needed) for the coverage gaps.

    Tenancies are offered on the store's positions product (``gis-planner sharing``); without
    one the positions are computed now at the default tolerance, with a warning.
    """
    from rich.table import Table

    from gis_planner.jobs import siting
    from gis_planner.jobs.siting import SitingSpec
    from gis_planner.settings import get_settings

    key = normalise_operator_name(operator)
    if key is None:
        raise typer.BadParameter(f"unknown operator {operator!r}", param_hint="--operator")
    spec = SitingSpec(
        operator=key,
        out_dir=out or get_settings().output_dir,
        technology=technology,
        budget=budget,
        time_limit_s=time_limit_s,
        lang=lang_from(lang),
    )
    plan = siting.run(spec, store_from(store))
    warn_positions(plan.positions)
    table = Table(title=f"Site plan for {key} {technology}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for row in plan.summary.itertuples():
        number = isinstance(row.value, int) and not isinstance(row.value, bool)
        table.add_row(row.figure, f"{row.value:,}" if number else str(row.value))
    console.print(table)
    result = dict(zip(plan.summary["figure"], plan.summary["value"], strict=True))["result"]
    if result != "optimal":
        # Never let a best-found plan read as the optimum.
        console.print(f"[yellow]{result}[/yellow]: raise --time-limit-s to prove it")
    console.print(f"[green]report[/green] {plan.report}")


def register(app: typer.Typer) -> None:
    app.command("plan-sites")(plan_sites)
