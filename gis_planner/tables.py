"""Tables as files people open: XLSX with labelled sheets and CSV that Excel reads correctly.

A table for people names what its codes stand for (``names``: unit names by code, beside each
``*_code`` column) and says where each listed place is (longitude and latitude of points)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from gis_planner.catalogue import CATALOGUE
from gis_planner.crs import WGS84
from gis_planner.i18n import Lang

#: Units written out in words, translated for Vietnamese headers.
_UNITS_VI = {"people": "người", "households": "hộ", "pixels": "điểm ảnh"}


#: Headers of the columns a table for people adds (Vietnamese, English).
_ADDED = {"lon": ("Kinh độ", "Longitude"), "lat": ("Vĩ độ", "Latitude")}
_NAME_SUFFIX = "_name"
#: Six decimals of a degree: about 10 cm.
_DEGREES = "0.000000"


def for_people(frame: pd.DataFrame, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``frame`` without geometry, with the name of each ``*_code`` column's unit beside it
    (from ``names``, unit names by code) and the longitude and latitude of point geometries."""
    table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    if names:
        for column in [c for c in table.columns if str(c).endswith("_code")]:
            named = table[column].astype("string").map(names)
            if named.notna().any():
                at = table.columns.get_loc(column) + 1
                table.insert(at, f"{column}{_NAME_SUFFIX}", named)
    geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else None
    if geometry is not None and len(geometry) and (geometry.geom_type == "Point").all():
        lonlat = geometry.to_crs(WGS84) if geometry.crs is not None else geometry
        table["lon"] = lonlat.x.round(6).to_numpy()
        table["lat"] = lonlat.y.round(6).to_numpy()
    return table


def _name_header(code_header: str, lang: Lang) -> str:
    """The header of the names beside a code column: "Mã xã" → "Tên xã", "Commune code" →
    "Commune name"."""
    if lang == "vi" and code_header.startswith("Mã "):
        return "Tên " + code_header[len("Mã ") :]
    if lang == "en" and code_header.lower().endswith(" code"):
        return code_header[: -len(" code")] + " name"
    return f"{code_header} – {'tên' if lang == 'vi' else 'name'}"


def labelled(frame: pd.DataFrame, layer: str | None, lang: Lang = "vi") -> pd.DataFrame:
    """The frame's columns named by the catalogue's labels (with units), and the columns
    ``for_people`` adds by theirs."""
    table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    spec = CATALOGUE.get(layer) if layer else None
    headers: dict[str, str] = {}
    if spec is not None:
        for field in spec.fields_with(table.columns):
            unit = field.unit if lang == "en" else _UNITS_VI.get(field.unit or "", field.unit)
            # Shares and ratios show as percentages: their unit would only repeat it.
            unit = f" ({unit})" if unit and unit not in ("ratio", "share") else ""
            headers[field.name] = field.label(lang) + unit
    for column in table.columns:
        if column in _ADDED and column not in headers:
            headers[column] = _ADDED[column][0 if lang == "vi" else 1]
        elif str(column).endswith(_NAME_SUFFIX) and column not in headers:
            code = str(column)[: -len(_NAME_SUFFIX)]
            headers[column] = _name_header(headers.get(code, code).split(" (")[0], lang)
    return table.rename(columns=headers)


def write_xlsx(
    path: Path,
    sheets: Mapping[str, tuple[pd.DataFrame, str | None]],
    lang: Lang = "vi",
    names: Mapping[str, str] | None = None,
) -> Path:
    """One sheet per entry (name → frame and its catalogue layer), formatted for people:
    labelled headers, frozen and filterable, columns as wide as their values, shares as
    percentages and numbers with thousands separators and the decimals they need, names
    beside codes and coordinates of points (``for_people``).

    Written by XlsxWriter a column at a time, each cell by one typed call: pandas' formatter
    and openpyxl's cell objects made the village tables of the whole province (half a million
    cells) most of a speeds run. Text is always written as text, so a value that begins with
    ``=`` never becomes a formula in the reader's Excel."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(path) as book:
        header = book.add_format(
            {"bold": True, "bg_color": _HEADER_FILL, "text_wrap": True, "valign": "top"}
        )
        styles: dict[str, Format] = {}
        for sheet_name, (frame, layer) in sheets.items():
            shown = for_people(frame, names)
            table = labelled(shown, layer, lang)
            sheet = book.add_worksheet(sheet_name[:31])
            sheet.freeze_panes(1, 0)
            n_rows, n_columns = table.shape
            if n_columns:
                sheet.autofilter(0, 0, n_rows, n_columns - 1)
            formats = number_formats(shown, layer)
            for index, name in enumerate(table.columns):
                number_format = formats[index]
                style = None
                if number_format:
                    if number_format not in styles:
                        styles[number_format] = book.add_format({"num_format": number_format})
                    style = styles[number_format]
                column = table.iloc[:, index]
                # Cells written without a style of their own take their column's.
                sheet.set_column(index, index, _width(str(name), column), style)
                sheet.write_string(0, index, str(name), header)
                _write_column(sheet, index, column)
    return path


#: Number formats by catalogue unit: shares of 1 as percentages, counts of people whole.
_UNIT_FORMATS = {
    "share": "0.0%", "ratio": "0.0%", "%": "0.0", "people": "#,##0", "households": "#,##0",
    "pixels": "#,##0", "dBm": "0.0", "dB": "0.0", "dBi": "0.0", "m": "#,##0.0", "MHz": "#,##0.#",
    "°": "0.000000",
}  # fmt: skip
_HEADER_FILL = "#DDEBF7"
#: Widest column (characters); longer text wraps in the cell.
MAX_WIDTH = 60


def number_formats(frame: pd.DataFrame, layer: str | None) -> list[str | None]:
    """Each column's Excel number format: from the catalogue's unit, else from its dtype."""
    spec = CATALOGUE.get(layer) if layer else None
    units = {f.name: f.unit for f in spec.fields} if spec else {}
    formats: list[str | None] = []
    for name in frame.columns:
        unit = units.get(name)
        if name in _ADDED and name not in units:
            formats.append(_DEGREES)
        elif unit in _UNIT_FORMATS:
            formats.append(_UNIT_FORMATS[unit])
        elif pd.api.types.is_bool_dtype(frame[name].dtype):
            formats.append(None)
        elif pd.api.types.is_integer_dtype(frame[name].dtype):
            formats.append("#,##0")
        elif pd.api.types.is_float_dtype(frame[name].dtype):
            formats.append("#,##0.00")
        else:
            formats.append(None)
    return formats


def _width(header: str, column: pd.Series) -> int:
    """From the header's words and a sample of the values: enough to read, not a scan."""
    longest_word = max((len(word) for word in header.split()), default=0)
    sample = column.head(1000).astype(str)
    values = int(sample.str.len().fillna(0).max()) if len(sample) else 0
    return min(MAX_WIDTH, max(10, longest_word + 2, values + 2))


def _write_column(sheet: Worksheet, index: int, column: pd.Series) -> None:
    """The column's values below its header, each by the call of its type. Missing values,
    and infinities (which a sheet cannot hold), are left blank as pandas leaves them."""
    if pd.api.types.is_bool_dtype(column.dtype):
        flags = column.to_numpy(dtype=object)
        for row in np.flatnonzero(column.notna().to_numpy()).tolist():
            sheet.write_boolean(row + 1, index, bool(flags[row]))
        return
    if pd.api.types.is_numeric_dtype(column.dtype):
        finite = np.isfinite(column.to_numpy(dtype=np.float64, na_value=np.nan))
        values = column.to_numpy(dtype=object)  # integers as they are, not as doubles
        for row in np.flatnonzero(finite).tolist():
            sheet.write_number(row + 1, index, values[row])
        return
    for row, value in enumerate(column.tolist(), start=1):
        if value is None or value is pd.NA or value is pd.NaT:
            continue
        if isinstance(value, bool | np.bool_):
            sheet.write_boolean(row, index, bool(value))
        elif isinstance(value, int | float | np.integer | np.floating):
            if np.isfinite(value):
                sheet.write_number(row, index, value)
        else:
            sheet.write_string(row, index, str(value))


def write_csv(
    path: Path,
    frame: pd.DataFrame,
    layer: str | None = None,
    lang: Lang = "vi",
    names: Mapping[str, str] | None = None,
) -> Path:
    """UTF-8 with a BOM, so that Excel shows Vietnamese diacritics; names beside codes and
    coordinates of points as in ``write_xlsx``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = labelled(for_people(frame, names), layer, lang)
    table.to_csv(path, index=False, encoding="utf-8-sig")
    return path
