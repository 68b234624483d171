"""``import`` and ``validate``: bring station lists and layers in, with a reject report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_planner.cli.common import StoreOption, console, crs_option, output_dir, store_from
from gis_planner.defaults import DEFAULT_OUTLINE_TOLERANCE_M, VN2000_TM3_105

if TYPE_CHECKING:
    from gis_planner.io import ImportResult
    from gis_planner.jobs.importing import ImportSpec

CrsOption = Annotated[
    str | None,
    typer.Option(
        "--crs",
        help=f"CRS of X/Y columns (default {VN2000_TM3_105}, VN-2000 TM-3 105°; X = northing) "
        "or of a vector file without one, e.g. EPSG:9209.",
    ),
]
MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="Mapping file (YAML, JSON or CSV): source column → field, and the values of a "
        "field as the file writes them → catalogue value.",
    ),
]
SheetOption = Annotated[
    str | None,
    typer.Option("--sheet", help="Excel sheet (name or number) or layer of a vector file."),
]
EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Text encoding of a CSV, or tcvn3 / vni for legacy Vietnamese text in any file "
        "(default: detected).",
    ),
]
ReplaceOption = Annotated[
    bool,
    typer.Option(
        "--replace/--append",
        help="Replace the whole layer with the file's rows; refused, writing nothing, when a "
        "row is rejected or rows of other layers would lose the rows they name. By default "
        "(--append) rows are added, and rows of a key the layer holds are updated.",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="FIELD=VALUE for rows without a value (repeatable)."),
]
ToleranceOption = Annotated[
    float, typer.Option("--tolerance-m", help="How far outside the province rows may lie.")
]
ReportOption = Annotated[
    Path | None, typer.Option("--report-dir", help="Where to write the reject report.")
]


def _constants(values: list[str] | None) -> dict[str, str]:
    out = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"--set {item!r}: expected FIELD=VALUE")
        out[name.strip()] = value.strip()
    return out


def _layer(name: str) -> str:
    from gis_planner.catalogue import CATALOGUE

    if name not in CATALOGUE:
        raise typer.BadParameter(f"unknown layer {name!r} (layers: {', '.join(CATALOGUE)})")
    return name


def _spec(
    file: Path,
    layer: str,
    crs: str | None,
    mapping: Path | None,
    sheet: str | None,
    replace: bool,
    encoding: str | None,
    constants: list[str] | None,
    tolerance_m: float,
    report_dir: Path | None,
) -> ImportSpec:
    """The import job's spec from the options shared by ``import`` and ``validate``."""
    from gis_planner.io import ImportOptions
    from gis_planner.io.columns import read_mapping
    from gis_planner.jobs.importing import ImportSpec

    if crs is not None:
        crs_option(crs)

    target = _layer(layer)
    given = read_mapping(mapping) if mapping else None
    options = ImportOptions(
        crs=crs,
        mapping=given.columns if given else None,
        values=given.values if given else {},
        sheet=sheet,
        append=not replace,
        encoding=encoding,
        constants=_constants(constants),
    )
    return ImportSpec(
        file=file,
        layer=target,
        options=options,
        tolerance_m=tolerance_m,
        report_dir=report_dir,
    )


def print_summary(result: ImportResult, *, wrote: bool) -> None:
    """The counts of an import, rejected rows by reason, and where the reports are."""
    from rich.table import Table

    from gis_planner.io.report import reason_text

    table = Table(title=f"{result.file.name} → {result.layer}", show_header=False)
    table.add_column("", no_wrap=True)
    table.add_column("", justify="right")
    table.add_row("read", f"{result.read:,}")
    table.add_row("accepted", f"{result.accepted:,}")
    table.add_row("  of which unchanged (already in the store)", f"{result.unchanged:,}")
    table.add_row("  of which updating a row of the same key", f"{result.updated:,}")
    for reason, count in result.fixed_by_reason().items():
        table.add_row(f"  of which {reason_text(str(reason))} ({reason})", f"{count:,}")
    if wrote:
        for name, count in result.written.items():
            table.add_row(f"written to {name}", f"{count:,}")
    style = "red" if result.rejected else "green"
    table.add_row(f"[{style}]rejected[/{style}]", f"[{style}]{result.rejected:,}[/{style}]")
    for reason, count in result.rejected_by_reason().items():
        table.add_row(f"  {reason_text(str(reason))} ({reason})", f"{count:,}")
    console.print(table)
    for note in result.notes:
        console.print(f"[dim]note:[/dim] {note}")
    if result.columns:
        mapped = ", ".join(f"{k} → {v}" for k, v in result.columns.items())
        console.print(f"[dim]columns:[/dim] {mapped}")
    console.print(f"reject report: {result.report_path}")
    if result.fixes_path:
        console.print(f"fixed and assumed values: {result.fixes_path}")


def import_command(
    layer: Annotated[str, typer.Argument(help="Target layer (sites, cells, admin_units…).")],
    file: Annotated[Path, typer.Argument(help="CSV/TSV, XLSX, KML/KMZ, GeoJSON, SHP/ZIP, GPKG.")],
    crs: CrsOption = None,
    mapping: MappingOption = None,
    sheet: SheetOption = None,
    replace: ReplaceOption = False,
    encoding: EncodingOption = None,
    set_: SetOption = None,
    tolerance_m: ToleranceOption = DEFAULT_OUTLINE_TOLERANCE_M,
    report_dir: ReportOption = None,
    store: StoreOption = None,
) -> None:
    """Import FILE into LAYER: all accepted rows in one transaction, every rejected row in the
    reject report. Exits 1 when any row was rejected."""
    from gis_planner.jobs import importing

    target = store_from(store, create=True)
    spec = _spec(file, layer, crs, mapping, sheet, replace, encoding, set_, tolerance_m, report_dir)
    result = importing.run(spec, target)
    print_summary(result, wrote=True)
    if result.rejected:
        raise typer.Exit(1)


def validate_command(
    file: Annotated[Path, typer.Argument(help="The file to check.")],
    layer: Annotated[str, typer.Option("--layer", help="Layer the file is for.")] = "sites",
    crs: CrsOption = None,
    mapping: MappingOption = None,
    sheet: SheetOption = None,
    replace: ReplaceOption = False,
    encoding: EncodingOption = None,
    set_: SetOption = None,
    tolerance_m: ToleranceOption = DEFAULT_OUTLINE_TOLERANCE_M,
    report_dir: ReportOption = None,
    store: StoreOption = None,
) -> None:
    """Check FILE as ``import`` would, writing only the reject report. Exits 1 on rejects."""
    from gis_planner.jobs import importing

    target = store_from(store, create=True)
    reports = report_dir or output_dir(None, target) / "rejects"
    spec = _spec(file, layer, crs, mapping, sheet, replace, encoding, set_, tolerance_m, reports)
    result = importing.validate(spec, target)
    print_summary(result, wrote=False)
    if result.rejected:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("validate")(validate_command)
