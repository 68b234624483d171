"""Consolidation plan: the fewest site moves that lift the sharing ratio to the plan's marks.

A **move** takes one operator's site off its single-operator position and installs it on a
nearby position of another operator. Each move removes at most one position and adds at most one
shared position, so from ``P`` positions of which ``S`` are shared, reaching the ratio ``t`` needs
at least ``k = ceil((t·P − S) / (1 + t))`` moves; merging two single-operator positions of
different operators achieves exactly that step. The plan takes, per area, a maximum matching of
the mergeable pairs (exact, preferring short moves), then its shortest pairs; only when the
matching is too small does it add moves of single-operator sites onto nearby shared positions
with room (each removes a position without adding a shared one), nearest first. So the plan is
the fewest moves whenever the matching suffices, and says so in the summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from gis_planner.crs import WGS84, metric_crs_of
from gis_planner.defaults import DEFAULT_MERGE_DISTANCE_M
from gis_planner.sharing import PLAN_TARGETS, SharingTargets

MOVE_COLUMNS = (
    "move_id", "area_code", "step", "kind", "operator", "from_position", "from_sites",
    "to_position", "to_operators", "distance_m", "ratio_after", "for_low", "for_high",
)  # fmt: skip


@dataclass(frozen=True)
class ConsolidationPlan:
    """The moves (lines from the moving site to its host) and the per-area summary."""

    moves: gpd.GeoDataFrame
    summary: pd.DataFrame


def moves_needed(positions: int, shared: int, target: float) -> int:
    """The fewest moves that can lift ``shared / positions`` to ``target`` (a lower bound)."""
    return max(0, math.ceil((target * positions - shared) / (1 + target) - 1e-9))


def consolidation_plan(
    placed_positions: gpd.GeoDataFrame,
    *,
    area_column: str = "district_code",
    merge_distance_m: float = DEFAULT_MERGE_DISTANCE_M,
    targets: SharingTargets = PLAN_TARGETS,
    metric_crs: str | None = None,
) -> ConsolidationPlan:
    """The plan for each area (``area_column`` of ``sharing.place_positions``'s output).

    Positions outside every area are left out. The plan aims at the high mark; its first moves
    (``for_low``) reach the low one. The summary gives, per area, the ratio now, the lower bound
    and the planned number of moves for each mark (empty when the mark cannot be reached with
    moves no longer than ``merge_distance_m``) and the ratio after the plan. Distances are
    measured in ``metric_crs`` (default: the positions' area's); the moves are in WGS84.
    """
    crs = metric_crs or metric_crs_of(placed_positions)
    table = placed_positions[placed_positions[area_column].notna()].reset_index(drop=True)
    xy = shapely.get_coordinates(table.geometry.to_crs(crs).to_numpy())
    area = table[area_column].astype(str).to_numpy()
    pairs = _mergeable_pairs(table, xy, area, merge_distance_m)
    joins = _joinable_shared(table, xy, area, merge_distance_m)
    pair_area, join_area = area[pairs["mover"]], area[joins["mover"]]

    plans: list[pd.DataFrame] = []
    summary = []
    for code in np.unique(area):
        n_positions = int((area == code).sum())
        n_shared = int(table["shared"].to_numpy()[area == code].sum())
        steps = _plan_area(
            pairs[pair_area == code],
            joins[join_area == code],
            table["capacity"].to_numpy() - table["tenants"].to_numpy(),
            n_positions,
            n_shared,
            targets.high,
            merge_distance_m,
        )
        ratio = _ratios(n_positions, n_shared, steps["kind"].to_numpy())
        reach_low = _first_reaching(ratio, n_shared / n_positions, targets.low)
        reach_high = _first_reaching(ratio, n_shared / n_positions, targets.high)
        steps["area_code"] = code
        steps["ratio_after"] = ratio
        steps["for_low"] = steps["step"] <= (len(steps) if reach_low is None else reach_low)
        steps["for_high"] = True
        plans.append(steps)
        summary.append(
            {
                "area_code": code,
                "positions": n_positions,
                "shared_positions": n_shared,
                "ratio_now": n_shared / n_positions,
                "moves_lower_bound_low": moves_needed(n_positions, n_shared, targets.low),
                "moves_low": reach_low,
                "moves_lower_bound_high": moves_needed(n_positions, n_shared, targets.high),
                "moves_high": reach_high,
                "ratio_after_plan": ratio[-1] if len(ratio) else n_shared / n_positions,
            }
        )
    summary_frame = pd.DataFrame(summary)
    for column in ("moves_low", "moves_high"):
        summary_frame[column] = summary_frame[column].astype("Int64")
    return ConsolidationPlan(_moves_layer(table, xy, crs, plans), summary_frame)


def _mergeable_pairs(
    table: pd.DataFrame, xy: np.ndarray, area: np.ndarray, max_m: float
) -> pd.DataFrame:
    """Single-operator positions of different operators in one area within ``max_m``.

    The mover is the position on the smaller structure (capacity, then height, then id); the
    host must take a second tenant.
    """
    singles = np.flatnonzero(table["tenants"].to_numpy() == 1)
    points = shapely.points(xy[singles])
    a, b = shapely.STRtree(points).query(points, predicate="dwithin", distance=max_m)
    a, b = singles[a], singles[b]
    operators = table["operators"].to_numpy(dtype=str)
    keep = (a < b) & (area[a] == area[b]) & (operators[a] != operators[b])
    a, b = a[keep], b[keep]
    capacity = table["capacity"].to_numpy()
    height = table["height_m"].to_numpy()
    key_a = np.stack([capacity[a], height[a], -a], axis=1)
    key_b = np.stack([capacity[b], height[b], -b], axis=1)
    first_diff = np.argmax(key_a != key_b, axis=1)
    b_bigger = key_b[np.arange(len(a)), first_diff] > key_a[np.arange(len(a)), first_diff]
    mover = np.where(b_bigger, a, b)
    host = np.where(b_bigger, b, a)
    pairs = pd.DataFrame(
        {"mover": mover, "host": host, "distance_m": np.hypot(*(xy[mover] - xy[host]).T)}
    )
    return pairs[capacity[host] >= 2].reset_index(drop=True)


def _joinable_shared(
    table: pd.DataFrame, xy: np.ndarray, area: np.ndarray, max_m: float
) -> pd.DataFrame:
    """Single-operator positions and shared positions with room, in one area within ``max_m``."""
    tenants = table["tenants"].to_numpy()
    singles = np.flatnonzero(tenants == 1)
    hosts = np.flatnonzero((tenants >= 2) & (table["capacity"].to_numpy() > tenants))
    tree = shapely.STRtree(shapely.points(xy[hosts]))
    a, b = tree.query(shapely.points(xy[singles]), predicate="dwithin", distance=max_m)
    mover, host = singles[a], hosts[b]
    operators = table["operators"].to_numpy(dtype=str)
    # The mover (a single operator) must not already be on the host: whole keys, elementwise.
    padded_hosts = np.char.add(np.char.add(",", operators[host]), ",")
    new_tenant = (
        np.char.find(padded_hosts, np.char.add(np.char.add(",", operators[mover]), ",")) < 0
    )
    keep = (area[mover] == area[host]) & new_tenant
    mover, host = mover[keep], host[keep]
    return pd.DataFrame(
        {"mover": mover, "host": host, "distance_m": np.hypot(*(xy[mover] - xy[host]).T)}
    )


def _plan_area(
    pairs: pd.DataFrame,
    joins: pd.DataFrame,
    room: np.ndarray,
    n_positions: int,
    n_shared: int,
    target: float,
    max_m: float,
) -> pd.DataFrame:
    """The ordered moves of one area towards ``target``: merges first, then joins."""
    need = moves_needed(n_positions, n_shared, target)
    graph = nx.Graph()
    # Weights favour short moves among the matchings of maximum size.
    graph.add_weighted_edges_from(
        zip(pairs["mover"], pairs["host"], max_m + 1.0 - pairs["distance_m"], strict=True)
    )
    matched = {frozenset(edge) for edge in nx.max_weight_matching(graph, maxcardinality=True)}
    is_matched = np.array(
        [frozenset(e) in matched for e in zip(pairs["mover"], pairs["host"], strict=True)],
        dtype=bool,
    )
    merges = pairs[is_matched].sort_values(["distance_m", "mover"]).head(need)
    merges = merges.assign(kind="merge")

    positions_left = n_positions - len(merges)
    shared_now = n_shared + len(merges)
    extra = max(0, math.ceil(positions_left - shared_now / target - 1e-9)) if target > 0 else 0
    chosen: list[int] = []
    used = set(merges["mover"]) | set(merges["host"])
    room = room.copy()
    for row in joins.sort_values(["distance_m", "mover"]).itertuples():
        # Few rows per area: a greedy pass, each single moved once, hosts within capacity.
        if len(chosen) == extra:
            break
        if row.mover in used or room[row.host] <= 0:
            continue
        used.add(row.mover)
        room[row.host] -= 1
        chosen.append(row.Index)
    steps = pd.concat([merges, joins.loc[chosen].assign(kind="join")], ignore_index=True)
    steps["step"] = np.arange(1, len(steps) + 1)
    return steps


def _ratios(n_positions: int, n_shared: int, kinds: np.ndarray) -> np.ndarray:
    """The sharing ratio after each move: a merge adds a shared position, every move removes one."""
    steps = np.arange(1, len(kinds) + 1)
    shared = n_shared + np.cumsum(kinds == "merge")
    return shared / (n_positions - steps)


def _first_reaching(ratio: np.ndarray, now: float, target: float) -> int | None:
    """How many moves reach ``target`` (0 when already there; None when the plan never does)."""
    if now >= target - 1e-12:
        return 0
    hits = np.flatnonzero(ratio >= target - 1e-12)
    return int(hits[0]) + 1 if len(hits) else None


def _moves_layer(
    table: pd.DataFrame, xy: np.ndarray, crs: str, plans: list[pd.DataFrame]
) -> gpd.GeoDataFrame:
    """The moves as lines from mover to host (``xy`` in ``crs``), back in WGS84."""
    columns = ["mover", "host", "distance_m", "kind", "step", "area_code", "ratio_after"]
    frame = pd.concat([pd.DataFrame(columns=columns), *plans], ignore_index=True)
    mover = frame["mover"].to_numpy(dtype=int)
    host = frame["host"].to_numpy(dtype=int)
    frame["operator"] = table["operators"].to_numpy(dtype=str)[mover]
    frame["from_position"] = table["position_id"].to_numpy()[mover]
    frame["from_sites"] = table["site_ids"].to_numpy(dtype=str)[mover]
    frame["to_position"] = table["position_id"].to_numpy()[host]
    frame["to_operators"] = table["operators"].to_numpy(dtype=str)[host]
    frame["move_id"] = frame["area_code"] + "-" + frame["step"].astype(str).str.zfill(3)
    lines = shapely.linestrings(np.stack([xy[mover], xy[host]], axis=1).reshape(-1, 2, 2))
    geometry = gpd.GeoSeries(lines, crs=crs).to_crs(WGS84).to_numpy()
    return gpd.GeoDataFrame(frame.loc[:, list(MOVE_COLUMNS)], geometry=geometry, crs=WGS84)
