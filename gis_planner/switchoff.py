"""2G/3G switch-off: who loses an operator's service, and which 4G cells would restore it.

Read from the village coverage rows (``coverage_villages``: village × technology × operator,
``covered`` by the plan's definition). After an operator switches technologies off, a village
keeps that operator's service when one of its remaining technologies covers the village by
itself: the plan's definition, per technology. (Two partial coverages together could reach the
target where neither does alone; counting them would need the rasters, and the per-technology
rule errs on the side of acting.)

Each village one of the switched-off technologies covered for the operator gets a status:

* ``loses_all_service``: after the switch-off no technology of any operator covers it;
* ``other_operator_only``: nothing of the operator is left there, another operator covers it;
* ``loses_voice``: the operator keeps only 4G/5G there, where voice needs a VoLTE handset
  (the handsets the operators give to those who still use 2G-only phones);
* ``keeps_service``: the operator keeps 2G or 3G there, with circuit-switched voice.

The first two need coverage restored before the switch-off date, the third handsets.
Restoring is a set-covering of those villages by 4G cells (``gis_planner.siting``): a 4G carrier
added on the operator's own positions without 4G (cheapest), tenancies on other operators'
positions, and new towers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from gis_planner.coverage.stats import ANY_OPERATOR
from gis_planner.errors import GisPlannerError
from gis_planner.sharing import hosts_operator, members
from gis_planner.siting import (
    SitingResult,
    planned_cell,
    position_candidates,
    propose_sites,
    siting_candidates,
)

#: Technologies that carry circuit-switched voice; the others carry voice over LTE/NR only.
CIRCUIT_VOICE = ("2G", "3G")
STATUSES = ("loses_all_service", "other_operator_only", "loses_voice", "keeps_service")
#: Statuses whose villages need coverage restored before the switch-off date.
RESTORE = ("loses_all_service", "other_operator_only")
#: The action each status needs before the switch-off date.
ACTIONS = {
    "loses_all_service": "restore_coverage",
    "other_operator_only": "restore_coverage",
    "loses_voice": "volte_handsets",
    "keeps_service": "none",
}
#: Relative cost of a 4G carrier added on one of the operator's own positions: a radio and an
#: antenna on a structure it already has power, backhaul and a lease for (a tenancy costs
#: ``siting.SHARE_COST``, a new tower 1).
UPGRADE_COST = 0.2


@dataclass(frozen=True)
class SwitchOff:
    """An operator's switch-off plan: the technologies it turns off."""

    operator: str
    technologies: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.technologies:
            raise GisPlannerError("a switch-off names at least one technology (2G, 3G)")
        unknown = sorted(set(self.technologies) - set(CIRCUIT_VOICE))
        if unknown:
            raise GisPlannerError(f"only 2G and 3G are switched off, not {', '.join(unknown)}")


def _covering(rows: pd.DataFrame) -> pd.DataFrame:
    """Village × operator → whether each technology covers it (a frame of booleans)."""
    covered = rows[rows["covered"].astype(bool) & (rows["operator"] != ANY_OPERATOR)]
    return (
        covered.assign(flag=True)
        .pivot_table(
            index=["village_code", "operator"],
            columns="technology",
            values="flag",
            aggfunc="any",
            fill_value=False,
        )
        .astype(bool)
    )


def _of_operator(flags: pd.DataFrame, operator: str) -> pd.DataFrame:
    """The rows of ``flags`` (``_covering``) of one operator, by village."""
    if operator not in flags.index.unique("operator"):
        return flags.iloc[:0].droplevel("operator")
    return flags.xs(operator, level="operator")


def _any_of(flags: pd.DataFrame, technologies: Sequence[str]) -> pd.Series:
    """Whether any of ``technologies`` covers each village of ``flags``."""
    columns = [t for t in technologies if t in flags.columns]
    if not columns:
        return pd.Series(False, index=flags.index)
    return flags[columns].any(axis=1)


def _villages(rows: pd.DataFrame) -> pd.DataFrame:
    """Each village of ``rows`` once, by code: its commune and population."""
    facts = rows[["village_code", "commune_code", "population"]]
    return facts.drop_duplicates("village_code").set_index("village_code")


def village_impact(rows: pd.DataFrame, plan: SwitchOff) -> pd.DataFrame:
    """One row per village the switched-off technologies covered for ``plan.operator``: the
    technologies it has there before and after, its status and the action it needs; the
    villages losing most people first.

    ``rows`` are ``coverage_villages`` rows (with ``village_code``, ``commune_code``,
    ``technology``, ``operator``, ``population``, ``covered``).
    """
    flags = _covering(rows)
    ours = _of_operator(flags, plan.operator)
    kept = [t for t in ours.columns if t not in plan.technologies]
    affected = ours[_any_of(ours, plan.technologies)]
    others = flags.drop(index=plan.operator, level="operator", errors="ignore")
    by_others = others.any(axis=1).groupby(level="village_code").any()
    status = np.select(
        [
            _any_of(affected, [t for t in kept if t in CIRCUIT_VOICE]).to_numpy(),
            _any_of(affected, kept).to_numpy(),
            by_others.reindex(affected.index, fill_value=False).to_numpy(dtype=bool),
        ],
        ["keeps_service", "loses_voice", "other_operator_only"],
        default="loses_all_service",
    )
    out = pd.DataFrame(
        {
            "village_code": affected.index.to_numpy(dtype=str),
            "operator": plan.operator,
            "switched_off": ",".join(plan.technologies),
            "before": _joined(affected, list(ours.columns)),
            "after": _joined(affected, kept),
            "status": status,
            "action": [ACTIONS[s] for s in status],
        }
    ).join(_villages(rows), on="village_code")
    out["rank"] = out["status"].map({s: i for i, s in enumerate(STATUSES)})
    out = out.sort_values(["rank", "population", "village_code"], ascending=[True, False, True])
    columns = ["village_code", "commune_code", "operator", "switched_off", "population",
               "before", "after", "status", "action"]  # fmt: skip
    return out[columns].reset_index(drop=True)


def _joined(flags: pd.DataFrame, technologies: Sequence[str]) -> npt.NDArray[np.object_]:
    """Each row's technologies among ``technologies``, comma-joined ("" for none)."""
    columns = [t for t in technologies if t in flags.columns]
    held = flags[columns].to_numpy(dtype=bool)
    # A few technologies: each row's combination as a number, looked up among all of them.
    combination = held.astype(np.int64) @ (1 << np.arange(len(columns), dtype=np.int64))
    every = range(1 << len(columns))
    names = np.array(
        [",".join(c for j, c in enumerate(columns) if n >> j & 1) for n in every], dtype=object
    )
    return names[combination]


def commune_impact(rows: pd.DataFrame, impact: pd.DataFrame, plan: SwitchOff) -> pd.DataFrame:
    """Before and after by commune, for the operator: villages and people it serves (any of its
    technologies) and those with circuit-switched voice; the affected villages by status."""
    ours = _of_operator(_covering(rows), plan.operator)
    kept = [t for t in ours.columns if t not in plan.technologies]
    served = pd.DataFrame(
        {
            "served_before": _any_of(ours, list(ours.columns)),
            "served_after": _any_of(ours, kept),
            "voice_before": _any_of(ours, CIRCUIT_VOICE),
            "voice_after": _any_of(ours, [t for t in kept if t in CIRCUIT_VOICE]),
        }
    )
    villages = _villages(rows)
    served = served.reindex(villages.index, fill_value=False).astype(bool)
    population = villages["population"].fillna(0)
    columns: dict[str, pd.Series] = {"villages": pd.Series(1, index=villages.index),
                                     "population": population}  # fmt: skip
    for name in served.columns:
        columns[f"villages_{name}"] = served[name].astype(int)
        columns[f"population_{name}"] = population.where(served[name], 0)
    per_commune = pd.DataFrame(columns).groupby(villages["commune_code"]).sum()
    counts = (
        impact.groupby(["commune_code", "status"]).size().unstack(fill_value=0)
        .reindex(columns=list(STATUSES), fill_value=0)
    )  # fmt: skip
    per_commune = per_commune.join(counts.add_prefix("villages_"), how="left").fillna(0)
    per_commune = per_commune.round().astype("int64").reset_index()
    per_commune.insert(1, "operator", plan.operator)
    per_commune.insert(2, "switched_off", ",".join(plan.technologies))
    return per_commune


def restoration_candidates(
    positions: gpd.GeoDataFrame,
    cells: pd.DataFrame,
    demand: gpd.GeoDataFrame,
    operator: str,
    *,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Where 4G could restore the operator's service: its own positions without a 4G cell of
    its own (cost ``UPGRADE_COST``), other operators' positions with room and new towers at
    the demand (``siting.siting_candidates``)."""
    sites = members(positions)
    ours = sites[sites["operator"] == operator]
    with_4g = cells.loc[
        (cells["operator"] == operator) & (cells["technology"] == "4G"), "site_id"
    ].astype(str)
    has_4g = ours.groupby("position_id")["site_id"].agg(lambda ids: ids.isin(with_4g).any())
    upgradable = has_4g.index[~has_4g.to_numpy(dtype=bool)]
    own = positions[
        hosts_operator(positions["operators"], operator)
        & positions["position_id"].isin(upgradable).to_numpy()
    ]
    upgrades = position_candidates(own, "upgrade", UPGRADE_COST, prefix="U")
    others = siting_candidates(positions, demand, operator, metric_crs=metric_crs)
    return pd.concat([upgrades, others], ignore_index=True)


def restore(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    *,
    budget: float | None = None,
    time_limit_s: float = 60.0,
    metric_crs: str | None = None,
) -> SitingResult:
    """The 4G cells that restore service to ``demand`` (villages), ranked by the people they
    reach: the cheapest set covering every coverable village, or the most people within
    ``budget``."""
    return propose_sites(
        demand,
        candidates,
        communes,
        cell=planned_cell("4G"),
        budget=budget,
        time_limit_s=time_limit_s,
        metric_crs=metric_crs,
    )
