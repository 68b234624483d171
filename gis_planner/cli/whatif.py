"""``what-if``: the coverage a planned site would add to its operator's."""

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
    required_layers,
    store_from,
    t,
)

#: Table labels of the figures of ``jobs.whatif.describe``.
_LABELS = {
    "site": "planned site",
    "height_m": "antenna height (m)",
    "band_mhz": "band (MHz)",
    "threshold_dbm": "threshold (dBm)",
    "resolution_m": "resolution (m)",
    "existing_cells": "existing cells computed",
    "villages_gained": "villages newly covered",
    "people_gained": "people gained",
    "area_gained_km2": "area gained (km²)",
}


def what_if(
    operator: Annotated[str, typer.Option("--operator", help="The operator planning the site.")],
    lon: Annotated[float, typer.Option("--lon", help="Longitude (WGS84).")],
    lat: Annotated[float, typer.Option("--lat", help="Latitude (WGS84).")],
    technology: Annotated[str, typer.Option("--technology", "--tech", help="4G or 5G.")] = "4G",
    height_m: Annotated[
        float | None,
        typer.Option("--height-m", help="Antenna height (m); default a new tower's, 30 m."),
    ] = None,
    band_mhz: Annotated[
        float | None,
        typer.Option("--band-mhz", help="Carrier band (MHz); default 1800 for 4G, 3500 for 5G."),
    ] = None,
    resolution_m: Annotated[
        float, typer.Option("--resolution-m", help="Pixel size of the computation (m).")
    ] = 50.0,
    geojson: Annotated[
        Path | None,
        typer.Option("--geojson", help="Write the area gained to this GeoJSON file."),
    ] = None,
    store: StoreOption = None,
    lang: LangOption = None,
) -> None:
    """The coverage a planned site would add: villages newly covered, people and area gained.

    The operator's cells of that technology within reach are computed with and without the
    site (three sectors of the planned cell) on a grid around it; nothing is written to the
    store.
    """
    from rich.table import Table

    from gis_planner.cli.sharing import check_in_area
    from gis_planner.jobs import whatif
    from gis_planner.jobs.whatif import WhatIfSpec

    lang_from(lang)
    key = operator_key(operator, mobile=True)
    target = store_from(store)
    required_layers(target, ("admin_units", "villages", "cells"))
    check_in_area(target, lon, lat)
    spec = WhatIfSpec(lon, lat, key, technology, height_m, band_mhz, resolution_m)
    result = whatif.run(spec, target)

    summary = Table(title=t("Coverage what-if for {query}").format(query=spec.query))
    summary.add_column(t("figure"))
    summary.add_column(t("value"), justify="right")
    for name, value in whatif.describe(result).items():
        label = t(_LABELS.get(name, name))
        summary.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(summary)
    villages = Table(title=t("Villages newly covered"))
    for column in ("village", "commune", "population", "covered before", "covered after"):
        villages.add_column(t(column))
    for row in result.villages.itertuples():
        villages.add_row(
            f"{row.name} ({row.code})",
            f"{row.commune_name} ({row.commune_code})",
            f"{row.population:,}",
            f"{row.share_before:.0%}",
            f"{row.share_after:.0%}",
        )
    console.print(villages)
    if result.villages.empty:
        console.print(t("no village newly covered"))
    if geojson is not None:
        result.gained.to_file(geojson, driver="GeoJSON")
        console.print(f"[green]{t('area gained')}[/green] {geojson}")


def register(app: typer.Typer) -> None:
    app.command("what-if")(what_if)
