"""What a layer is: its fields, their types, units, allowed values, ranges and labels."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

FieldType = Literal["str", "int", "float", "bool"]
GeometryType = Literal["Point", "LineString", "MultiPolygon"]

#: The pandas dtype each field type is held in once a frame is conformed.
PANDAS_DTYPES: dict[FieldType, str] = {
    "str": "str",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
}


@dataclass(frozen=True)
class FieldSpec:
    """One attribute column of a layer."""

    name: str
    dtype: FieldType
    label_vi: str
    label_en: str
    required: bool = True
    unit: str | None = None
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    #: Filled in where a value is missing (a documented convention, e.g. tilt 0°).
    default: str | float | bool | None = None
    description: str = ""

    def label(self, lang: str = "vi") -> str:
        return self.label_vi if lang == "vi" else self.label_en


@dataclass(frozen=True)
class RowRule:
    """A rule across fields: ``failing(frame)`` is True where a row breaks it."""

    field: str
    reason: str
    message: str
    failing: Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class Assumption:
    """What an import takes where a source file leaves ``field`` empty: the typical value for
    the row's ``by`` field, marking the row in the boolean field ``flag``.

    The field stays required in the layer: every stored row has a value, given or assumed, and
    the flag tells which.
    """

    field: str
    by: str
    #: (value of ``by``, typical value of ``field``) pairs.
    values: tuple[tuple[str, float], ...]
    flag: str

    def typical(self) -> dict[str, float]:
        return dict(self.values)


@dataclass(frozen=True)
class LayerSpec:
    """A layer of the catalogue; ``geometry_type`` None means an attribute table."""

    name: str
    label_vi: str
    label_en: str
    geometry_type: GeometryType | None
    fields: tuple[FieldSpec, ...]
    key: tuple[str, ...]
    group: str
    description: str = ""
    rules: tuple[RowRule, ...] = field(default=())
    assumptions: tuple[Assumption, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"layer {self.name!r}: duplicate field names")
        missing = set(self.key) - set(names)
        if missing:
            raise ValueError(f"layer {self.name!r}: key fields {sorted(missing)} not defined")
        for assumed in self.assumptions:
            if not {assumed.field, assumed.by, assumed.flag} <= set(names):
                raise ValueError(f"layer {self.name!r}: assumption on undefined fields")

    def assumption(self, name: str) -> Assumption | None:
        """How ``name`` is filled in where a file leaves it empty, if it is."""
        return next((a for a in self.assumptions if a.field == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"layer {self.name!r} has no field {name!r}")

    def label(self, lang: str = "vi") -> str:
        return self.label_vi if lang == "vi" else self.label_en

    def fields_with(self, names: Iterable[str]) -> tuple[FieldSpec, ...]:
        wanted = set(names)
        return tuple(f for f in self.fields if f.name in wanted)
