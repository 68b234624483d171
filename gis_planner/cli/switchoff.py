"""``switch-off``: an operator's 2G/3G switch-off, the villages it affects, and the 4G cells that
restore service where it leaves none."""

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
    operator_key,
    output_dir,
    required_layers,
    store_from,
    t,
)


def switch_off(
    operator: Annotated[str, typer.Option("--operator", help="The operator switching off.")],
    technology: Annotated[
        list[str],
        typer.Option("--technology", help="A technology switched off: 2G or 3G (repeatable)."),
    ],
    budget: Annotated[
        float | None,
        typer.Option(
            "--budget",
            help="Budget of the restoring 4G cells in new-tower units (a new tower costs 1, "
            "a tenancy 0.4, a 4G carrier on the operator's own position 0.2); without it, "
            "the cheapest set restoring every village that can be.",
        ),
    ] = None,
    time_limit_s: Annotated[
        float, typer.Option("--time-limit-s", help="Solver time limit (s).")
    ] = 60.0,
    scope: Annotated[
        str,
        typer.Option(
            "--scope",
            help="The coverage run to read: a narrowed run's scope (its layer is "
            "coverage_villages__SCOPE); default the province's.",
        ),
    ] = "",
    store: StoreOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the report.")] = None,
    lang: LangOption = None,
) -> None:
    """Which villages and people lose the operator's service, or its voice without a VoLTE
    handset, when it switches 2G (and 3G) off; which 4G cells restore it.

    Reads the village coverage of ``gis-planner coverage`` (of every technology, or of a
    narrowed run named by --scope).
    """
    from rich.table import Table

    from gis_planner.jobs import switchoff
    from gis_planner.jobs.switchoff import SwitchOffSpec
    from gis_planner.products import scoped_layer

    technologies = tuple(dict.fromkeys(tech.upper() for tech in technology))
    unknown = sorted(set(technologies) - {"2G", "3G"})
    if unknown:
        fail(t("only 2G and 3G are switched off, not {unknown}").format(unknown=", ".join(unknown)))
    key = operator_key(operator, mobile=True)
    target = store_from(store)
    required_layers(target, ("admin_units", "villages", "sites", "cells"))
    layer = scoped_layer("coverage_villages", scope)
    if not target.has_layer(layer):
        fail(
            t("the store {uri} has no village coverage ({layer})").format(
                uri=target.uri, layer=layer
            ),
            t("run `gis-planner coverage --store {uri}` first (every technology)").format(
                uri=target.uri
            ),
        )
    spec = SwitchOffSpec(
        operator=key,
        technologies=technologies,
        scope=scope,
        budget=budget,
        time_limit_s=time_limit_s,
        lang=lang_from(lang),
    )
    done = switchoff.run(spec, target, output_dir(out, target))
    table = Table(
        title=t("Switch-off of {technologies} by {operator}").format(
            technologies=", ".join(technologies), operator=key
        )
    )
    table.add_column(t("figure"))
    table.add_column(t("value"), justify="right")
    for row in done.study.summary.itertuples():
        number = isinstance(row.value, int) and not isinstance(row.value, bool)
        table.add_row(t(row.figure), f"{row.value:,}" if number else str(row.value))
    console.print(table)
    console.print(f"[green]{t('report')}[/green] {done.report}")


def register(app: typer.Typer) -> None:
    app.command("switch-off")(switch_off)
