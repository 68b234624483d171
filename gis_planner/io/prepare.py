"""The first half of an import: read a file, map its columns, parse its cells, place its rows.

``prepare`` turns any supported file into one frame in the layer's fields (and geometry), the
original text of every cell, the source row of every row, and the problems found on the way
(unparsable numbers, unknown operators, coordinates outside the province…). The importer then
validates it against the catalogue and the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.catalogue import PROBLEM_COLUMNS, Assumption, LayerSpec, get_spec

# The validator's collector of problems, so that both halves report in one shape.
from gis_planner.catalogue.validate import _Problems as Problems
from gis_planner.catalogue.values import NAMED_NUMBERS
from gis_planner.crs import VN2000_TM3_105, WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import value_label
from gis_planner.io import derive
from gis_planner.io.columns import COORDINATE_ROLES, WKT_ROLE, ColumnMapping, match_columns
from gis_planner.io.coordinates import Area, projected_to_lonlat, unswap_lonlat
from gis_planner.io.opencellid import CellAssumptions, is_opencellid, read_opencellid, to_cells
from gis_planner.io.parse import as_text, parse_angle, parse_number
from gis_planner.io.tabular import EXTRA_COLUMN, SourceTable, read_csv, read_excel
from gis_planner.io.vector import is_vector, read_vector
from gis_planner.io.vocabulary import (
    Resolved,
    by_code,
    field_vocabulary,
    has_vocabulary,
    suggest_operator,
)
from gis_planner.operators import normalise_operators

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


@dataclass(frozen=True)
class ImportOptions:
    """How to read and write one file."""

    #: CRS of X/Y columns (default VN-2000 TM-3 105°, EPSG:5897) or of a vector file
    #: that has none.
    crs: str | None = None
    #: Source column → field, overriding the synonyms.
    mapping: Mapping[str, str] | None = None
    #: Field → {text in the file → catalogue value}, before the catalogue's own spellings.
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: Excel sheet (name or 1-based number) or vector layer; default every matching one.
    sheet: str | None = None
    #: Add the file's rows to the layer and update the rows of the same key (the default; rows
    #: the store holds unchanged are skipped). False replaces the whole layer, which is refused
    #: when a row is rejected or rows of other layers would lose what they name.
    append: bool = True
    #: Text encoding of a CSV, or a legacy Vietnamese one (tcvn3, vni) of any table, when
    #: detection is not wanted.
    encoding: str | None = None
    #: Field → value for every row that has none (e.g. admin_version, status).
    constants: Mapping[str, str] = field(default_factory=dict)
    #: Accept only rows of this operator (an operator importing its own rows); the rows of
    #: any other operator are rejected with reason ``other_operator``.
    only_operator: str | None = None
    opencellid: CellAssumptions = field(default_factory=CellAssumptions)


@dataclass(frozen=True)
class Context:
    """What rows are checked against, read from the store by the caller."""

    #: The province (grown by its tolerance); None skips the province check.
    area: Area | None = None
    #: The store's administrative units (commune of a site, parent of a unit).
    admin_units: gpd.GeoDataFrame | None = None
    #: Current content of layers in the store, for duplicate ids and idempotent re-imports.
    existing: Mapping[str, pd.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """A file read into the layer's fields, before catalogue validation."""

    spec: LayerSpec
    frame: pd.DataFrame
    #: The cells as read (after column mapping), for the report's values.
    raw: pd.DataFrame
    #: Sheet and source row of every row of ``frame`` (same positions).
    origin: pd.DataFrame
    problems: pd.DataFrame
    fixes: pd.DataFrame
    notes: list[str]
    columns: dict[str, str]
    opencellid: bool


# -- reading ---------------------------------------------------------------------------------
def read_tables(path: Path, spec: LayerSpec, options: ImportOptions) -> list[SourceTable]:
    """The tables of ``path``, by its kind (CSV/TSV, Excel, vector)."""
    if not path.exists():
        raise GisPlannerError(f"{path}: file not found")
    suffix = path.suffix.lower()
    known = tuple(options.mapping or ())
    if suffix in TEXT_SUFFIXES:
        return [read_csv(path, spec, encoding=options.encoding, known=known)]
    if suffix in WORKBOOK_SUFFIXES:
        return read_excel(path, spec, sheet=options.sheet, encoding=options.encoding, known=known)
    if is_vector(path):
        return read_vector(path, layer=options.sheet, crs=options.crs)
    raise GisPlannerError(
        f"{path}: unknown file type {suffix!r} (CSV/TSV, XLSX/XLS/ODS, KML/KMZ, GeoJSON, "
        "SHP/ZIP, GPKG)"
    )


def _map_table(
    table: SourceTable, spec: LayerSpec, options: ImportOptions
) -> tuple[pd.DataFrame, ColumnMapping]:
    frame = table.frame
    attributes = [c for c in frame.columns if c not in ("geometry", EXTRA_COLUMN)]
    mapping = match_columns(attributes, spec, options.mapping)
    columns = dict(mapping.columns)
    # A KML placemark's name is usually the station code.
    name = next((c for c in mapping.unused if c.lower() == "name"), None)
    key = spec.key[0]
    if name is not None and key not in mapping.targets and "name" not in spec.field_names:
        columns[name] = key
    mapped = frame[list(columns)].rename(columns=columns)
    if EXTRA_COLUMN in frame:
        mapped[EXTRA_COLUMN] = frame[EXTRA_COLUMN]
    if isinstance(frame, gpd.GeoDataFrame):
        mapped = gpd.GeoDataFrame(mapped, geometry=frame.geometry.to_numpy(), crs=frame.crs)
    return mapped, ColumnMapping(columns, tuple(c for c in attributes if c not in columns))


def _label(spec: LayerSpec, name: str) -> str:
    if name in spec.field_names:
        return f"{name} ({spec.field(name).label_vi})"
    return {
        "lon": "lon (Kinh độ)",
        "lat": "lat (Vĩ độ)",
        "x": "X (northing)",
        "y": "Y (easting)",
    }.get(name, name)


def _parse_fields(
    frame: pd.DataFrame,
    spec: LayerSpec,
    problems: Problems,
    raw: pd.DataFrame,
    values: Mapping[str, Mapping[str, str]],
) -> None:
    for fs in spec.fields:
        if fs.name not in frame or fs.dtype not in ("int", "float"):
            continue
        column = frame[fs.name]
        named: Resolved | None = None
        if has_vocabulary(fs) and not pd.api.types.is_numeric_dtype(column):
            # Bands named as lists name them ("L1800", "B3", "n78") are their frequency.
            named = field_vocabulary(fs, values.get(fs.name)).resolve(as_text(column))
            keys = named.values.astype(object)
            column = keys.where(keys.isin(named.keys), column)
        parsed = parse_number(column, fs.unit)
        failed = parsed.reason.copy()
        if named is not None:
            _near_misses(spec, fs.name, named.suggestion.where(failed.notna()), problems, raw)
            failed = failed.mask(named.suggestion.notna())
        for reason, text in (("type", "not a number"), ("unit", f"unit not {fs.unit}")):
            message = f"{_label(spec, fs.name)}: {text}"
            problems.add(failed == reason, fs.name, reason, message, raw.get(fs.name, column))
        frame[fs.name] = parsed.values


def _near_misses(
    spec: LayerSpec, name: str, suggestion: pd.Series, problems: Problems, raw: pd.DataFrame
) -> None:
    """Rows whose text is close to a known value but is not one: rejected, with the value."""
    for hint, rows in suggestion.dropna().groupby(suggestion.dropna()).groups.items():
        message = (
            f"{_label(spec, name)}: không có trong danh mục, có phải '{hint}'? "
            f"/ not a known value; did you mean '{hint}'?"
        )
        mask = pd.Series(suggestion.index.isin(rows), index=suggestion.index)
        problems.add(mask, name, "near_miss", message, raw.get(name, suggestion))


def _check_value_mapping(spec: LayerSpec, values: Mapping[str, Mapping[str, str]]) -> None:
    """Each value a mapping file gives must be a field's value in the catalogue."""
    for name, texts in values.items():
        if name not in spec.field_names or not has_vocabulary(spec.field(name)):
            fields = [f.name for f in spec.fields if has_vocabulary(f)]
            raise GisPlannerError(
                f"mapping: values for {name!r}: layer {spec.name!r} has no such enumerated "
                f"field (fields with values: {', '.join(fields)})"
            )
        fs = spec.field(name)
        allowed = fs.allowed or tuple(v.key for v in NAMED_NUMBERS[name])
        wrong = sorted(v for v in texts.values() if v not in allowed)
        if wrong and fs.allowed is None:
            wrong = [v for v in wrong if parse_number(pd.Series([v])).values.isna().all()]
        if wrong:
            raise GisPlannerError(
                f"mapping: {', '.join(map(repr, wrong))} not a value of {name!r} "
                f"(values: {', '.join(allowed)})"
            )


def _assume(
    frame: pd.DataFrame, raw: pd.DataFrame, spec: LayerSpec, assumption: Assumption
) -> pd.DataFrame:
    """Fill an empty field with the catalogue's typical value for the row (a site without a
    height takes its tower type's), flag the row, and list it among the fixes."""
    name, by = assumption.field, assumption.by
    index = frame.index
    current = frame[name] if name in frame else pd.Series(np.nan, index=index)
    # Empty in the file (or a marker such as "N/A"), not a text that failed to parse.
    written = as_text(raw[name]).notna() if name in raw else pd.Series(False, index=index)
    kind = frame[by] if by in frame else pd.Series(pd.NA, index=index, dtype=object)
    # Looked up once for each kind: a column of 100,000 rows names a handful.
    values = assumption.typical()
    codes, kinds = pd.factorize(kind)
    typical = pd.Series(
        np.array([values.get(k, np.nan) for k in kinds] + [np.nan], dtype=np.float64)[codes],
        index=index,
    )
    fill = (current.isna() & ~written & typical.notna()).to_numpy()
    frame[name] = current.mask(fill, typical)
    if assumption.flag in frame:
        frame[assumption.flag] = frame[assumption.flag].astype(object).mask(fill, True)
    else:
        frame[assumption.flag] = pd.Series(fill, index=index, dtype="boolean")
    label = _label(spec, name)
    unit = f" {spec.field(name).unit}" if spec.field(name).unit else ""
    # One message per filled row (the rows the fixes report lists), made once per kind.
    texts = [
        f"{label}: trống, lấy {values[key]:g}{unit}, giá trị điển hình của {value_label(key)} "
        f"({key}) / empty; taken as {values[key]:g}{unit}, typical of "
        f"{value_label(key, 'en')} ({key})"
        if key in values
        else None
        for key in kinds
    ]
    messages = by_code(texts, codes[fill], index[fill])
    return pd.DataFrame(
        {"row": index[fill], "field": name, "value": None, "reason": "assumed",
         "message": messages.to_numpy()}
    )  # fmt: skip


def _resolve_values(
    frame: pd.DataFrame,
    spec: LayerSpec,
    values: Mapping[str, Mapping[str, str]],
    problems: Problems,
    raw: pd.DataFrame,
) -> None:
    """Enumerated fields in the catalogue's keys: operators through their registry, other
    fields through their values' spellings; near misses rejected with a suggestion."""
    for fs in spec.fields:
        if fs.name not in frame or fs.allowed is None:
            continue
        text = as_text(frame[fs.name])
        given = values.get(fs.name)
        if fs.name == "operator":
            keys = normalise_operators(text)
            if given:
                mapped = field_vocabulary(fs, given).resolve(text).values
                keys = mapped.where(mapped.isin(given.values())).astype("string").fillna(keys)
            unknown = text.notna() & keys.isna()
            hints = text[unknown].map(lambda t: suggest_operator(str(t))).astype(object)
            hints = hints.reindex(text.index)
            _near_misses(spec, fs.name, hints, problems, raw)
            message = "operator (Nhà mạng): không có trong danh sách / not in the operator registry"
            problems.add(
                unknown & hints.isna(), "operator", "unknown_operator", message,
                raw.get("operator", text),
            )  # fmt: skip
            frame["operator"] = keys.where(~unknown, text).astype("str")
            continue
        resolved = field_vocabulary(fs, given).resolve(text)
        _near_misses(spec, fs.name, resolved.suggestion, problems, raw)
        frame[fs.name] = resolved.values


def _coordinates(
    frame: pd.DataFrame,
    spec: LayerSpec,
    options: ImportOptions,
    area: Area | None,
    problems: Problems,
    path: Path,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Point geometries from lon/lat or X/Y columns, and the swaps that were fixed."""
    index = frame.index
    fixes = pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})
    if {"lon", "lat"} <= set(frame.columns):
        names = ("lon", "lat")
        first, second = parse_angle(frame["lon"]), parse_angle(frame["lat"])
    elif {"x", "y"} <= set(frame.columns):
        names = ("x", "y")
        first, second = parse_number(frame["x"], "m"), parse_number(frame["y"], "m")
    else:
        found = ", ".join(c for c in frame.columns if c != EXTRA_COLUMN) or "none"
        raise GisPlannerError(
            f"{path}: no coordinate columns for layer {spec.name!r} (mapped columns: {found}); "
            "name them Kinh độ/Vĩ độ (lon/lat) or X/Y, or give a --mapping"
        )
    for name, parsed in zip(names, (first, second), strict=True):
        reason = "dms" if name in ("lon", "lat") else "type"
        label = _label(spec, name)
        problems.add(parsed.failed, name, reason, f"{label}: not a coordinate", frame[name])
        empty = parsed.values.isna() & ~parsed.failed
        problems.add(empty, name, "required", f"{label}: empty coordinate", frame[name])
    a = first.values.to_numpy(dtype=np.float64)
    b = second.values.to_numpy(dtype=np.float64)
    finite = np.concatenate([a[np.isfinite(a)], b[np.isfinite(b)]])
    # X/Y columns holding degrees are GIS-style longitude/latitude, not survey metres.
    degrees = names == ("lon", "lat") or (finite.size > 0 and np.abs(finite).max() <= 180)
    if degrees:
        if area is not None:
            lon, lat, swapped = unswap_lonlat(a, b, area)
        else:
            lon, lat, swapped = a, b, np.zeros(len(a), dtype=bool)
        message = "lat/lon exchanged in the file; read as lon={:.6f}, lat={:.6f}"
    else:
        lon, lat, swapped = projected_to_lonlat(a, b, options.crs or VN2000_TM3_105)
        message = "X/Y exchanged (X is the northing); read as lon={:.6f}, lat={:.6f}"
    if swapped.any():
        # The pair as written, for the rows reported only.
        cells = [as_text(frame[name][swapped]).fillna("") for name in names]
        pair = cells[0] + "; " + cells[1]
        fixes = pd.DataFrame(
            {
                "row": index[swapped],
                "field": "/".join(names),
                "value": pair.to_numpy(),
                "reason": "swapped_coordinates",
                "message": [
                    message.format(x, y) for x, y in zip(lon[swapped], lat[swapped], strict=True)
                ],
            }
        )
    finite = np.isfinite(lon) & np.isfinite(lat)
    geoms = np.full(len(frame), None, dtype=object)
    geoms[finite] = shapely.points(lon[finite], lat[finite])
    return geoms, fixes


#: Geometry collections a WKT cell may hold, nested or not.
MAX_WKT_COLLECTIONS = 16


def _wkt_geometries(text: pd.Series, crs: str | None, problems: Problems) -> np.ndarray:
    """Geometries of a WKT column, in WGS84. The coordinates are in ``crs`` when given; else,
    geometry by geometry, longitude/latitude when they are degrees and VN-2000 TM-3 105°
    metres (x = easting, as WKT has it) when they are not."""
    cells = as_text(text)
    # Only collections nest without bound: thousands deep, GEOS took minutes over one cell
    # (and crashed, deeper). A few levels are all a map's geometry needs.
    collections = cells.str.count("(?i)GEOMETRYCOLLECTION").fillna(0).to_numpy()
    nested = collections > MAX_WKT_COLLECTIONS
    present = cells.notna().to_numpy() & ~nested
    geoms = np.full(len(cells), None, dtype=object)
    geoms[present] = shapely.from_wkt(cells[present].to_numpy(dtype=object), on_invalid="ignore")
    failed = pd.Series(present & shapely.is_missing(geoms), index=text.index)
    message = "geometry (WKT): không phải hình học WKT / not a WKT geometry"
    problems.add(failed, "geometry", "wkt", message, text)
    message = f"geometry (WKT): lồng quá sâu / more than {MAX_WKT_COLLECTIONS} geometry collections"
    problems.add(pd.Series(nested, index=text.index), "geometry", "wkt", message, text)
    usable = ~shapely.is_missing(geoms)
    bounds = np.abs(np.nan_to_num(shapely.bounds(geoms), nan=0.0)).max(axis=1)
    groups = (
        {crs: usable}
        if crs
        else {WGS84: usable & (bounds <= 180), VN2000_TM3_105: usable & (bounds > 180)}
    )
    for source, rows in groups.items():
        if rows.any():
            projected = gpd.GeoSeries(geoms[rows], crs=source).to_crs(WGS84)
            geoms[rows] = shapely.force_2d(projected.to_numpy())
    return geoms


def _outside(geoms: np.ndarray, area: Area, index: pd.Index, problems: Problems) -> None:
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    usable = present.copy()
    usable[present] = shapely.is_valid(geoms[present])
    points = usable & (shapely.get_type_id(geoms) == 0)
    inside = np.ones(len(geoms), dtype=bool)
    if points.any():
        inside[points] = area.contains_lonlat(
            shapely.get_x(geoms[points]), shapely.get_y(geoms[points])
        )
    others = usable & ~points
    if others.any():
        inside[others] = area.covers(geoms[others])
    message = f"geometry: more than {area.tolerance_m:g} m outside the province"
    if not inside.all():
        text = pd.Series(None, index=index, dtype=object)
        text[~inside] = _text_of(geoms[~inside]).to_numpy()
        outside = pd.Series(~inside, index=index)
        problems.add(outside, "geometry", "outside_province", message, text)


def _text_of(geoms: np.ndarray) -> pd.Series:
    out: list[str | None] = []
    for g in geoms:  # only for rows that are reported
        if g is None or shapely.is_empty(g):
            out.append(None)
        elif shapely.get_type_id(g) == 0:
            out.append(f"{shapely.get_x(g):.6f}; {shapely.get_y(g):.6f}")
        else:
            text = shapely.to_wkt(g, rounding_precision=6)
            out.append(text if len(text) <= 80 else text[:77] + "...")
    return pd.Series(out, dtype=object)


def prepare(
    path: Path,
    layer: str,
    options: ImportOptions,
    context: Context,
    tables: Sequence[SourceTable] | None = None,
) -> Prepared:
    """Read ``path`` for ``layer``: fields parsed, operators normalised, points placed.
    ``tables`` are the file's tables when the caller has read them (``read_tables``)."""
    spec = get_spec(layer)
    if not path.exists():
        raise GisPlannerError(f"{path}: file not found")
    notes: list[str] = []
    opencellid = path.suffix.lower() in TEXT_SUFFIXES and is_opencellid(path)
    problems = Problems()
    if opencellid:
        if layer not in ("cells", "sites"):
            raise GisPlannerError(f"{path}: an OpenCelliD export imports as cells and sites")
        spec = get_spec("cells")
        table = read_opencellid(path)
        cells = to_cells(table, options.opencellid)
        if not cells.problems.empty:
            problems.blocks.append(cells.problems)
        tables = [SourceTable(cells.frame, table.rows, None, table.header_row, "utf-8")]
        notes.append("OpenCelliD export: cells grouped into sites; radio fields assumed")
    elif tables is None:
        tables = read_tables(path, spec, options)

    mapped_parts, origins, used_columns = [], [], {}
    for table in tables:
        mapped, mapping = _map_table(table, spec, options)
        mapped_parts.append(mapped)
        origins.append(pd.DataFrame({"sheet": table.sheet, "row": table.rows}))
        used_columns.update(mapping.columns)
        if table.encoding and not opencellid:
            notes.append(f"encoding {table.encoding}")
    is_geo = any(isinstance(m, gpd.GeoDataFrame) for m in mapped_parts)
    frame = pd.concat(mapped_parts, ignore_index=True)
    origin = pd.concat(origins, ignore_index=True)
    raw = frame.copy()
    index = frame.index

    if EXTRA_COLUMN in frame:
        extra = as_text(frame[EXTRA_COLUMN]).notna()
        message = "row: more cells than the header has columns"
        problems.add(extra, "row", "extra_cells", message, frame[EXTRA_COLUMN])
        frame = frame.drop(columns=EXTRA_COLUMN)

    for name, value in options.constants.items():
        if name not in spec.field_names:
            raise GisPlannerError(f"--set {name}: layer {spec.name!r} has no such field")
        current = frame[name] if name in frame else pd.Series(pd.NA, index=index, dtype=object)
        frame[name] = as_text(current).astype(object).fillna(value)
        notes.append(f"{name} = {value} where empty")
    if spec.name == "admin_units":
        for name, value in derive.ADMIN_DEFAULTS.items():
            if name not in frame or as_text(frame[name]).isna().any():
                current = frame[name] if name in frame else pd.Series(pd.NA, index=index)
                frame[name] = as_text(current).astype(object).fillna(value)
                notes.append(f"{name} = {value} where empty (default)")
    if "source" in spec.field_names and "source" not in frame:
        frame["source"] = f"import: {path.name}"
    _check_value_mapping(spec, options.values)
    _parse_fields(frame, spec, problems, raw, options.values)
    _resolve_values(frame, spec, options.values, problems, raw)
    assumed = [_assume(frame, raw, spec, assumption) for assumption in spec.assumptions]

    fixes = pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})
    geoms: np.ndarray | None = None
    if spec.geometry_type is not None:
        if is_geo:
            geoms = gpd.GeoSeries(frame.geometry).to_numpy()
        elif WKT_ROLE in frame:
            geoms = _wkt_geometries(frame[WKT_ROLE], options.crs, problems)
        elif spec.geometry_type == "Point":
            geoms, fixes = _coordinates(frame, spec, options, context.area, problems, path)
        else:
            raise GisPlannerError(
                f"{path}: layer {spec.name!r} has {spec.geometry_type} geometries; give them "
                "in a WKT column, or import KML/KMZ, GeoJSON, Shapefile or GeoPackage"
            )
        if context.area is not None and spec.name != "admin_units":
            _outside(geoms, context.area, index, problems)
        columns = [c for c in frame.columns if c not in ("geometry", WKT_ROLE, *COORDINATE_ROLES)]
        frame = gpd.GeoDataFrame(pd.DataFrame(frame[columns]), geometry=geoms, crs=WGS84)

    fixes = pd.concat([fixes, *assumed], ignore_index=True) if assumed else fixes
    return Prepared(
        spec, frame, raw, origin, problems.frame(), fixes, notes, used_columns, opencellid
    )
