"""The layer catalogue: the one place that says what every layer holds."""

from __future__ import annotations

from gis_planner.catalogue.layers import CORE_LAYERS
from gis_planner.catalogue.spec import FieldSpec, LayerSpec, RowRule
from gis_planner.catalogue.validate import PROBLEM_COLUMNS, REASONS, Validation, conform, validate
from gis_planner.errors import UnknownLayer

CATALOGUE: dict[str, LayerSpec] = {spec.name: spec for spec in CORE_LAYERS}


def get_spec(name: str) -> LayerSpec:
    """The spec of a catalogued layer; ``UnknownLayer`` otherwise."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownLayer(name) from None


def register(spec: LayerSpec) -> LayerSpec:
    """Add an analysis product's layer to the catalogue (idempotent for the same spec)."""
    existing = CATALOGUE.get(spec.name)
    if existing is not None and existing != spec:
        raise ValueError(f"layer {spec.name!r} is already catalogued with another spec")
    CATALOGUE[spec.name] = spec
    return spec


__all__ = [
    "CATALOGUE",
    "PROBLEM_COLUMNS",
    "REASONS",
    "FieldSpec",
    "LayerSpec",
    "RowRule",
    "Validation",
    "conform",
    "get_spec",
    "register",
    "validate",
]
