"""The speeds product: the village figures ``gis-planner speeds`` stores, with their record.

The speeds job writes ``speeds_villages`` (mobile throughput by village, operator and
technology) and ``ftth_speeds`` (busy-hour FTTH by village) with the throughput rasters, in one
commit, each layer recorded with every assumption of the estimate. The API, the command and the
report read these stored layers through ``read_figures``; none computes them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from gis_planner.catalogue.speeds import FTTH_SPEEDS, SPEEDS_VILLAGES
from gis_planner.errors import GisPlannerError
from gis_planner.products import is_stale, scoped_layer
from gis_planner.speeds import SpeedTargets, fixed_summary, speed_summary
from gis_planner.store import LayerStore

#: The job that makes the product, and the command that runs it.
JOB = "speeds"
PRODUCER = "gis-planner speeds"


class NoSpeeds(GisPlannerError):
    """No speeds are stored for the scope asked."""


@dataclass(frozen=True, eq=False)
class SpeedFigures:
    """The stored village figures of a scope's speeds, their summaries and assumptions."""

    scope: str
    #: One row per village × technology × operator (``speeds.village_speeds``).
    villages: pd.DataFrame
    #: By technology × operator: villages and people at the mobile target.
    summary: pd.DataFrame
    #: One row per village measured: its FTTH, PON and busy-hour download.
    fixed: pd.DataFrame
    fixed_summary: pd.DataFrame
    #: The assumptions of the estimate (the layers' record's parameters).
    parameters: dict[str, Any]
    #: An input of the run's products (cells, the coverage, villages, fibre) changed since.
    stale: bool


def read_figures(store: LayerStore, scope: str = "") -> SpeedFigures:
    """The village figures the speeds run of ``scope`` stored (``speeds_villages`` and
    ``ftth_speeds``), summarised, with the assumptions recorded with them; ``NoSpeeds`` when
    there are none."""
    records = [r for r in store.products() if r.job == JOB and r.scope == scope]
    layers = {r.layer: r for r in records if r.kind == "layer"}
    mobile_layer = scoped_layer(SPEEDS_VILLAGES.name, scope)
    fixed_layer = scoped_layer(FTTH_SPEEDS.name, scope)
    if not ({mobile_layer, fixed_layer} <= set(layers) and store.has_layer(mobile_layer)):
        name = scope or "province"
        raise NoSpeeds(f"chưa tính tốc độ ({name}) / no speeds of scope {name!r}: run `{PRODUCER}`")
    recorded = dict(layers[mobile_layer].parameters)
    targets = SpeedTargets(**recorded["targets"])
    rows, fixed = store.read(mobile_layer), store.read(fixed_layer)
    revisions = store.layer_revisions()
    return SpeedFigures(
        scope=scope,
        villages=rows,
        summary=speed_summary(rows),
        fixed=fixed,
        fixed_summary=fixed_summary(fixed, targets),
        parameters=recorded,
        stale=any(is_stale(r, revisions) for r in records),
    )
