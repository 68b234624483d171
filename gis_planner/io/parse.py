"""Pure, vectorised parsers for the messy cells of station lists: numbers, units, DMS angles.

Each parser takes a pandas Series of whatever was read and returns a ``Parsed`` pair: the values
(float64, NaN where nothing usable) and a reason code per row where a present value could not be
read (``<NA>`` where it parsed or was simply empty). Empty markers ("", "N/A", "-", "không có")
are missing values, not failures: whether a missing value is acceptable is the catalogue's call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis_planner.i18n import fold

#: Cell texts that mean "no value" in the lists operators send.
MISSING_MARKERS = frozenset(
    {"", "-", "--", "—", "–", "?", ".", "n/a", "na", "#n/a", "n.a.", "nan", "null", "none",
     "khong", "khong co", "chua co", "k/c", "kxd", "khong xac dinh"}
)  # fmt: skip

#: Unit suffixes accepted after a number, by the catalogue unit of the field (folded, no spaces),
#: with the factor that converts them to that unit.
UNIT_SUFFIXES: dict[str, dict[str, float]] = {
    "m": {"m": 1.0, "met": 1.0, "meter": 1.0, "metre": 1.0, "meters": 1.0, "km": 1000.0},
    "MHz": {"mhz": 1.0, "ghz": 1000.0},
    "°": {"°": 1.0, "deg": 1.0, "do": 1.0, "độ": 1.0},
    "dBm": {"dbm": 1.0},
    "dB": {"db": 1.0},
    "dBi": {"dbi": 1.0},
    "people": {"nguoi": 1.0},
    "households": {"ho": 1.0},
    "cores": {"soi": 1.0, "fo": 1.0, "core": 1.0, "cores": 1.0},
}

_NUMBER = re.compile(r"^([+-]?)(\d[\d.,\s]*\d|\d)?([.,]\d+)?$")
_NUMBER_UNIT = re.compile(r"^\s*([+-]?\d[\d.,\s]*)\s*([^\d\s.,+-][^\d]*)?\s*$")
# Degrees, optional minutes, optional seconds, with any of the marks people type, and a
# hemisphere letter before or after.
_DMS = re.compile(
    r"""^\s*(?P<pre>[NSEWnsew])?\s*
    (?P<deg>\d+(?:[.,]\d+)?)\s*(?:°|º|˚|d|deg|độ|do|\s|:)\s*
    (?:(?P<min>\d+(?:[.,]\d+)?)\s*(?:'|′|’|‘|m|min|phút|phut|\s|:)?\s*)?
    (?:(?P<sec>\d+(?:[.,]\d+)?)\s*(?:"|″|”|“|''|′′|s|sec|giây|giay)?\s*)?
    (?P<post>[NSEWnsew])?\s*$""",
    re.VERBOSE,
)

REASON_NOT_A_NUMBER = "type"
REASON_UNIT = "unit"
REASON_DMS = "dms"


@dataclass(frozen=True)
class Parsed:
    """Values read from a column and, per row, why a present value could not be read."""

    values: pd.Series
    reason: pd.Series

    @property
    def failed(self) -> pd.Series:
        return self.reason.notna()


def as_text(raw: pd.Series) -> pd.Series:
    """Cells as stripped NFC text, ``<NA>`` for empty cells and the missing-value markers."""
    text = raw.astype("string").str.strip().str.normalize("NFC")
    markers = text.str.lower().isin(MISSING_MARKERS)
    # Folded comparisons catch "Không có", "KHÔNG CÓ" and friends; only a few distinct values.
    uniques = text.dropna().unique()
    folded = {u: fold(u) in MISSING_MARKERS for u in uniques if not str(u)[:1].isdigit()}
    markers |= text.map(folded).fillna(False).astype(bool)
    return text.mask(markers)


def _decimal_text(text: pd.Series) -> pd.Series:
    """Number texts in Python syntax: decimal comma or point, thousands separators dropped.

    The last of "," or "." is the decimal separator when both occur ("1.234,5"); a lone comma
    is a decimal comma ("105,9123"); several commas or several points are thousands separators
    ("1,234,567").
    """
    text = text.str.replace(r"[\s\u00a0]", "", regex=True)
    commas = text.str.count(",")
    points = text.str.count(r"\.")
    last_comma = text.str.rfind(",")
    last_point = text.str.rfind(".")
    both = (commas > 0) & (points > 0)
    comma_decimal = (both & (last_comma > last_point)) | (~both & (commas == 1))
    comma_thousands = (both & (last_point > last_comma)) | (~both & (commas > 1))
    point_thousands = (both & (last_comma > last_point)) | (~both & (points > 1))
    out = text.where(~point_thousands, text.str.replace(".", "", regex=False))
    out = out.where(~comma_thousands, out.str.replace(",", "", regex=False))
    out = out.where(~comma_decimal, out.str.replace(",", ".", regex=False))
    return out


def parse_number(raw: pd.Series, unit: str | None = None) -> Parsed:
    """Numbers written as people write them: "45", "45,5", "1.234,5", "45m", "45 m", "N/A".

    A unit after the number must be one accepted for ``unit`` (the catalogue unit of the
    field; see ``UNIT_SUFFIXES``) and converts to it ("3.5 GHz" → 3500 for a MHz field).
    """
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = pd.to_numeric(raw, errors="coerce").astype("float64")
        return Parsed(values, pd.Series(pd.NA, index=raw.index, dtype="string"))
    text = as_text(raw)
    parts = text.str.extract(_NUMBER_UNIT)
    number_text, suffix = parts[0], parts[1].str.strip()
    factor = pd.Series(1.0, index=raw.index)
    has_suffix = suffix.notna() & (suffix != "")
    bad_unit = pd.Series(False, index=raw.index)
    if has_suffix.any():
        accepted = UNIT_SUFFIXES.get(unit or "", {})
        key = suffix[has_suffix].str.lower().str.replace(" ", "", regex=False)
        folded = key.map(lambda s: fold(s).replace(" ", "") if s not in accepted else s)
        factor[has_suffix] = folded.map(accepted).astype("float64")
        bad_unit = has_suffix & factor.isna()
    numbers = pd.to_numeric(_decimal_text(number_text), errors="coerce").astype("float64")
    values = (numbers * factor).where(~bad_unit)
    reason = pd.Series(pd.NA, index=raw.index, dtype="string")
    reason = reason.mask(text.notna() & numbers.isna(), REASON_NOT_A_NUMBER)
    reason = reason.mask(text.notna() & numbers.notna() & bad_unit, REASON_UNIT)
    return Parsed(values.where(reason.isna()), reason)


def parse_angle(raw: pd.Series) -> Parsed:
    """Coordinates in decimal degrees or DMS: "105,9123", "105°54'30\"E", "20 32 15.2 N".

    Hemisphere letters S and W make the value negative. A minute or second of 60 or more is a
    failure (reason ``dms``), as is any text that is neither a number nor a DMS angle.
    """
    plain = parse_number(raw)
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return plain
    text = as_text(raw)
    # "20 32 15" would read as the number 203215: digits apart are degrees, minutes, seconds.
    todo = plain.failed | text.str.contains(r"\d\s+\d", regex=True).fillna(False).astype(bool)
    if not todo.any():
        return plain
    parts = text[todo].str.extract(_DMS)
    deg = pd.to_numeric(parts["deg"].str.replace(",", ".", regex=False), errors="coerce")
    minutes = pd.to_numeric(parts["min"].str.replace(",", ".", regex=False), errors="coerce")
    seconds = pd.to_numeric(parts["sec"].str.replace(",", ".", regex=False), errors="coerce")
    sane = (minutes.fillna(0) < 60) & (seconds.fillna(0) < 60)
    hemisphere = parts["pre"].fillna(parts["post"]).str.upper()
    sign = np.where(hemisphere.isin(["S", "W"]), -1.0, 1.0)
    angle = (deg + minutes.fillna(0) / 60 + seconds.fillna(0) / 3600) * sign
    angle = angle.where(deg.notna() & sane)
    values = plain.values.copy()
    values[todo] = angle.astype("float64")
    reason = plain.reason.copy()
    reason[todo] = pd.Series(pd.NA, index=angle.index, dtype="string").mask(
        angle.isna(), REASON_DMS
    )
    return Parsed(values, reason)
