"""Pure, vectorised parsers for the messy cells of station lists: numbers, units, DMS angles.

Each parser takes a pandas Series of whatever was read and returns a ``Parsed`` pair: the values
(float64, NaN where nothing usable) and a reason code per row where a present value could not be
read (``<NA>`` where it parsed or was simply empty). Empty markers ("", "N/A", "-", "không có")
are missing values, not failures: whether a missing value is acceptable is the catalogue's call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gis_planner.catalogue.validate import nfc_text, not_ascii
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

_LONGEST_MARKER = max(len(m) for m in MISSING_MARKERS)
# A number followed by a unit: the unit starts at the first character that cannot be part of
# a number and runs to the end.
_UNIT_TAIL = r"[^\d.,\s+-].*$"
_NUMBER_HEAD = r"^[\d.,\s+-]*"
_NUMBER_TEXT = r"[+-]?\d[\d.,\s\u00a0]*"
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

#: The longest DMS angle read ("105° 54' 30.1234\" E" is 20 characters).
_MAX_ANGLE_CHARS = 64

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
    # Arrow-backed, so that the regular expressions below run in Arrow, not per value.
    text = raw.astype("string[pyarrow]").str.strip()
    text = nfc_text(text)
    accented = not_ascii(text)
    markers = text.str.lower().isin(MISSING_MARKERS)
    # Folded comparisons catch "Không có", "KHÔNG CÓ"; markers are short, so few values to fold.
    short = accented & ~markers & (text.str.len() <= _LONGEST_MARKER).fillna(False)
    if short.any():
        folded = [u for u in text[short].unique() if fold(u) in MISSING_MARKERS]
        if folded:
            markers |= text.isin(folded)
    return text.mask(markers) if markers.any() else text


def _sub(text: pd.Series, pattern: str) -> pd.Series:
    """``text`` with each match of ``pattern`` removed, in Arrow's regular expressions (RE2):
    pandas runs Python's ``re`` value by value for a regular-expression replace."""
    removed = pc.replace_substring_regex(pa.array(text, from_pandas=True), pattern, "")
    return pd.Series(pd.array(removed, dtype=text.dtype), index=text.index)


def _decimal_text(text: pd.Series) -> pd.Series:
    """Number texts in Python syntax: decimal comma or point, thousands separators dropped.

    "1.234,5" and "1.234.567" are European thousands; "1,234.5" and "1,234,567" English ones;
    otherwise a comma is a decimal comma ("105,9123") and a single point a decimal point.
    """
    text = _sub(text, r"[\s\x{a0}]")
    european = text.str.fullmatch(r"[+-]?\d{1,3}(\.\d{3}){2,}(,\d+)?|[+-]?\d{1,3}(\.\d{3})+,\d+")
    english = text.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+\.\d+|[+-]?\d{1,3}(,\d{3}){2,}")
    text = text.mask(european.fillna(False).astype(bool), text.str.replace(".", "", regex=False))
    text = text.mask(english.fillna(False).astype(bool), text.str.replace(",", "", regex=False))
    return text.str.replace(",", ".", regex=False)


#: Whole numbers written plainly (as a sheet's numbers are written out), read by Arrow.
_PLAIN_INTEGER = r"^(0|-?[1-9][0-9]{0,14})$"
_DECIMAL_COMMA = r"^[+-]?[0-9]*,[0-9]+$"


def _to_numbers(text: pd.Series) -> pd.Series:
    """``pd.to_numeric(text, errors="coerce")`` in float64. Plain whole numbers, which the
    cells of a column of heights or codes mostly are, are read at once by Arrow (exactly:
    they have at most 15 digits); the other texts by pandas."""
    cells = pa.array(text, type=pa.large_string(), from_pandas=True)
    plain = pc.match_substring_regex(cells, _PLAIN_INTEGER).fill_null(False)
    values = np.full(len(text), np.nan)
    whole = plain.to_numpy(zero_copy_only=False)
    if whole.any():
        values[whole] = pc.cast(cells.filter(plain), pa.int64()).to_numpy().astype(np.float64)
    rest = ~whole & text.notna().to_numpy()
    # A decimal comma ("105,9123"), which pandas does not read, read as a point at once.
    commas = pc.match_substring_regex(cells, _DECIMAL_COMMA).fill_null(False)
    comma = rest & commas.to_numpy(zero_copy_only=False)
    for where, texts in ((comma, text[comma].str.replace(",", ".", regex=False)),
                         (rest & ~comma, text[rest & ~comma])):  # fmt: skip
        if where.any():
            values[where] = pd.to_numeric(texts, errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
    return pd.Series(values, index=text.index)


def parse_number(raw: pd.Series, unit: str | None = None) -> Parsed:
    """Numbers written as people write them: "45", "45,5", "1.234,5", "45m", "45 m", "N/A".

    A unit after the number must be one accepted for ``unit`` (the catalogue unit of the
    field; see ``UNIT_SUFFIXES``) and converts to it ("3.5 GHz" → 3500 for a MHz field).
    """
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        reason = pd.Series(pd.NA, index=raw.index, dtype="string")
        return Parsed(pd.to_numeric(raw, errors="coerce").astype("float64"), reason)
    return _by_distinct(as_text(raw), lambda text: _numbers(text, unit))


def _by_distinct(text: pd.Series, parse: Callable[[pd.Series], Parsed]) -> Parsed:
    """``parse(text)``, each distinct text parsed once when texts repeat (a column of heights
    has a few dozen), and the rows given the result of their text."""
    codes, uniques = pd.factorize(text)
    if 2 * len(uniques) > len(text):
        return parse(text)
    parsed = parse(pd.Series(uniques, dtype=text.dtype))
    values = np.append(parsed.values.to_numpy(dtype=np.float64, na_value=np.nan), np.nan)
    reasons = pd.array(pa.array(parsed.reason.array, type=pa.large_string()), dtype="string")
    taken = reasons.take(codes, allow_fill=True)
    return Parsed(
        pd.Series(values[codes], index=text.index),
        pd.Series(taken, index=text.index, dtype="string"),
    )


def _numbers(text: pd.Series, unit: str | None) -> Parsed:
    """``parse_number`` of texts (``as_text``)."""
    reason = pd.Series(pd.NA, index=text.index, dtype="string")
    values = _to_numbers(text)
    todo = (text.notna() & values.isna()).to_numpy()
    if todo.any():
        # Decimal commas ("105,9123") are the common case: a plain replace, no regex. Texts
        # with several separators still fail here and take the slow path below.
        comma = pd.to_numeric(text[todo].str.replace(",", ".", regex=False), errors="coerce")
        values[todo] = comma.astype("float64")
        todo = (text.notna() & values.isna()).to_numpy()
    if not todo.any():
        return Parsed(values, reason)
    # The slow path, only for cells that are not plain numbers.
    rest = text[todo]
    number_text = _sub(rest, _UNIT_TAIL).str.strip()
    suffix = _sub(rest, _NUMBER_HEAD).str.strip()
    well_formed = number_text.str.fullmatch(_NUMBER_TEXT).fillna(False).astype(bool)
    numbers = pd.to_numeric(_decimal_text(number_text), errors="coerce").astype("float64")
    numbers = numbers.where(well_formed)
    factor = pd.Series(1.0, index=rest.index)
    has_suffix = (suffix.notna() & (suffix != "")).to_numpy()
    bad_unit = pd.Series(False, index=rest.index)
    if has_suffix.any():
        accepted = UNIT_SUFFIXES.get(unit or "", {})
        keys = suffix[has_suffix].str.lower().str.replace(" ", "", regex=False)
        lookup = {k: accepted.get(k, accepted.get(fold(k).replace(" ", ""))) for k in keys.unique()}
        factor[has_suffix] = keys.map(lookup).astype("float64")
        bad_unit = pd.Series(has_suffix, index=rest.index) & factor.isna()
    parsed = (numbers * factor).where(~bad_unit)
    rest_reason = pd.Series(pd.NA, index=rest.index, dtype="string")
    rest_reason = rest_reason.mask(numbers.isna(), REASON_NOT_A_NUMBER)
    rest_reason = rest_reason.mask(numbers.notna() & bad_unit, REASON_UNIT)
    values[todo] = parsed.where(rest_reason.isna())
    reason[todo] = rest_reason
    return Parsed(values, reason)


def parse_angle(raw: pd.Series) -> Parsed:
    """Coordinates in decimal degrees or DMS: "105,9123", "105°54'30\"E", "20 32 15.2 N".

    Hemisphere letters S and W make the value negative. A minute or second of 60 or more is a
    failure (reason ``dms``), as is any text that is neither a number nor a DMS angle.
    """
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return parse_number(raw)
    return _by_distinct(as_text(raw), _angles)


def _angles(text: pd.Series) -> Parsed:
    """``parse_angle`` of texts (``as_text``)."""
    plain = _numbers(text, None)
    # "20 32 15" would read as the number 203215: digits apart are degrees, minutes, seconds.
    todo = plain.failed | text.str.contains(r"\d\s+\d", regex=True).fillna(False).astype(bool)
    if not todo.any():
        return plain
    # One space for each run of white space, and no angle longer than any written by hand:
    # the pattern's white space next to white space backtracked on runs of spaces (850 bytes
    # of one cell took 48 s).
    compact = text[todo].str.replace(r"\s+", " ", regex=True).str.strip()
    parts = compact.where(compact.str.len() <= _MAX_ANGLE_CHARS).str.extract(_DMS)
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
