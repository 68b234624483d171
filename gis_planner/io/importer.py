"""Import one file into a layer: read, map, parse, check, validate, and write all-or-nothing.

``check_file`` does everything but write; ``import_file`` writes the accepted rows in one store
transaction (a failure or a kill leaves the store as it was) and the reject report beside the
store. By default the accepted rows are added to the layer, each in place of the store's row of
the same key; replacing the whole layer is asked for, and refused when a row is rejected or rows
of other layers would lose the rows they name. Re-importing a file is idempotent: rows the store
already holds unchanged are counted ``unchanged`` and not written again.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.compute as pc

from gis_planner.catalogue import get_spec, validate, validated
from gis_planner.catalogue.validate import key_texts
from gis_planner.errors import GisPlannerError, UnknownLayer
from gis_planner.io import derive
from gis_planner.io.coordinates import Area, province_outline
from gis_planner.io.cycles import cycles_uncollected
from gis_planner.io.opencellid import group_sites, is_opencellid
from gis_planner.io.prepare import TEXT_SUFFIXES, Context, ImportOptions, prepare, read_tables
from gis_planner.io.references import dangling, referring_layers
from gis_planner.io.report import REPORT_COLUMNS, ImportResult, empty_report, write_report
from gis_planner.io.store_diff import compare_with_store
from gis_planner.io.tabular import SourceTable
from gis_planner.store import LayerStore, LayerWriter


class ReplaceRefused(GisPlannerError):
    """A layer was not replaced: rows of the file were rejected, or rows of other layers would
    lose what they refer to. Nothing was written."""


@dataclass(frozen=True)
class Checked:
    """A file checked against a layer: accepted rows per layer to write, and the report."""

    result: ImportResult
    to_write: dict[str, pd.DataFrame]


@cycles_uncollected()
def check_file(
    path: Path,
    layer: str,
    *,
    options: ImportOptions | None = None,
    context: Context | None = None,
    tables: Sequence[SourceTable] | None = None,
) -> Checked:
    """Read ``path`` for ``layer`` and sort every row into accepted or rejected (with reasons).

    Nothing is written. Row numbers in the report are those the user sees in the source.
    ``tables`` are the file's tables when the caller has read them (``read_tables``).
    """
    options = options or ImportOptions()
    context = context or Context()
    prepared = prepare(path, layer, options, context, tables)
    spec, frame, raw, origin = prepared.spec, prepared.frame, prepared.raw, prepared.origin
    notes, opencellid, fixes = prepared.notes, prepared.opencellid, prepared.fixes
    index = frame.index
    early = prepared.problems
    sites: gpd.GeoDataFrame | None = None
    if isinstance(frame, gpd.GeoDataFrame):
        if spec.name == "admin_units":
            frame = derive.admin_fields(frame, context.admin_units)
        if opencellid:
            ok = ~index.isin(early["row"]) & frame.geometry.notna().to_numpy()
            sites, site_ids = group_sites(frame[ok], options.opencellid)
            frame["site_id"] = site_ids.reindex(index)
            frame.loc[ok, "geometry"] = sites.set_index("site_id").geometry[site_ids].to_numpy()
        if spec.name == "sites" or sites is not None:
            target = sites if sites is not None else frame
            communes = _communes(context.admin_units)
            if "commune_code" not in target or target["commune_code"].isna().all():
                target["commune_code"] = derive.site_communes(target.geometry, communes)

    validation = validate(frame, spec)
    late = validation.problems
    coordinate_rows = early.loc[early["field"].isin(["lon", "lat", "x", "y"]), "row"]
    late = late[~((late["field"] == "geometry") & late["row"].isin(coordinate_rows))]
    if opencellid:
        # Cells refused for their network have no operator and no site: consequences, not
        # further reasons.
        derived = late["field"].isin(["site_id", "operator"])
        late = late[~(derived & late["row"].isin(early["row"]))]
    merged = pd.concat([early, late], ignore_index=True)
    merged = merged.drop_duplicates(["row", "field"], keep="first")
    accepted = validation.valid[~validation.valid.index.isin(merged["row"])]
    if options.only_operator is not None:
        if "operator" not in accepted.columns:
            raise GisPlannerError(f"layer {spec.name!r} has no operator: it is not an operator's")
        foreign = accepted["operator"].to_numpy(dtype=object) != options.only_operator
        refused = _conflicts(
            accepted[foreign],
            "operator",
            f"only rows of {options.only_operator!r} may be imported here",
            reason="other_operator",
        )
        merged = pd.concat([merged, refused], ignore_index=True)
        accepted = accepted[~foreign]

    known_sites = context.existing.get("sites")
    if spec.name == "cells" and sites is None and known_sites is not None:
        # A cell names a site of its own operator: another operator's site with that id is not
        # its site, and is refused exactly as an id no site has (nothing tells who holds it).
        pair = ["site_id", "operator"]
        held = pd.MultiIndex.from_frame(known_sites[pair].astype("string"))
        named = pd.MultiIndex.from_frame(accepted[pair].astype("string"))
        unknown = ~named.isin(held)
        refused = _conflicts(
            accepted[unknown],
            "site_id",
            "no site of the cell's operator has this id in the store; import the site first",
            reason="unknown_site",
        )
        merged = pd.concat([merged, refused], ignore_index=True)
        accepted = accepted[~unknown]

    to_write: dict[str, pd.DataFrame] = {}
    if sites is not None:
        sites_spec = get_spec("sites")
        kept = validate(sites[sites["site_id"].isin(accepted["site_id"])], sites_spec)
        kept.raise_if_problems(source=f"{path} (sites grouped from cells)")
        site_diff = compare_with_store(kept.valid, context.existing.get("sites"), sites_spec)
        site_rows = kept.valid[~site_diff.same] if options.append else kept.valid
        if not site_rows.empty:
            to_write["sites"] = site_rows

    diff = compare_with_store(accepted, context.existing.get(spec.name), spec)
    unchanged = int(diff.same.sum())
    rows = accepted[~diff.same] if options.append else accepted
    if not rows.empty:
        to_write[spec.name] = rows
    elif not options.append:
        notes.append("nothing accepted: the layer in the store is left as it was")
    rejected_labels = pd.Index(merged["row"].unique())

    rejects = _report(merged, origin, raw, path)
    fixes = fixes[fixes["row"].isin(accepted.index)]
    result = ImportResult(
        file=path,
        layer=spec.name,
        read=len(frame),
        accepted=len(accepted),
        rejected=len(rejected_labels),
        unchanged=unchanged,
        updated=int(diff.changed.sum()) if options.append else 0,
        written={name: len(rows) for name, rows in to_write.items()},
        rejects=rejects,
        fixes=_report(fixes, origin, raw, path),
        notes=tuple(dict.fromkeys(notes)),
        columns=prepared.columns,
        rows=accepted,
    )
    return Checked(result, to_write)


def _conflicts(rows: pd.DataFrame, field_name: str, message: str, reason: str) -> pd.DataFrame:
    key = field_name.split("+")[0]
    return pd.DataFrame(
        {
            "row": rows.index,
            "field": field_name,
            "value": rows[key].to_numpy(dtype=object),
            "reason": reason,
            "message": f"{field_name}: {message}",
        }
    )


def _communes(admin_units: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if admin_units is None or admin_units.empty:
        return None
    mask = (admin_units["level"] == "commune") & (admin_units["admin_version"] == "pre2025")
    return admin_units[mask].sort_values("code", ignore_index=True)


def _report(
    problems: pd.DataFrame, origin: pd.DataFrame, raw: pd.DataFrame, path: Path
) -> pd.DataFrame:
    """Problems by source row: the file, sheet and row the user sees, and the original text."""
    if problems.empty:
        return empty_report()
    labels = problems["row"].to_numpy(dtype=np.int64)
    value = problems["value"].to_numpy(dtype=object).copy()
    for name, group in problems.groupby("field").groups.items():
        if name in raw.columns and name != "geometry":
            positions = problems.index.get_indexer(group)
            value[positions] = raw[name].take(labels[positions]).to_numpy(dtype=object)
    rows = origin["row"].to_numpy()
    message = problems["message"].astype(str)
    # Validation names the first of two duplicates by its label: say its source row instead.
    message = message.str.replace(
        r"duplicate of row (\d+)",
        lambda m: f"duplicate of row {rows[int(m.group(1))]}",
        regex=True,
    )
    out = pd.DataFrame(
        {
            "file": path.name,
            "sheet": origin["sheet"].to_numpy(dtype=object)[labels],
            "row": origin["row"].to_numpy()[labels],
            "field": problems["field"].to_numpy(dtype=object),
            "value": value,
            "reason": problems["reason"].to_numpy(dtype=object),
            "message": message.to_numpy(dtype=object),
        }
    )
    return out.sort_values(["sheet", "row", "field"], kind="stable", na_position="first")[
        REPORT_COLUMNS
    ].reset_index(drop=True)


def report_paths(report_dir: Path, path: Path, layer: str) -> tuple[Path, Path]:
    stem = f"{path.stem}.{layer}"
    return report_dir / f"{stem}.rejects.csv", report_dir / f"{stem}.fixes.csv"


def context_from_store(store: LayerStore, area: Area | None, layers: tuple[str, ...]) -> Context:
    """The checks' context from a store: its admin units, the current rows of ``layers``, and
    ``area`` (default: the store's province with the default tolerance)."""
    held = {name: _read_if_held(store, name) for name in dict.fromkeys(("admin_units", *layers))}
    admin = held["admin_units"]
    assert admin is None or isinstance(admin, gpd.GeoDataFrame)
    if area is None and admin is not None and (admin["level"] == "province").any():
        area = Area.from_outline(province_outline(admin))
    existing = {name: held[name] for name in layers if held[name] is not None}
    return Context(area=area, admin_units=admin, existing=existing)


def _read_if_held(store: LayerStore, name: str) -> pd.DataFrame | None:
    """The layer ``name`` of ``store``; None when the store has no such layer (asked by the
    read itself, not before it)."""
    try:
        return store.read(name)
    except UnknownLayer:
        return None


@cycles_uncollected()
def import_file(
    path: Path,
    layer: str,
    store: LayerStore,
    *,
    options: ImportOptions | None = None,
    area: Area | None = None,
    report_dir: Path | None = None,
) -> ImportResult:
    """Check ``path`` and write its accepted rows to ``store`` in one transaction.

    The reject report (and the list of fixed rows, if any) is written as CSV to
    ``report_dir`` (default: ``<store assets>/rejects``).
    """
    options = options or ImportOptions()
    # Cells name their sites; an OpenCelliD export writes both. A list of sites needs neither
    # the store's cells (unless it replaces the layer: see below).
    opencellid = _is_opencellid(path)
    cells = layer == "cells" or (layer == "sites" and opencellid)
    written = ("sites", "cells") if cells else (layer,)
    layers = written
    if not options.append:
        # A replacement is checked against the layers that refer to the replaced one.
        referring = (name for target in written for name in referring_layers(target))
        layers = tuple(dict.fromkeys((*written, *referring)))
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The store's rows are read while the file is: the workbook reader and GDAL let the
        # other thread run.
        reading = pool.submit(context_from_store, store, area, layers)
        tables = None if opencellid else read_tables(path, get_spec(layer), options)
        context = reading.result()
    checked = check_file(path, layer, options=options, context=context, tables=tables)
    result = save_reports(checked.result, report_dir or store.assets_dir / "rejects")
    if not options.append:
        _refuse_unsound_replace(result, checked.to_write, context)
    if checked.to_write:
        with store.transaction() as tx:
            for name, rows in checked.to_write.items():
                metadata = {"source_file": path.name}
                if options.append:
                    _upsert(tx, name, rows, metadata)
                else:
                    # Rows the check validated: the store writes them without a second pass.
                    tx.write(name, validated(rows, get_spec(name)), mode="replace",
                             metadata=metadata)  # fmt: skip
    return result


def _is_opencellid(path: Path) -> bool:
    return path.suffix.lower() in TEXT_SUFFIXES and path.is_file() and is_opencellid(path)


def _upsert(tx: LayerWriter, name: str, rows: pd.DataFrame, metadata: dict[str, str]) -> None:
    """Add ``rows`` to a layer, in place of its rows of the same key. Read inside the
    transaction, so that no writer's rows are lost between the check and the write. The rows
    were validated by the check, and the layer's when they were written: neither is
    validated again."""
    spec = get_spec(name)
    if not tx.has_layer(name):
        tx.write(name, validated(rows, spec), mode="append", metadata=metadata)
        return
    key = list(spec.key)
    current = tx.read(name)
    new_keys = key_texts(rows, key)
    replaced = pc.is_in(key_texts(current, key), value_set=new_keys).to_numpy(zero_copy_only=False)
    # Appended rows update the spatial index one by one; a layer written whole builds it at
    # once, twice as fast when the new rows outnumber the old.
    if not replaced.any() and len(rows) <= len(current):
        tx.write(name, validated(rows, spec), mode="append", metadata=metadata)
        return
    kept = current[~replaced]
    merged = pd.concat([kept, rows[kept.columns]], ignore_index=True)
    if isinstance(current, gpd.GeoDataFrame):
        merged = gpd.GeoDataFrame(merged, geometry=current.geometry.name, crs=current.crs)
    tx.write(name, validated(merged, spec), mode="replace", metadata=metadata)


def _refuse_unsound_replace(
    result: ImportResult, to_write: dict[str, pd.DataFrame], context: Context
) -> None:
    """Raises ``ReplaceRefused`` when replacing would drop rows the file failed to give (some
    were rejected) or rows that other layers refer to."""
    reasons = []
    if result.rejected:
        counts = ", ".join(f"{k}: {v}" for k, v in result.rejected_by_reason().items())
        reasons.append(f"{result.rejected} row(s) rejected ({counts})")
    for name, rows in to_write.items():
        for referrer, count in dangling(name, rows, context.existing).items():
            reasons.append(f"{count} row(s) of {referrer!r} would lose the {name} they name")
    if reasons:
        report = f" (reject report {result.report_path.name})" if result.report_path else ""
        raise ReplaceRefused(
            f"{result.file.name}: layer {result.layer!r} not replaced, nothing written: "
            f"{'; '.join(reasons)}. Fix the file{report} or add to the layer instead"
        )


def save_reports(result: ImportResult, report_dir: Path) -> ImportResult:
    """Write the reject report (always) and the fixes (when any) of ``result``."""
    rejects_path, fixes_path = report_paths(report_dir, result.file, result.layer)
    write_report(result.rejects, rejects_path)
    fixed = write_report(result.fixes, fixes_path) if not result.fixes.empty else None
    return ImportResult(**{**result.__dict__, "report_path": rejects_path, "fixes_path": fixed})


__all__ = [
    "Checked",
    "Context",
    "ImportOptions",
    "ReplaceRefused",
    "check_file",
    "context_from_store",
    "import_file",
    "save_reports",
]
