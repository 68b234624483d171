"""``passive``: every site against the passive infrastructure plan's zones and exclusion areas,
other sectors' structures as antenna hosts, and the underground share of cable by commune."""

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

#: How the table names what was checked.
SUBJECT_NAMES = {
    "site": "existing sites",
    "planned_site": "planned sites",
    "proposal": "proposed new towers",
}


def passive(
    underground_target: Annotated[
        float | None,
        typer.Option(
            "--underground-target",
            min=0.0,
            max=1.0,
            help="The plan's under-grounding goal, as the share of cable length underground "
            "(0-1); without it the shares are reported against no goal.",
        ),
    ] = None,
    new_build_tower_type: Annotated[
        str,
        typer.Option(
            "--new-build-tower-type",
            help="Tower type a new tower proposed by a study is checked as.",
        ),
    ] = "monopole",
    store: StoreOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the report.")] = None,
    lang: LangOption = None,
) -> None:
    """Every existing, planned and proposed site against the planning zones and exclusion
    areas (compliant, needs a permit, not allowed, with the rule), other sectors' structures as
    antenna hosts, and the underground share of cable by commune.

    Reads planning_zones, exclusion_areas, exclusion_points and military_areas (any of them),
    host_structures and ducts.
    """
    import pandas as pd
    from rich.table import Table

    from gis_planner.catalogue.layers import TOWER_TYPES
    from gis_planner.catalogue.passive import COMPLIANCE_STATUSES
    from gis_planner.jobs import passive as job
    from gis_planner.jobs.passive import PassiveParams, PassiveSpec

    if new_build_tower_type not in TOWER_TYPES:
        fail(
            t("--new-build-tower-type must be one of {types}").format(types=", ".join(TOWER_TYPES))
        )
    target = store_from(store)
    required_layers(target, ("admin_units", "sites"))
    params = PassiveParams(new_build_tower_type, underground_target)
    result, report = job.run(PassiveSpec(params, lang_from(lang)), target, output_dir(out, target))
    table = Table(title=t("Sites against the passive infrastructure plan"))
    table.add_column(t("checked"))
    for header in ("compliant", "needs a permit", "not allowed"):
        table.add_column(t(header), justify="right")
    checks = result.compliance
    for subject, name in SUBJECT_NAMES.items():
        counts = checks.loc[checks["subject"] == subject, "status"].value_counts()
        table.add_row(t(name), *(f"{int(counts.get(s, 0)):,}" for s in COMPLIANCE_STATUSES))
    hosts = result.hosts["status"].value_counts()
    table.add_row(
        t("other sectors' structures"), *(f"{int(hosts.get(s, 0)):,}" for s in COMPLIANCE_STATUSES)
    )
    console.print(table)
    province = result.cables[result.cables["level"] == "province"].iloc[0]
    share = province["underground_share"]
    console.print(
        t("cable {km:,.1f} km, underground {share}; ducts {duct_km:,.1f} km").format(
            km=province["total_m"] / 1000,
            share="—" if pd.isna(share) else f"{share:.1%}",
            duct_km=province["duct_m"] / 1000,
        )
    )
    if underground_target is None:
        console.print(t("no under-grounding goal given (--underground-target)"))
    console.print(f"[green]{t('report')}[/green] {report}")


def register(app: typer.Typer) -> None:
    app.command("passive")(passive)
