"""Tables as files people open: XLSX with labelled sheets and CSV that Excel reads correctly."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gis_planner.catalogue import CATALOGUE
from gis_planner.i18n import Lang

#: Units written out in words, translated for Vietnamese headers.
_UNITS_VI = {"people": "người", "households": "hộ", "pixels": "điểm ảnh"}


def labelled(frame: pd.DataFrame, layer: str | None, lang: Lang = "vi") -> pd.DataFrame:
    """The frame without geometry, its columns named by the catalogue's labels (with units)."""
    table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    spec = CATALOGUE.get(layer) if layer else None
    if spec is None:
        return table
    names = {}
    for field in spec.fields_with(table.columns):
        unit = field.unit if lang == "en" else _UNITS_VI.get(field.unit or "", field.unit)
        # Shares and ratios show as percentages: their unit would only repeat it.
        unit = f" ({unit})" if unit and unit not in ("ratio", "share") else ""
        names[field.name] = field.label(lang) + unit
    return table.rename(columns=names)


def write_xlsx(
    path: Path, sheets: Mapping[str, tuple[pd.DataFrame, str | None]], lang: Lang = "vi"
) -> Path:
    """One sheet per entry (name → frame and its catalogue layer), formatted for people:
    labelled headers, frozen and filterable, columns as wide as their values, shares as
    percentages and numbers with thousands separators and the decimals they need."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, (frame, layer) in sheets.items():
            table = labelled(frame, layer, lang)
            table.to_excel(writer, sheet_name=sheet[:31], index=False)
            formats = number_formats(frame.drop(columns="geometry", errors="ignore"), layer)
            _format_sheet(writer.sheets[sheet[:31]], table, formats)
    return path


#: Number formats by catalogue unit: shares of 1 as percentages, counts of people whole.
_UNIT_FORMATS = {
    "share": "0.0%", "ratio": "0.0%", "%": "0.0", "people": "#,##0", "households": "#,##0",
    "pixels": "#,##0", "dBm": "0.0", "dB": "0.0", "dBi": "0.0", "m": "#,##0.0", "MHz": "#,##0.#",
    "°": "0.000000",
}  # fmt: skip
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
#: Widest column (characters); longer text wraps in the cell.
MAX_WIDTH = 60


def number_formats(frame: pd.DataFrame, layer: str | None) -> list[str | None]:
    """Each column's Excel number format: from the catalogue's unit, else from its dtype."""
    spec = CATALOGUE.get(layer) if layer else None
    units = {f.name: f.unit for f in spec.fields} if spec else {}
    formats: list[str | None] = []
    for name in frame.columns:
        unit = units.get(name)
        if unit in _UNIT_FORMATS:
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


def _format_sheet(sheet: Worksheet, table: pd.DataFrame, formats: list[str | None]) -> None:
    sheet.freeze_panes = "A2"
    if len(table.columns):
        sheet.auto_filter.ref = sheet.dimensions
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    # Widths from the header's words and a sample of the values: enough to read, not a scan.
    sample = table.head(1000).astype(str)
    for index, name in enumerate(table.columns, start=1):
        longest_word = max((len(word) for word in str(name).split()), default=0)
        values = int(sample.iloc[:, index - 1].str.len().fillna(0).max()) if len(sample) else 0
        width = min(MAX_WIDTH, max(10, longest_word + 2, values + 2))
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = width
        number_format = formats[index - 1]
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format


def write_csv(path: Path, frame: pd.DataFrame, layer: str | None = None, lang: Lang = "vi") -> Path:
    """UTF-8 with a BOM, so that Excel shows Vietnamese diacritics."""
    path.parent.mkdir(parents=True, exist_ok=True)
    labelled(frame, layer, lang).to_csv(path, index=False, encoding="utf-8-sig")
    return path
