"""``fibre``: FTTH coverage, backhaul, single points of failure and extensions, into the store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_planner.cli.common import LangOption, StoreOption, console, lang_from, store_from
from gis_planner.defaults import DEFAULT_DROP_M, DEFAULT_NEAR_MISS_M, DEFAULT_SNAP_M

if TYPE_CHECKING:
    from gis_planner.fibre.products import FibreProducts


def fibre(
    store: StoreOption = None,
    drop_m: Annotated[
        float, typer.Option("--drop-m", help="Drop distance from fibre to a village, m.")
    ] = DEFAULT_DROP_M,
    snap_m: Annotated[
        float, typer.Option("--snap-m", help="Snap tolerance for route ends and nodes, m.")
    ] = DEFAULT_SNAP_M,
    near_miss_m: Annotated[
        float, typer.Option("--near-miss-m", help="Loose ends this close to fibre are reported.")
    ] = DEFAULT_NEAR_MISS_M,
    corridors: Annotated[
        str | None,
        typer.Option(help="Store layer of corridors (roads) extensions should follow."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Report workbook (.xlsx); default in the store's assets.")
    ] = None,
    top: Annotated[
        int, typer.Option(help="Gap villages and single points of failure to print.")
    ] = 10,
    lang: LangOption = None,
) -> None:
    """Analyse the fibre network; write its layers (one transaction) and a report.

    Sites with status "planned" and, when the store holds them, the siting analysis's
    ``site_proposals`` are backhauled as proposed sites.
    """
    from gis_planner.fibre.products import FibreParams
    from gis_planner.jobs import fibre as fibre_job
    from gis_planner.jobs.fibre import FibreSpec

    spec = FibreSpec(
        params=FibreParams(snap_m=snap_m, drop_m=drop_m, near_miss_m=near_miss_m),
        corridors=corridors,
        report=report,
        lang=lang_from(lang),
    )
    target = store_from(store)
    result = fibre_job.run(spec, target)
    _print_summary(result.products, top)
    console.print(f"[green]fibre[/green] {len(result.layers)} layers in {target.uri}")
    console.print(f"[green]report[/green] {result.report}")


def _print_summary(products: FibreProducts, top: int) -> None:
    import pandas as pd
    from rich.table import Table

    layers = products.layers
    shares = layers["ftth_shares"]
    table = Table(title="FTTH: share of villages (target 100 %)")
    for column in ("unit", "villages", "with FTTH", "share %", "people %"):
        table.add_column(column, justify="left" if column == "unit" else "right")
    for row in shares[shares["level"] != "commune"].itertuples():
        table.add_row(
            f"{row.code} {row.name}", f"{row.villages:,}", f"{row.covered_villages:,}",
            f"{row.village_share_pct:.1f}", f"{row.population_share_pct:.1f}",
        )  # fmt: skip
    console.print(table)
    villages = layers["ftth_villages"]
    gaps = villages[~villages["covered"]]
    console.print(
        f"villages without FTTH: {len(gaps):,} ({int(gaps['population'].sum()):,} people); "
        f"extension {layers['fibre_extensions']['length_m'].sum() / 1000:,.1f} km"
    )
    table = Table(title=f"Villages without FTTH (the {top} most populous)")
    for column in ("village", "commune", "people", "to fibre, m"):
        table.add_column(column, justify="right" if column in ("people", "to fibre, m") else "left")
    for row in gaps.sort_values("population", ascending=False).head(top).itertuples():
        table.add_row(
            f"{row.code} {row.name}", row.commune_code, f"{row.population:,}",
            f"{row.fibre_dist_m:,.0f}",
        )  # fmt: skip
    console.print(table)
    redundancy = layers["fibre_redundancy"]
    served = redundancy["villages"].sum() + redundancy["sites"].sum()
    safe = redundancy["redundant_villages"].sum() + redundancy["redundant_sites"].sum()
    rings = layers["fibre_rings"].groupby("operator").size()
    console.print(
        f"redundancy: {safe:,} of {served:,} fibre-served villages and sites "
        f"({100 * safe / max(served, 1):.1f} %) keep a path to a POP after any single link "
        "failure; trunk rings: " + (", ".join(f"{op} {n}" for op, n in rings.items()) or "none")
    )
    problems = layers["fibre_topology_problems"]["problem_type"].value_counts()
    console.print("topology problems: " + ", ".join(f"{k} {v}" for k, v in problems.items()))
    spof = pd.concat(
        [
            # The department's view, over every operator's fibre like the nodes'.
            layers["fibre_spof_links_shared"].assign(what=lambda f: "link " + f["route_id"]),
            layers["fibre_spof_nodes"].assign(what=lambda f: "node " + f["node_ids"].fillna("")),
        ]
    ).sort_values(["cut_population", "cut_villages"], ascending=False)
    table = Table(title=f"Top {top} single points of failure")
    for column in ("failure of", "villages", "people", "sites"):
        table.add_column(column, justify="left" if column == "failure of" else "right")
    for row in spof.head(top).itertuples():
        table.add_row(
            row.what, f"{row.cut_villages:,}", f"{row.cut_population:,}", f"{row.cut_sites:,}"
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(fibre)
