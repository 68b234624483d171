"""``speeds``: throughput rasters and village speeds against the plan's download targets (the
speeds job, ``gis_planner.jobs.speeds``, after ``coverage``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from gis_planner.jobs.speeds import SpeedsResult


def _pons(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    """``--pon OPERATOR=PON`` options as (operator key, PON) pairs."""
    from gis_planner.speeds import PONS

    pairs = []
    for value in values or []:
        name, _, pon = value.partition("=")
        if pon not in PONS:
            fail(
                t("--pon {value!r}: expected OPERATOR={known}").format(
                    value=value, known="|".join(PONS)
                )
            )
        pairs.append((operator_key(name, "--pon"), pon))
    return tuple(pairs)


def speeds(
    store: StoreOption = None,
    scope: Annotated[
        str,
        typer.Option(
            help="Scope of the coverage run to use (the name of its folder under "
            "coverage/; default: province, the province's)."
        ),
    ] = "",
    user_share: Annotated[
        float,
        typer.Option(
            "--user-share", help="Share of a carrier's resources one user gets (load factor)."
        ),
    ] = 0.5,
    split: Annotated[int, typer.Option(help="FTTH subscribers on one PON port.")] = 32,
    busy_share: Annotated[
        float,
        typer.Option(
            "--busy-share",
            help="Share of a PON's subscribers downloading at once in the busy hour.",
        ),
    ] = 0.25,
    pon: Annotated[
        list[str] | None,
        typer.Option(help="An operator's PON, e.g. viettel=xgs-pon (default: gpon)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Directory of the CSV/XLSX tables.")] = None,
    lang: LangOption = None,
) -> None:
    """Estimate downlink speeds from the coverage's SINR and the FTTH against the plan's targets
    (mobile 50 Mb/s, fixed 100 Mb/s, 1 Gb/s by 2030); write throughput rasters, the
    speeds_villages and ftth_speeds layers, and tables."""
    from gis_planner.jobs import speeds as speeds_job
    from gis_planner.jobs.speeds import SpeedsSpec
    from gis_planner.radio.throughput import ThroughputParams
    from gis_planner.speeds import FixedParams

    target = store_from(store)
    required_layers(target, ("villages", "cells"))
    # A share out of range is the library's error, which the command group reports (exit 2).
    spec = SpeedsSpec(
        scope="" if scope == "province" else scope,
        throughput=ThroughputParams(user_share=user_share),
        fixed=FixedParams(split=split, busy_share=busy_share, pon_by_operator=_pons(pon)),
        out_dir=out,
        base_dir=output_dir(None, target),
        lang=lang_from(lang),
    )
    result = speeds_job.run(spec, target)
    _summary(result)


def _summary(result: SpeedsResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    figures = result.figures
    targets = figures.parameters["targets"]
    table = Table(
        title=t("Mobile downloads ≥ {target} Mb/s").format(target=f"{targets['mobile_mbps']:g}")
    )
    for name in ("tech", "operator", "villages at target", "people at target"):
        table.add_column(t(name), justify="left" if name in ("tech", "operator") else "right")
    for row in figures.summary.itertuples():
        table.add_row(
            str(row.technology), str(row.operator),
            f"{row.villages_at_target:,}/{row.villages:,} ({row.village_share:.1%})",
            f"{row.population_share:.1%}",
        )  # fmt: skip
    console.print(table)
    fixed = Table(title=t("Fixed downloads (FTTH, busy hour)"))
    for name in ("measure", "villages at target", "people at target"):
        fixed.add_column(t(name), justify="left" if name == "measure" else "right")
    for row in figures.fixed_summary.itertuples():
        label = (
            t("FTTH available")
            if row.measure == "ftth"
            else f"≥ {row.target_mbps:g} Mb/s" + (" (2030)" if row.measure == "fixed_2030" else "")
        )
        fixed.add_row(
            label,
            f"{row.villages_at_target:,}/{row.villages:,} ({row.village_share:.1%})",
            f"{row.population_share:.1%}",
        )
    console.print(fixed)
    folder = result.rasters[0].parent if result.rasters else ""
    console.print(
        f"[green]{t('computed')}[/green] "
        + t("{rasters} throughput rasters in {folder}; tables {workbook}").format(
            rasters=len(result.rasters),
            folder=escape(str(folder)),
            workbook=escape(str(result.workbook)),
        )
    )


def register(app: typer.Typer) -> None:
    app.command()(speeds)
