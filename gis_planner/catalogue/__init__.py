"""The layer catalogue: the one place that says what every layer holds.

Source layers are defined in ``layers.py``; each analysis defines the layers it writes in a
module of this package named after it (``coverage.py``, ``fibre.py``…), whose tuple of specs is
added to ``CATALOGUE`` below.
"""

from __future__ import annotations

from gis_planner.catalogue.coverage import COVERAGE_LAYERS
from gis_planner.catalogue.fibre import FIBRE_LAYERS
from gis_planner.catalogue.industry import INDUSTRY_LAYERS
from gis_planner.catalogue.layers import CORE_LAYERS
from gis_planner.catalogue.passive import PASSIVE_LAYERS
from gis_planner.catalogue.sharing import SHARING_LAYERS
from gis_planner.catalogue.spec import Assumption, FieldSpec, LayerSpec, RowRule
from gis_planner.catalogue.speeds import SPEEDS_LAYERS
from gis_planner.catalogue.switchoff import SWITCHOFF_LAYERS
from gis_planner.catalogue.validate import (
    PROBLEM_COLUMNS,
    REASONS,
    RowProblem,
    Validation,
    checked,
    conform,
    row_problems,
    validate,
    validate_row,
    validated,
)
from gis_planner.errors import UnknownLayer

CATALOGUE: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        *CORE_LAYERS,
        *COVERAGE_LAYERS,
        *SHARING_LAYERS,
        *FIBRE_LAYERS,
        *SPEEDS_LAYERS,
        *SWITCHOFF_LAYERS,
        *INDUSTRY_LAYERS,
        *PASSIVE_LAYERS,
    )
}


def get_spec(name: str) -> LayerSpec:
    """The spec of a catalogued layer; ``UnknownLayer`` otherwise."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownLayer(name) from None


__all__ = [
    "CATALOGUE",
    "PROBLEM_COLUMNS",
    "REASONS",
    "Assumption",
    "FieldSpec",
    "LayerSpec",
    "RowProblem",
    "RowRule",
    "Validation",
    "checked",
    "conform",
    "get_spec",
    "row_problems",
    "validate",
    "validate_row",
    "validated",
]
