"""Tables as files people open: XLSX with labelled sheets and CSV that Excel reads correctly."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from gis_planner.catalogue import CATALOGUE
from gis_planner.i18n import Lang


def labelled(frame: pd.DataFrame, layer: str | None, lang: Lang = "vi") -> pd.DataFrame:
    """The frame without geometry, its columns named by the catalogue's labels (with units)."""
    table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    spec = CATALOGUE.get(layer) if layer else None
    if spec is None:
        return table
    names = {}
    for field in spec.fields_with(table.columns):
        unit = f" ({field.unit})" if field.unit and field.unit != "ratio" else ""
        names[field.name] = field.label(lang) + unit
    return table.rename(columns=names)


def write_xlsx(
    path: Path, sheets: Mapping[str, tuple[pd.DataFrame, str | None]], lang: Lang = "vi"
) -> Path:
    """One sheet per entry (name → frame and its catalogue layer), headers labelled."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet, (frame, layer) in sheets.items():
            labelled(frame, layer, lang).to_excel(writer, sheet_name=sheet[:31], index=False)
    return path


def write_csv(path: Path, frame: pd.DataFrame, layer: str | None = None, lang: Lang = "vi") -> Path:
    """UTF-8 with a BOM, so that Excel shows Vietnamese diacritics."""
    path.parent.mkdir(parents=True, exist_ok=True)
    labelled(frame, layer, lang).to_csv(path, index=False, encoding="utf-8-sig")
    return path
