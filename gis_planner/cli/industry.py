"""``industry``: 5G and IoT coverage of the industrial zones, their gaps to the 5G indoor target
and the cheapest 5G additions closing them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_planner.cli.common import (
    LangOption,
    StoreOption,
    console,
    fail,
    lang_from,
    output_dir,
    required_layers,
    store_from,
    t,
)


def industry(
    building: Annotated[
        str,
        typer.Option(
            "--building",
            help="Building class of the indoor loss (ITU-R P.2109): traditional or "
            "thermally_efficient.",
        ),
    ] = "traditional",
    target_share: Annotated[
        float,
        typer.Option(
            "--target-share", min=0.0, max=1.0, help="Share of a zone to cover with 5G indoors."
        ),
    ] = 0.95,
    budget: Annotated[
        float | None,
        typer.Option(
            "--budget",
            help="Budget of the 5G additions in new-tower units (a new tower costs 1, a 5G "
            "radio on an existing position 0.3); without it, the cheapest set closing every gap.",
        ),
    ] = None,
    scope: Annotated[
        str,
        typer.Option(
            "--scope",
            help="The coverage run to read: a narrowed run's scope (its layer is "
            "coverage_villages__SCOPE); default the province's.",
        ),
    ] = "",
    time_limit_s: Annotated[
        float, typer.Option("--time-limit-s", help="Solver time limit (s).")
    ] = 60.0,
    store: StoreOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the report.")] = None,
    lang: LangOption = None,
) -> None:
    """5G (outdoors and indoors), NB-IoT and LTE-M coverage of each industrial zone, the zones
    furthest from the 5G target first, and the cheapest 5G additions closing the gaps.

    Reads the 4G and 5G rasters of ``gis-planner coverage``.
    """
    from rich.table import Table

    from gis_planner.industry import ZoneParams
    from gis_planner.jobs import industry as job
    from gis_planner.jobs.industry import IndustrySpec
    from gis_planner.radio.indoor import BuildingType

    buildings: dict[str, BuildingType] = {"traditional": "traditional",
                                          "thermally_efficient": "thermally_efficient"}  # fmt: skip
    if building not in buildings:
        fail(t("--building must be traditional or thermally_efficient"))
    target = store_from(store)
    required_layers(target, ("admin_units", "priority_areas", "sites", "cells"))
    params = ZoneParams(building=buildings[building], target_share=target_share)
    spec = IndustrySpec(
        params=params, scope=scope, budget=budget, time_limit_s=time_limit_s, lang=lang_from(lang)
    )
    result, report = job.run(spec, target, output_dir(out, target))
    measures = ["5g_outdoor_share", "5g_indoor_share", "nbiot_indoor_share",
                "ltem_indoor_share", "gap"]  # fmt: skip
    zones = result.zones.loc[result.zones["operator"] == "any", ["name", *measures]]
    table = Table(title=t("Industrial zones, furthest from the 5G indoor target first"))
    headers = ("5G outdoor", "5G indoor", "NB-IoT indoor", "LTE-M indoor", "gap to target")
    table.add_column(t("zone"))
    for column in headers:
        table.add_column(t(column), justify="right")
    for name, *shares in zones.itertuples(index=False):
        table.add_row(str(name), *(f"{share:.0%}" for share in shares))
    console.print(table)
    message = t("{n} 5G additions ({kinds}), cost {cost:.1f}").format(
        n=len(result.additions),
        kinds=", ".join(f"{k}: {v}" for k, v in result.additions["kind"].value_counts().items()),
        cost=float(result.additions["cost"].sum()),
    )
    console.print(message)
    console.print(f"[green]{t('report')}[/green] {report}")


def register(app: typer.Typer) -> None:
    app.command("industry")(industry)
