"""``export``: a layer of the store, or a selection of it, as KML/KMZ for Google Earth;
``export-national``: the national data layout (GeoParquet partitions, COGs by province, VRT
mosaics, a STAC catalogue) for a cluster, QGIS and the API."""

from __future__ import annotations

import difflib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gis_planner.cli.common import (
    LangOption,
    StoreOption,
    bbox_option,
    console,
    fail,
    lang_from,
    operator_key,
    output_dir,
    store_from,
    t,
)

if TYPE_CHECKING:
    from gis_planner.catalogue import LayerSpec


class ExportFormat(StrEnum):
    kml = "kml"
    kmz = "kmz"


def _near(value: str, choices: list[str]) -> str | None:
    near = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return t("did you mean {near}?").format(near=near[0]) if near else None


def _filter_value(spec: LayerSpec, field: str, text: str) -> Any:
    """A ``--where`` value as the store holds it: a catalogue key, a number, a flag."""
    from gis_planner.io.vocabulary import field_vocabulary, has_vocabulary

    where = f"--where {field}={text}"
    if field == "operator":
        return operator_key(text, where)
    field_spec = spec.field(field)
    if field_spec.allowed is not None and has_vocabulary(field_spec):
        key, suggestion = field_vocabulary(field_spec).resolve_one(text)
        if key is None:
            hint = t("did you mean {near}?").format(near=suggestion) if suggestion else None
            fail(t("{where}: not a value of {field}").format(where=where, field=field), hint)
        return key
    try:
        if field_spec.dtype == "int":
            return int(text)
        if field_spec.dtype == "float":
            return float(text)
    except ValueError:
        fail(t("{where}: expected a number").format(where=where))
    if field_spec.dtype == "bool":
        return text.strip().lower() in ("1", "true", "yes", "có", "co")
    return text


def _filters(spec: LayerSpec | None, layer: str, where: list[str]) -> dict[str, tuple[Any, ...]]:
    filters: dict[str, tuple[Any, ...]] = {}
    for item in where:
        field, sep, text = item.partition("=")
        field = field.strip()
        if not sep or not field:
            fail(t("--where {item!r}: expected FIELD=VALUE").format(item=item))
        if spec is None:
            value: Any = text
        elif field not in spec.field_names:
            fail(
                t("--where {item!r}: layer {layer} has no field {field!r}").format(
                    item=item, layer=layer, field=field
                ),
                _near(field, list(spec.field_names)),
            )
        else:
            value = _filter_value(spec, field, text)
        filters[field] = (*filters.get(field, ()), value)
    return filters


def export(
    layer: Annotated[str, typer.Argument(help="The layer to export (sites, cells, villages…).")],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="kml, or kmz (zipped) for Google Earth.")
    ] = ExportFormat.kmz,
    bbox: Annotated[
        str | None, typer.Option("--bbox", help="west,south,east,north in degrees.")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="FIELD=VALUE: keep the features with that value (repeatable; a field given "
            "twice keeps either value).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="File to write (default: <layer>.<format> beside the store)."),
    ] = None,
    store: StoreOption = None,
    lang: LangOption = None,
) -> None:
    """Export a layer, or the features of it within --bbox and --where, as KML/KMZ: styled
    placemarks (sites by operator colour) with every attribute, for Google Earth."""
    from gis_planner.catalogue import CATALOGUE
    from gis_planner.jobs import export as export_job

    target = store_from(store)
    names = [info.name for info in target.list_layers()]
    if layer not in names:
        fail(
            t("the store has no layer {layer!r}").format(layer=layer),
            _near(layer, names) or t("its layers: {names}").format(names=", ".join(names)),
        )
    spec = export_job.ExportSpec(
        layer=layer,
        out=out or output_dir(None, target) / f"{layer}.{fmt.value}",
        bbox=bbox_option(bbox),
        filters=_filters(CATALOGUE.get(layer), layer, where or []),
        lang=lang_from(lang),
    )
    result = export_job.run(spec, target)
    console.print(
        f"[green]{fmt.value}[/green] {result.path}: "
        + t("{count} features").format(count=f"{result.features:,}")
    )
    if result.features == 0:
        console.print(f"[yellow]{t('warning')}[/yellow]: " + t("nothing matched the selection"))


def export_national(
    out: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of the layout (default: national in the store's assets folder, where "
            "the API serves its mosaics)."
        ),
    ] = None,
    admin_version: Annotated[
        str | None,
        typer.Option(help="Version of the provinces it is cut by (default: the newest held)."),
    ] = None,
    layer: Annotated[
        list[str] | None,
        typer.Option("--layer", help="Layer(s) to write (default: every layer with a geometry)."),
    ] = None,
    scope: Annotated[
        str,
        typer.Option(help="Scope of the coverage product cut by province (default: store-wide)."),
    ] = "",
    rasters: Annotated[
        bool, typer.Option("--rasters/--no-rasters", help="Cut the coverage rasters too.")
    ] = True,
    store: StoreOption = None,
) -> None:
    """Write the national data layout: every layer as GeoParquet partitions by province, the
    coverage rasters as one COG a province with a VRT mosaic each, and a STAC catalogue."""
    from gis_planner.jobs import national

    target = store_from(store)
    spec = national.NationalSpec(
        out=out,
        admin_version=admin_version,
        layers=tuple(layer or ()),
        coverage_scope=scope if rasters else None,
    )
    with console.status(t("writing the national layout")) as status:
        result = national.run(
            spec, target, progress=lambda name: status.update(f"{t('writing')} {name}")
        )
    codes = sorted({p.code for p in result.partitions if p.code})
    console.print(
        f"[green]{t('national layout')}[/green] {result.out}: "
        + t("{layers} layers in {parts} partitions of {provinces} provinces ({version})").format(
            layers=len({p.layer for p in result.partitions}),
            parts=len(result.partitions),
            provinces=len(codes),
            version=result.admin_version,
        )
    )
    if result.rasters:
        console.print(
            t("{rasters} rasters as {cogs} COGs and their VRT mosaics").format(
                rasters=len(result.rasters), cogs=sum(len(r.parts) for r in result.rasters)
            )
        )
    elif rasters:
        console.print(f"[yellow]{t('warning')}[/yellow]: " + t("no coverage rasters to cut"))
    if result.registered:
        console.print(
            t("{count} mosaics registered as raster products").format(count=len(result.registered))
        )
    console.print(f"STAC: {result.collection}")


def register(app: typer.Typer) -> None:
    app.command()(export)
    app.command("export-national")(export_national)
