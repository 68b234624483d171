"""``sharing`` and ``candidates``: the sharing ratio, the consolidation plan, host candidates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_planner.cli.common import (
    LangOption,
    StoreOption,
    console,
    crs_option,
    fail,
    lang_from,
    operator_key,
    output_dir,
    required_layers,
    store_from,
    t,
)
from gis_planner.defaults import (
    DEFAULT_MERGE_DISTANCE_M,
    DEFAULT_POSITION_TOLERANCE_M,
    VN2000_TM3_105,
)

if TYPE_CHECKING:
    from gis_planner.positions_product import PositionsProduct
    from gis_planner.store import LayerStore

ToleranceOption = Annotated[
    float, typer.Option("--tolerance-m", help="Sites this close are one position (metres).")
]
OutOption = Annotated[Path | None, typer.Option("--out", help="Directory for the reports.")]


def sharing(
    store: StoreOption = None,
    tolerance_m: ToleranceOption = DEFAULT_POSITION_TOLERANCE_M,
    merge_distance_m: Annotated[
        float, typer.Option("--merge-distance-m", help="Longest move of a site (metres).")
    ] = DEFAULT_MERGE_DISTANCE_M,
    admin_version: Annotated[
        str, typer.Option("--admin-version", help="pre2025 (districts) or 2025-07 (communes).")
    ] = "pre2025",
    out: OutOption = None,
    lang: LangOption = None,
) -> None:
    """Positions, the sharing ratio against 25–30 % and the consolidation plan."""
    from rich.table import Table

    from gis_planner.jobs import sharing as sharing_job
    from gis_planner.jobs.sharing import SharingSpec

    target = store_from(store)
    required_layers(target, ("admin_units", "sites"))
    spec = SharingSpec(
        out_dir=output_dir(out, target),
        tolerance_m=tolerance_m,
        merge_distance_m=merge_distance_m,
        admin_version=admin_version,
        lang=lang_from(lang),
    )
    result = sharing_job.run(spec, target)
    ratios = result.ratios

    table = Table(
        title=t("Sharing ratio (tolerance {tolerance} m)").format(tolerance=f"{tolerance_m:g}")
    )
    for column in ("scope", "name", "positions", "shared", "ratio", "BTS ratio", "moves 25/30 %"):
        table.add_column(t(column), justify="left" if column in ("scope", "name") else "right")
    moves = result.plan_summary.set_index("area_code")
    shown = ratios[ratios["scope"].isin(["province", "district", "operator"])]
    for row in shown.itertuples():
        planned = "–"
        if row.code in moves.index:
            low, high = moves.loc[row.code, "moves_low"], moves.loc[row.code, "moves_high"]
            planned = f"{_count(low)}/{_count(high)}"
        table.add_row(
            t(row.scope),
            row.name,
            f"{row.positions:,}",
            f"{row.shared_positions:,}",
            f"{row.position_ratio:.1%}",
            f"{row.site_ratio:.1%}",
            planned,
        )
    console.print(table)
    console.print(f"[green]{t('report')}[/green] {result.report}")


def candidates(
    operator: Annotated[str, typer.Option("--operator", help="The operator planning the site.")],
    lon: Annotated[float | None, typer.Option("--lon", help="Longitude (WGS84).")] = None,
    lat: Annotated[float | None, typer.Option("--lat", help="Latitude (WGS84).")] = None,
    northing: Annotated[
        float | None, typer.Option("--x", help="VN-2000 X (northing, metres).")
    ] = None,
    easting: Annotated[
        float | None, typer.Option("--y", help="VN-2000 Y (easting, metres).")
    ] = None,
    crs: Annotated[str, typer.Option("--crs", help="CRS of --x/--y.")] = VN2000_TM3_105,
    height_m: Annotated[
        float, typer.Option("--height-m", help="Required antenna height (m).")
    ] = 30.0,
    technology: Annotated[str, typer.Option("--technology", help="4G or 5G.")] = "4G",
    radius_m: Annotated[
        float | None, typer.Option("--radius-m", help="Search radius; default by area type.")
    ] = None,
    store: StoreOption = None,
    out: OutOption = None,
    lang: LangOption = None,
) -> None:
    """Other operators' positions that could host a planned site, ranked, with the what-if.

    The positions are the store's positions product (``gis-planner sharing`` makes it, with its
    tolerance); without one they are computed now at the default tolerance, with a warning.
    """
    from rich.table import Table

    from gis_planner.crs import WGS84, transformer
    from gis_planner.hosting import PlannedSite
    from gis_planner.jobs import hosting
    from gis_planner.jobs.hosting import HostingSpec

    lang_from(lang)
    key = operator_key(operator)
    target = store_from(store)
    required_layers(target, ("admin_units", "sites"))
    if lon is None or lat is None:
        if northing is None or easting is None:
            fail(
                t("no position given"),
                t("give --lon and --lat (WGS84), or --x and --y with --crs (VN-2000)"),
            )
        crs_option(crs)
        lon, lat = transformer(crs, WGS84).transform(easting, northing)
    check_in_area(target, lon, lat)
    spec = HostingSpec(
        site=PlannedSite(lon, lat, key, height_m, technology),
        out_dir=output_dir(out, target),
        radius_m=radius_m,
    )
    result = hosting.run(spec, target)
    warn_positions(result.positions)
    found = result.candidates

    table = Table(title=t("Host candidates for {query}").format(query=result.query))
    for column in (
        "rank",
        "position",
        "operators",
        "height",
        "tenants",
        "distance",
        "score",
        "ratio if hosted",
    ):
        table.add_column(t(column))
    for row in found.head(10).itertuples():
        table.add_row(
            str(row.rank),
            str(row.position_id),
            row.operators,
            f"{row.height_m:.0f} m",
            f"{row.tenants}/{row.capacity}",
            f"{row.distance_m:.0f} m",
            f"{row.score:.2f}" + ("" if row.eligible else " (full)"),
            f"{row.ratio_if_hosted:.2%}",
        )
    console.print(table)
    if found.empty:
        console.print(t("no position of another operator within the search radius"))
    else:
        console.print(
            t("sharing ratio now {now}; if built on a new position {new}").format(
                now=f"{found['ratio_now'].iloc[0]:.2%}",
                new=f"{found['ratio_if_new_build'].iloc[0]:.2%}",
            )
        )
    console.print(f"[green]{t('table')}[/green] {result.table}")


def check_in_area(store: LayerStore, lon: float, lat: float) -> None:
    """Stop when (lon, lat) is outside the store's province, saying so when it would be inside
    with longitude and latitude exchanged."""
    import numpy as np

    from gis_planner.defaults import DEFAULT_OUTLINE_TOLERANCE_M
    from gis_planner.io.coordinates import unswap_lonlat
    from gis_planner.jobs.importing import province_area

    # The area imports are checked against: the province grown by the import tolerance.
    area = province_area(store, DEFAULT_OUTLINE_TOLERANCE_M)
    point = (np.array([lon], dtype=float), np.array([lat], dtype=float))
    if area.contains_lonlat(*point)[0]:
        return
    _, _, swapped = unswap_lonlat(*point, area)
    where = t("the position lon {lon}, lat {lat} is outside the province").format(lon=lon, lat=lat)
    if swapped[0] and area.contains_lonlat(point[1], point[0])[0]:
        fail(
            where + t(": longitude and latitude look exchanged"),
            t("try --lon {lat} --lat {lon}").format(lon=lon, lat=lat),
        )
    west, south, east, north = area.bounds
    fail(
        where,
        t("the province spans longitude {west}–{east}, latitude {south}–{north}").format(
            west=f"{west:.3f}", east=f"{east:.3f}", south=f"{south:.3f}", north=f"{north:.3f}"
        ),
    )


def warn_positions(product: PositionsProduct) -> None:
    """Tell the user when the positions are not a fresh product of ``gis-planner sharing``."""
    notice = product.notice()
    if notice is not None:
        console.print(f"[yellow]{t('warning')}[/yellow]: {notice}")
    else:
        console.print(
            t("positions at {tolerance} m ({made_at})").format(
                tolerance=f"{product.tolerance_m:g}", made_at=product.made_at
            )
        )


def _count(value: object) -> str:
    import pandas as pd

    return "–" if pd.isna(value) else str(value)


def register(app: typer.Typer) -> None:
    app.command()(sharing)
    app.command()(candidates)
