"""The indicators job: the plan's indicators measured from the store's analysis layers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gis_planner.indicators import indicators, plan_targets
from gis_planner.report import report_inputs
from gis_planner.store import LayerStore


@dataclass(frozen=True)
class IndicatorsSpec:
    #: A CSV of plan targets (the columns of ``data/plan_targets.csv``); default the bundled.
    targets: Path | None = None


@dataclass(frozen=True)
class IndicatorsResult:
    #: One row an indicator and unit of both administrative versions (``INDICATOR_COLUMNS``).
    table: pd.DataFrame
    #: The analysis layers the store does not have yet (their indicators are absent).
    missing: tuple[str, ...]


def run(spec: IndicatorsSpec, store: LayerStore) -> IndicatorsResult:
    inputs, missing = report_inputs(store)
    return IndicatorsResult(indicators(inputs, plan_targets(spec.targets)), tuple(missing))
