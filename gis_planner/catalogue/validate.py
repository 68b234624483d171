"""Check a frame against its layer spec, vectorised: what passes and why the rest fails."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from gis_planner.catalogue.spec import PANDAS_DTYPES, FieldSpec, LayerSpec
from gis_planner.catalogue.values import BY_KEY
from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError, LayerValidationError

PROBLEM_COLUMNS = ["row", "field", "value", "reason", "message"]

#: Reason codes, stable for reports and counts.
REASONS = {
    "required": "a value is required",
    "type": "not a value of the field's type",
    "not_allowed": "not one of the allowed values",
    "below_min": "below the minimum",
    "above_max": "above the maximum",
    "duplicate_key": "duplicate id",
    "geometry_missing": "no geometry",
    "geometry_type": "wrong geometry type",
    "geometry_invalid": "invalid geometry",
    "out_of_bounds": "coordinates outside longitude/latitude range",
}

_GEOMETRY_FIELD = "geometry"
#: Numbers at or past this do not fit in an integer of 64 bits.
_INT64_END = 2.0**63
_TRUE = {"true", "1", "yes", "y", "t", "co", "có", "x"}
_FALSE = {"false", "0", "no", "n", "f", "khong", "không"}


@dataclass(frozen=True)
class Validation:
    """The outcome of validating one frame against one layer spec."""

    layer: str
    valid: pd.DataFrame
    problems: pd.DataFrame
    n_rows: int
    ignored_columns: tuple[str, ...] = ()

    @property
    def rejected_rows(self) -> pd.Index:
        return pd.Index(self.problems["row"].unique())

    @property
    def ok(self) -> bool:
        return self.problems.empty

    def raise_if_problems(self, source: str | None = None) -> None:
        if not self.ok:
            raise LayerValidationError(self.layer, self.problems, source)


class _Problems:
    """Collects problems as vectorised blocks, one block per (field, reason)."""

    def __init__(self) -> None:
        self.blocks: list[pd.DataFrame] = []

    def add(
        self, mask: pd.Series | npt.NDArray[np.bool_], field: str, reason: str, message: str,
        raw: pd.Series,
    ) -> None:  # fmt: skip
        # Through numpy: most checks find nothing, and a pandas operation costs far more than
        # a numpy one on the few rows of an edit.
        found = (
            mask.to_numpy(dtype=bool, na_value=False) if isinstance(mask, pd.Series)
            else np.asarray(mask, dtype=bool)
        )  # fmt: skip
        if not found.any():
            return
        values = raw[found]
        self.blocks.append(
            pd.DataFrame(
                {
                    "row": values.index,
                    "field": field,
                    "value": values.map(_show).to_numpy(dtype=object),
                    "reason": reason,
                    "message": message,
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.blocks:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})
        out = pd.concat(self.blocks, ignore_index=True)
        return out.sort_values("row", kind="stable", ignore_index=True)


def _show(value: object) -> object:
    if isinstance(value, shapely.Geometry):
        text = value.wkt
        return text if len(text) <= 80 else text[:77] + "..."
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return value


def not_ascii(text: pd.Series) -> pd.Series:
    """Where ``text`` has a character beyond ASCII (False where missing), tested in Arrow."""
    ascii_ = pc.string_is_ascii(pa.array(text, type=pa.large_string(), from_pandas=True))
    return pd.Series(
        pc.invert(ascii_).fill_null(False).to_numpy(zero_copy_only=False), index=text.index
    )


def nfc_text(text: pd.Series) -> pd.Series:
    """Text normalised to NFC, so that a word typed two ways compares equal. Only non-ASCII
    text can change, and each distinct value is normalised once: normalising is a per-value
    loop, and a column repeats its values."""
    accented = not_ascii(text)
    if not accented.any():
        return text
    changed = {}
    for value in text[accented].unique():
        normal = unicodedata.normalize("NFC", value)
        if normal != value:
            changed[value] = normal
    if not changed:
        return text
    return replace_texts(text, changed)


def replace_texts(text: pd.Series, changed: dict[str, str]) -> pd.Series:
    """``text`` with each text that is a key of ``changed`` replaced by its value, looked up
    in Arrow (a pandas ``map`` calls Python for every row)."""
    values = pa.array(text, type=pa.large_string(), from_pandas=True)
    found = pc.index_in(values, value_set=pa.array(list(changed), type=pa.large_string()))
    replaced = pa.array(list(changed.values()), type=pa.large_string()).take(found)
    out = pc.if_else(pc.is_valid(found), replaced, values)
    return pd.Series(pd.array(out, dtype=text.dtype), index=text.index)


def _as_text(series: pd.Series) -> pd.Series:
    """``series`` as text, missing values kept missing (as it is, if it is text already)."""
    if series.dtype == "str":
        return series
    return series.astype("str").where(series.notna())


def _blank_to_na(series: pd.Series) -> pd.Series:
    """Strip text and turn empty strings into missing values; leave other dtypes alone."""
    if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
        text = _as_text(series)
        text = text.str.strip()
        return text.mask(text == "")
    return series


def _coerce(raw: pd.Series, spec: FieldSpec) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    """The column in the field's dtype, and where a present value could not be converted."""
    series = _blank_to_na(raw)
    present = series.notna().to_numpy()
    if spec.dtype == "str":
        if pd.api.types.is_float_dtype(series):
            # Codes read from spreadsheets arrive as 13285.0: keep the integer text.
            # Only where every one fits in an integer (1e20 and inf keep their float text).
            present_values = series.dropna()
            integral = (
                present_values.eq(np.floor(present_values)) & (present_values.abs() < _INT64_END)
            ).all()
            if integral:
                series = series.astype("Int64")
        text = nfc_text(_as_text(series))
        return text, np.zeros(len(raw), dtype=bool)
    if spec.dtype in ("int", "float"):
        number = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = present & np.isnan(number)
        if spec.dtype == "int":
            # Nor is a number past 64 bits, infinity included (casting it would raise).
            whole_number = (np.abs(number) < _INT64_END) & (number == np.round(number))
            fractional = ~np.isnan(number) & ~whole_number
            bad |= fractional
            whole = np.where(fractional, np.nan, np.round(number))
            return pd.Series(whole, index=raw.index).astype("Int64"), bad
        return pd.Series(number, index=raw.index), bad
    # bool
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean"), np.zeros(len(raw), dtype=bool)
    folded = series.astype("str").where(present).str.lower()
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out = out.mask(folded.isin(_TRUE), True).mask(folded.isin(_FALSE), False)
    return out.astype("boolean"), present & out.isna().to_numpy()


def _value_text(key: str) -> str:
    """An allowed value as a message lists it: its Vietnamese label, then its key."""
    value = BY_KEY.get(key)
    return key if value is None or value.label_vi == key else f"{value.label_vi} ({key})"


def _range_text(spec: FieldSpec, bound: float) -> str:
    unit = f" {spec.unit}" if spec.unit else ""
    return f"{bound:g}{unit}"


@dataclass(frozen=True)
class _FieldMessages:
    """What each check of a field says when a value breaks it."""

    type: str
    required: str
    not_allowed: str
    below_min: str
    above_max: str


@cache
def _messages(fs: FieldSpec) -> _FieldMessages:
    """The messages of a field, made once: a frame of one row (an edit) would otherwise spend
    more on them than on its checks."""
    label = f"{fs.name} ({fs.label_vi})"
    allowed = ", ".join(_value_text(v) for v in fs.allowed or ())
    return _FieldMessages(
        type=f"{label}: not a {fs.dtype} value",
        required=f"{label}: empty",
        not_allowed=f"{label}: không có trong danh mục / not one of {allowed}",
        below_min=f"{label}: below the minimum {_range_text(fs, fs.min or 0)}",
        above_max=f"{label}: above the maximum {_range_text(fs, fs.max or 0)}",
    )


def _is_allowed(text: pd.Series, allowed: tuple[str, ...]) -> npt.NDArray[np.bool_]:
    """Where ``text`` is one of ``allowed`` (False where missing), tested in Arrow."""
    values = pa.array(text, from_pandas=True)
    found = pc.is_in(values, value_set=pa.array(allowed, type=values.type))
    return np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _missing(spec: FieldSpec, index: pd.Index) -> pd.Series:
    """A field a frame does not have: every value missing, in the field's dtype."""
    if spec.dtype == "str":
        return pd.Series(
            pd.array(pa.nulls(len(index), pa.large_string()), dtype="str"), index=index
        )
    if spec.dtype == "float":
        return pd.Series(np.nan, index=index, dtype="float64")
    return pd.Series(pd.NA, index=index, dtype=PANDAS_DTYPES[spec.dtype])


def _check_fields(
    frame: pd.DataFrame, spec: LayerSpec, problems: _Problems, fill_defaults: bool
) -> pd.DataFrame:
    # Masks are numpy arrays: on the one row of an edit, pandas' cost per operation would be
    # most of the validation's time.
    columns: dict[str, pd.Series] = {}
    given = dict(frame.items())
    for fs in spec.fields:
        raw = given[fs.name] if fs.name in given else _missing(fs, frame.index)
        values, bad_type = _coerce(raw, fs)
        messages = _messages(fs)
        problems.add(bad_type, fs.name, "type", messages.type, raw)
        missing = values.isna().to_numpy()
        if fill_defaults and fs.default is not None:
            filled = missing & ~bad_type
            if filled.any():
                values = values.mask(filled, fs.default)
                missing = missing & ~filled
        if fs.required:
            problems.add(missing & ~bad_type, fs.name, "required", messages.required, raw)
        present = ~missing
        if fs.allowed is not None:
            outside = present & ~_is_allowed(values, fs.allowed)
            problems.add(outside, fs.name, "not_allowed", messages.not_allowed, raw)
        if fs.min is not None or fs.max is not None:
            number = values.to_numpy(dtype="float64", na_value=np.nan)
            if fs.min is not None:
                problems.add(present & (number < fs.min), fs.name, "below_min",
                             messages.below_min, raw)  # fmt: skip
            if fs.max is not None:
                problems.add(present & (number > fs.max), fs.name, "above_max",
                             messages.above_max, raw)  # fmt: skip
        dtype = PANDAS_DTYPES[fs.dtype]
        columns[fs.name] = values if values.dtype == dtype else values.astype(dtype)
    return pd.DataFrame(columns, index=frame.index)


def key_texts(frame: pd.DataFrame, key: Sequence[str]) -> pa.Array:
    """Each row's key (text and integer fields) as one text, to hash keys in Arrow: each
    field's text after its length ("10:HNM-000001|7:viettel"), a missing field as "-", so
    that two keys have the same text only when they are the same key."""
    parts = []
    for name in key:
        text = pa.array(frame[name].astype("string"), type=pa.large_string(), from_pandas=True)
        length = pc.cast(pc.utf8_length(text), pa.large_string())
        joined = pc.binary_join_element_wise(length, text, pa.scalar(":", pa.large_string()))
        parts.append(joined.fill_null("-"))
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, pa.scalar("|", pa.large_string()))


def _check_key(conformed: pd.DataFrame, spec: LayerSpec, problems: _Problems) -> None:
    if len(conformed) < 2:  # one row (an edit) has no duplicate
        return
    key = list(spec.key)
    complete = conformed[key].notna().all(axis=1)
    keyed = conformed.loc[complete, key]
    # Most frames have no duplicate, which hashing the keys in Arrow tells at once.
    if len(pc.unique(key_texts(keyed, key))) == len(keyed):
        return
    duplicated = keyed.duplicated(keep="first")
    if not duplicated.any():
        return
    first_row = (
        pd.Series(keyed.index, index=keyed.index)
        .groupby([keyed[k] for k in key], sort=False)
        .transform("first")
    )
    dup = duplicated.reindex(conformed.index, fill_value=False)
    label = "+".join(key)
    for first, group in first_row[duplicated].groupby(first_row[duplicated]):
        problems.add(
            dup & conformed.index.isin(group.index),
            label,
            "duplicate_key",
            f"{label}: duplicate of row {first}",
            conformed[key[0]],
        )


def _check_geometry(
    frame: pd.DataFrame, spec: LayerSpec, problems: _Problems
) -> gpd.GeoSeries | None:
    if spec.geometry_type is None:
        return None
    if isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame.columns:
        geoms = frame.geometry
        if geoms.crs is None:
            raise GisPlannerError(f"layer {spec.name!r}: the frame has no CRS")
        if not geoms.crs.equals(WGS84):
            geoms = geoms.to_crs(WGS84)
    else:
        geoms = gpd.GeoSeries([None] * len(frame), index=frame.index, crs=WGS84)
    values = geoms.to_numpy()
    raw = pd.Series(values, index=frame.index)
    missing = pd.Series(shapely.is_missing(values) | shapely.is_empty(values), index=frame.index)
    problems.add(missing, _GEOMETRY_FIELD, "geometry_missing", "geometry: missing or empty", raw)

    type_ids = shapely.get_type_id(values)
    wanted = {"Point": (0,), "LineString": (1,), "MultiPolygon": (3, 6)}[spec.geometry_type]
    wrong = pd.Series(~np.isin(type_ids, wanted), index=frame.index) & ~missing
    problems.add(
        wrong, _GEOMETRY_FIELD, "geometry_type", f"geometry: expected {spec.geometry_type}", raw
    )
    usable = ~(missing | wrong)
    bounds = shapely.bounds(values)
    finite = np.isfinite(bounds).all(axis=1)
    in_range = (
        finite
        & (bounds[:, 0] >= -180)
        & (bounds[:, 2] <= 180)
        & (bounds[:, 1] >= -90)
        & (bounds[:, 3] <= 90)
    )
    outside = usable & pd.Series(~in_range, index=frame.index)
    problems.add(
        outside, _GEOMETRY_FIELD, "out_of_bounds",
        "geometry: coordinates outside longitude −180…180 / latitude −90…90", raw,
    )  # fmt: skip
    if spec.geometry_type != "Point":
        invalid = usable & ~outside & pd.Series(~shapely.is_valid(values), index=frame.index)
        reasons = shapely.is_valid_reason(values[invalid.to_numpy()])
        for reason in np.unique(reasons):
            mask = invalid.copy()
            mask[invalid] = reasons == reason
            problems.add(mask, _GEOMETRY_FIELD, "geometry_invalid", f"geometry: {reason}", raw)
    if spec.geometry_type == "MultiPolygon":
        single = type_ids == 3
        values = values.copy()
        values[single] = shapely.multipolygons(values[single], indices=np.arange(single.sum()))
    return gpd.GeoSeries(values, index=frame.index, crs=WGS84)


def validate(frame: pd.DataFrame, spec: LayerSpec, *, fill_defaults: bool = True) -> Validation:
    """Validate ``frame`` against ``spec``.

    Every row that breaks a rule is listed in ``problems`` (row label, field, original value,
    reason code, message) and left out of ``valid``; the rows of ``valid`` are conformed to the
    catalogue's dtypes, columns and geometry type. Nothing is dropped silently: rows read ==
    rows valid + distinct rows with problems.
    """
    if frame.index.has_duplicates:
        raise GisPlannerError(f"layer {spec.name!r}: row labels must be unique")
    problems = _Problems()
    conformed = _check_fields(frame, spec, problems, fill_defaults)
    geometry = _check_geometry(frame, spec, problems)
    _check_key(conformed, spec, problems)
    for rule in spec.rules:
        failing = rule.failing(conformed)
        problems.add(
            failing, rule.field, rule.reason, f"{rule.field}: {rule.message}", conformed[rule.field]
        )
    problem_frame = problems.frame()
    keep = ~conformed.index.isin(problem_frame["row"])
    valid: pd.DataFrame
    if geometry is not None:
        valid = gpd.GeoDataFrame(conformed[keep], geometry=geometry[keep], crs=WGS84)
    else:
        valid = conformed[keep]
    known = {*spec.field_names, _GEOMETRY_FIELD}
    if isinstance(frame, gpd.GeoDataFrame):
        known.add(frame._geometry_column_name)
    ignored = tuple(c for c in frame.columns if c not in known)
    return Validation(spec.name, valid, problem_frame, len(frame), ignored)


def validated(rows: pd.DataFrame, spec: LayerSpec) -> Validation:
    """``rows`` that have passed ``validate`` against ``spec`` (its valid rows, or parts of
    them and of a store's layer of the same spec), as a ``Validation`` without problems, so
    that a store writes them without validating them again."""
    return Validation(spec.name, rows, _Problems().frame(), len(rows))


def _conformed_columns(frame: pd.DataFrame, spec: LayerSpec) -> bool:
    """Whether ``frame`` has exactly the columns and dtypes ``validate`` conforms to."""
    fields = [f for f in spec.fields]
    names = [f.name for f in fields] + ([_GEOMETRY_FIELD] if spec.geometry_type else [])
    if list(frame.columns) != names:
        return False
    if spec.geometry_type is not None and not (
        isinstance(frame, gpd.GeoDataFrame)
        and frame._geometry_column_name == _GEOMETRY_FIELD
        and frame.crs is not None
        and frame.crs.equals(WGS84)
    ):
        return False
    return all(frame[f.name].dtype == PANDAS_DTYPES[f.dtype] for f in fields)


def checked(rows: pd.DataFrame | Validation, spec: LayerSpec) -> pd.DataFrame:
    """What a store writes: ``rows`` validated against ``spec`` and conformed, raising
    ``LayerValidationError`` on any problem. Rows given as the ``Validation`` of that layer
    are written as they are, when they have the catalogue's columns and dtypes: their rows
    were validated once, by the same rules, where they were read (an import)."""
    if isinstance(rows, Validation):
        rows.raise_if_problems()
        if rows.layer == spec.name and _conformed_columns(rows.valid, spec):
            return rows.valid
        rows = rows.valid
    result = validate(rows, spec)
    result.raise_if_problems()
    return result.valid


def conform(frame: pd.DataFrame, spec: LayerSpec) -> pd.DataFrame:
    """``frame`` in the catalogue's columns and dtypes; raises if any row breaks a rule."""
    result = validate(frame, spec)
    result.raise_if_problems()
    return result.valid


# -- one row: the same rules, on plain values --------------------------------------------------
#: What an edit sends a field as (JSON's scalars).
Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class RowProblem:
    """One rule a row breaks: the field, the reason code (``REASONS``) and the message."""

    field: str
    reason: str
    message: str


def _scalar_text(value: Scalar) -> str:
    """A value as ``_coerce`` makes it text (a float of an integer, its integer's text)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < _INT64_END:
        return str(int(value))
    return str(value)


def _scalar_number(value: Scalar) -> float | None:
    """A value as a number as ``pd.to_numeric`` reads it; None where it is not one."""
    if isinstance(value, bool | int | float):
        return float(value)
    text = str(value)
    # Python's float() also reads '1_000' and digits of other scripts; pandas does not.
    if "_" in text or not text.isascii():
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _coerce_scalar(value: Scalar, spec: FieldSpec) -> tuple[Scalar, bool]:
    """``_coerce`` of one value: the value in the field's type (None where missing), and
    whether a present value could not be converted."""
    if isinstance(value, str):
        value = value.strip() or None
    if value is None:
        return None, False
    if spec.dtype == "str":
        return unicodedata.normalize("NFC", _scalar_text(value)), False
    if spec.dtype in ("int", "float"):
        number = _scalar_number(value)
        if number is None or np.isnan(number):
            return None, True
        if spec.dtype == "float":
            return number, False
        if not abs(number) < _INT64_END or number != round(number):
            return None, True
        return round(number), False
    if isinstance(value, bool):
        return value, False
    folded = str(value).lower()
    if folded in _TRUE:
        return True, False
    if folded in _FALSE:
        return False, False
    return None, True


def _row_geometry(
    geometry: shapely.Geometry | None, spec: LayerSpec, problems: list[RowProblem]
) -> shapely.Geometry | None:
    """``_check_geometry`` of one geometry (in WGS84): its problems, and the geometry as
    stored (a polygon as a one-part multipolygon)."""
    if geometry is None or geometry.is_empty:
        problems.append(
            RowProblem(_GEOMETRY_FIELD, "geometry_missing", "geometry: missing or empty")
        )
        return geometry
    wanted = {"Point": (0,), "LineString": (1,), "MultiPolygon": (3, 6)}[spec.geometry_type or ""]
    type_id = int(shapely.get_type_id(geometry))
    if type_id not in wanted:
        problems.append(
            RowProblem(_GEOMETRY_FIELD, "geometry_type", f"geometry: expected {spec.geometry_type}")
        )
        return geometry
    x_min, y_min, x_max, y_max = shapely.bounds(geometry)
    finite = np.isfinite([x_min, y_min, x_max, y_max]).all()
    if not (finite and x_min >= -180 and x_max <= 180 and y_min >= -90 and y_max <= 90):
        problems.append(RowProblem(_GEOMETRY_FIELD, "out_of_bounds",
                                   "geometry: coordinates outside longitude −180…180 / "
                                   "latitude −90…90"))  # fmt: skip
        return geometry
    if spec.geometry_type != "Point" and not shapely.is_valid(geometry):
        reason = shapely.is_valid_reason(geometry)
        problems.append(RowProblem(_GEOMETRY_FIELD, "geometry_invalid", f"geometry: {reason}"))
    if type_id == 3:
        return shapely.multipolygons([geometry])
    return geometry


def validate_row(
    values: Mapping[str, Scalar], spec: LayerSpec, geometry: shapely.Geometry | None = None
) -> tuple[dict[str, Scalar], shapely.Geometry | None, list[RowProblem]]:
    """``validate`` of one row given as plain values (an edit), without building frames: the
    same field specs, messages and row rules, in the same order. The row's values in the
    field's types (every catalogue field, defaults filled in), its geometry as stored, and
    the problems (none: the row is valid)."""
    problems: list[RowProblem] = []
    row: dict[str, Scalar] = {}
    for fs in spec.fields:
        value, bad_type = _coerce_scalar(values.get(fs.name), fs)
        messages = _messages(fs)
        if bad_type:
            problems.append(RowProblem(fs.name, "type", messages.type))
        if value is None and not bad_type and fs.default is not None:
            value = fs.default
        if fs.required and value is None and not bad_type:
            problems.append(RowProblem(fs.name, "required", messages.required))
        if value is not None and fs.allowed is not None and value not in fs.allowed:
            problems.append(RowProblem(fs.name, "not_allowed", messages.not_allowed))
        if value is not None and isinstance(value, int | float) and not isinstance(value, bool):
            if fs.min is not None and value < fs.min:
                problems.append(RowProblem(fs.name, "below_min", messages.below_min))
            if fs.max is not None and value > fs.max:
                problems.append(RowProblem(fs.name, "above_max", messages.above_max))
        row[fs.name] = value
    if spec.geometry_type is not None:
        geometry = _row_geometry(geometry, spec, problems)
    if spec.rules:
        # The rules are functions of frames: they run on this one row as one.
        frame = pd.DataFrame(
            {fs.name: pd.array([row[fs.name]], dtype=PANDAS_DTYPES[fs.dtype])
             for fs in spec.fields}
        )  # fmt: skip
        for rule in spec.rules:
            if bool(np.asarray(rule.failing(frame), dtype=bool)[0]):
                problems.append(
                    RowProblem(rule.field, rule.reason, f"{rule.field}: {rule.message}")
                )
    return row, geometry, problems


def row_problems(problems: Sequence[RowProblem], values: Mapping[str, Scalar]) -> pd.DataFrame:
    """The problems of ``validate_row`` as ``validate`` lists them (row 0)."""
    return pd.DataFrame(
        {"row": [0] * len(problems), "field": [p.field for p in problems],
         "value": [values.get(p.field) for p in problems],
         "reason": [p.reason for p in problems], "message": [p.message for p in problems]},
        columns=PROBLEM_COLUMNS,
    )  # fmt: skip
