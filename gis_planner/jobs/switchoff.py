"""The switch-off job: an operator's 2G/3G switch-off, the villages it affects, and the 4G cells
that restore service where it leaves none."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gis_planner.admin import unit_names, units
from gis_planner.catalogue.switchoff import SWITCHOFF_LAYERS, SWITCHOFF_RESTORATION
from gis_planner.crs import WGS84, metric_crs_of
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import Lang
from gis_planner.jobs.siting import coverage_rows
from gis_planner.positions_product import read_positions
from gis_planner.products import SCOPE_SEPARATOR, input_revisions, layer_record, scoped_layer
from gis_planner.store import LayerStore
from gis_planner.switchoff import (
    RESTORE,
    STATUSES,
    SwitchOff,
    commune_impact,
    restoration_candidates,
    restore,
    village_impact,
)
from gis_planner.tables import write_xlsx

#: The layers the job writes (one transaction).
LAYERS = tuple(spec.name for spec in SWITCHOFF_LAYERS)
#: The layers a switch-off study is computed from, with the village coverage it reads: a later
#: write of one makes it stale.
INPUT_LAYERS = ("villages", "positions", "sites", "cells", "admin_units")


@dataclass(frozen=True)
class SwitchOffSpec:
    #: The operator key (normalised) switching off.
    operator: str
    #: The technologies it switches off (2G, 3G).
    technologies: tuple[str, ...]
    #: The coverage run read: a narrowed run's scope, "" for the province's.
    scope: str = ""
    #: For the restoring 4G cells, in new-tower units; None: every village that can be.
    budget: float | None = None
    time_limit_s: float = 60.0
    lang: Lang = "vi"


@dataclass(frozen=True)
class SwitchOffStudy:
    plan: SwitchOff
    #: The affected villages (their polygons): status, action, the candidate restoring them.
    villages: gpd.GeoDataFrame
    communes: pd.DataFrame
    #: The restoring 4G cells, the most people reached first.
    restoration: gpd.GeoDataFrame
    #: Figure → value, as in the report's summary sheet.
    summary: pd.DataFrame
    #: The input layers' revisions the study was made from.
    inputs: dict[str, int]


@dataclass(frozen=True)
class SwitchOffRun:
    study: SwitchOffStudy
    layers: tuple[str, ...]
    report: Path


def study(spec: SwitchOffSpec, store: LayerStore) -> SwitchOffStudy:
    """The study of ``spec``, computed from the store and not written."""
    plan = SwitchOff(spec.operator, spec.technologies)
    # Read before the inputs: a layer rewritten meanwhile makes the products stale.
    coverage_layer = scoped_layer("coverage_villages", spec.scope)
    inputs = input_revisions(store.layer_revisions(), (coverage_layer, *INPUT_LAYERS))
    rows = coverage_rows(store, scope=spec.scope)
    _check_technologies(store, rows, spec)
    impact = village_impact(rows, plan)
    communes = commune_impact(rows, impact, plan)
    villages = store.read("villages")
    admin = store.read("admin_units")
    need = impact.loc[impact["status"].isin(RESTORE), "village_code"]
    demand = villages[villages["code"].isin(need)].reset_index(drop=True)
    assert isinstance(demand, gpd.GeoDataFrame)
    restoration, restored_by = _restoration(spec, store, demand, admin)
    impact = impact.assign(restored_by=impact["village_code"].map(restored_by))
    geometry = villages.set_index("code").geometry.reindex(impact["village_code"])
    affected = gpd.GeoDataFrame(impact, geometry=geometry.to_numpy(), crs=villages.crs)
    proposals = restoration.assign(operator=spec.operator, switched_off=",".join(plan.technologies))
    summary = _summary(impact, proposals)
    return SwitchOffStudy(plan, affected, communes, proposals, summary, inputs)


def run(spec: SwitchOffSpec, store: LayerStore, out_dir: Path) -> SwitchOffRun:
    """The study of ``spec``, written to the store's switch-off layers (replacing an earlier
    study) and to a workbook in ``out_dir``."""
    result = study(spec, store)
    technologies = result.plan.technologies
    parameters = {"technologies": ",".join(technologies), "budget": spec.budget,
                  "time_limit_s": spec.time_limit_s}  # fmt: skip
    frames = {
        "switchoff_villages": result.villages,
        "switchoff_communes": result.communes,
        "switchoff_restoration": result.restoration,
    }
    with store.transaction() as tx:
        for name, frame in frames.items():
            tx.write(name, frame)
            tx.register(
                layer_record("switchoff", name, parameters, result.inputs,
                             operators=[spec.operator], technologies=list(technologies))
            )  # fmt: skip
    villages = pd.DataFrame(result.villages.drop(columns="geometry"))
    report = write_xlsx(
        out_dir / f"switch_off_{spec.operator}_{'_'.join(technologies)}.xlsx",
        {
            "summary": (result.summary, None),
            "villages": (villages, "switchoff_villages"),
            "communes": (result.communes, "switchoff_communes"),
            "restoration": (result.restoration, "switchoff_restoration"),
        },
        spec.lang,
        unit_names(store.read("admin_units")),
    )
    return SwitchOffRun(result, LAYERS, report)


def _check_technologies(store: LayerStore, rows: pd.DataFrame, spec: SwitchOffSpec) -> None:
    """Stop when the coverage read has not computed a technology switched off: every village
    would read as never covered by it."""
    missing = sorted(set(spec.technologies) - set(rows["technology"]))
    if not missing:
        return
    runs = sorted(
        f"--scope {r.layer.partition(SCOPE_SEPARATOR)[2]!r} ({', '.join(r.technologies)})"
        for r in store.products()
        if r.layer and r.layer.startswith(f"coverage_villages{SCOPE_SEPARATOR}")
        and set(spec.technologies) <= set(r.technologies)
    )  # fmt: skip
    which = f"; runs that have them: {', '.join(runs)}" if runs else ""
    raise GisPlannerError(
        f"the village coverage read ({scoped_layer('coverage_villages', spec.scope)}) has no "
        f"{', '.join(missing)}: run `gis-planner coverage` with every technology{which}"
    )


def _restoration(
    spec: SwitchOffSpec, store: LayerStore, demand: gpd.GeoDataFrame, admin: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """The restoring 4G cells, ranked, and the candidate each restored village is served by."""
    if demand.empty:
        columns = [f.name for f in SWITCHOFF_RESTORATION.fields]
        return gpd.GeoDataFrame(columns=columns, geometry=[], crs=WGS84), pd.Series(dtype=object)
    assert isinstance(admin, gpd.GeoDataFrame)
    crs = metric_crs_of(admin)
    positions = read_positions(store).table
    cells = store.read("cells")
    candidates = restoration_candidates(positions, cells, demand, spec.operator, metric_crs=crs)
    result = restore(
        demand,
        candidates,
        units(admin, "commune"),
        budget=spec.budget,
        time_limit_s=spec.time_limit_s,
        metric_crs=crs,
    )
    return result.proposals, result.demand.set_index("code")["served_by"]


def _summary(impact: pd.DataFrame, proposals: pd.DataFrame) -> pd.DataFrame:
    by_status = impact.groupby("status")["population"].agg(["size", "sum"])
    by_status = by_status.reindex(list(STATUSES), fill_value=0)
    restored = impact["restored_by"].notna()
    figures: list[tuple[str, object]] = [("villages affected", len(impact))]
    for status in STATUSES:
        figures += [
            (f"villages: {status}", int(by_status.loc[status, "size"])),
            (f"population: {status}", int(by_status.loc[status, "sum"])),
        ]
    figures += [
        ("villages restored by the proposed 4G cells", int(restored.sum())),
        ("population restored", int(impact.loc[restored, "population"].sum())),
        ("4G cells proposed", len(proposals)),
        ("of which on the operator's own positions", int((proposals["kind"] == "upgrade").sum())),
        ("cost", round(float(proposals["cost"].sum()), 2)),
    ]
    names, values = zip(*figures, strict=True)
    # Object values: counts stay integers beside the cost.
    return pd.DataFrame({"figure": names, "value": pd.Series(values, dtype=object)})
