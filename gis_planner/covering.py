"""Maximal covering and set covering: exact reductions, a strong start, HiGHS, an honest gap.

Demand points ``i`` (villages, weighted by population) and candidate sites ``j`` (with costs)
are linked by a sparse 0/1 coverage matrix ``a[i, j]``. Before the MILP, reductions that keep
the optimum exact shrink the model (:func:`reduce_max`, :func:`reduce_set`); a greedy answer
improved by swaps (and, for maximal covering, by simulated annealing) is handed to HiGHS as its
start; the LP bound of the reduced model is reported. When the solver stops on its time limit,
the best solution found is returned with the solver's bound and labelled ``time_limit``, never
``optimal``. Demand that no candidate covers is left out of the model and reported, so no
instance is "infeasible".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal

import highspy
import numba
import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

from gis_planner.errors import GisPlannerError

Method = Literal["milp", "greedy"]
#: ``optimal``: proven; ``time_limit``: the best found when the limit struck, with its gap;
#: ``heuristic``: the greedy answer with the LP bound, no proof attempted.
Status = Literal["optimal", "time_limit", "heuristic"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CoveringProblem:
    """Demand weights, candidate costs and which candidates cover which demand."""

    weights: FloatArray
    costs: FloatArray
    cover: sparse.csr_array

    def __post_init__(self) -> None:
        # Held as float CSR: the solvers and the greedy's products need numbers, not booleans.
        cover = sparse.csr_array(self.cover, dtype=np.float64, copy=True)
        cover.sum_duplicates()
        cover.data[:] = 1.0
        cover.eliminate_zeros()
        object.__setattr__(self, "cover", cover)
        object.__setattr__(self, "weights", np.asarray(self.weights, dtype=np.float64))
        object.__setattr__(self, "costs", np.asarray(self.costs, dtype=np.float64))
        if self.cover.shape != (len(self.weights), len(self.costs)):
            raise GisPlannerError(
                f"coverage matrix is {self.cover.shape}, expected "
                f"{(len(self.weights), len(self.costs))} (demand × candidates)"
            )
        if len(self.costs) and self.costs.min() <= 0:
            raise GisPlannerError("candidate costs must be positive")

    @property
    def coverable(self) -> BoolArray:
        """Demand that at least one candidate covers."""
        return np.diff(self.cover.indptr) > 0


@dataclass(frozen=True)
class Reduction:
    """What the reductions left for the solver, out of what they were given."""

    demand: tuple[int, int]
    candidates: tuple[int, int]
    #: Candidates every optimum holds (set covering: a demand's only cover).
    fixed: int = 0
    #: Independent parts solved apart (set covering); 1 for maximal covering.
    components: int = 1


@dataclass(frozen=True)
class CoveringSolution:
    """Chosen candidates, covered demand, the objective and a proven bound on the optimum."""

    selected: IntArray
    covered: BoolArray
    objective: float
    #: Upper bound (maximal covering) or lower bound (set covering) on the optimum.
    bound: float
    optimal: bool
    method: Method
    solve_s: float
    status: Status = "heuristic"
    #: The LP relaxation's optimum (of the reduced model): the bound before any branching.
    lp_bound: float = float("nan")
    time_limit_s: float = float("nan")
    reduction: Reduction | None = None
    #: HiGHS's branch-and-bound nodes and simplex iterations (deterministic, unlike the time).
    nodes: int = 0
    lp_iterations: int = 0

    @property
    def gap(self) -> float:
        """Relative distance between the objective and the bound (0 when proven optimal)."""
        scale = max(abs(self.bound), abs(self.objective), 1e-12)
        return abs(self.bound - self.objective) / scale

    @property
    def label(self) -> str:
        """How a user should read the objective: proven optimal, or a best found with its gap."""
        if self.status == "optimal":
            return "optimal"
        if self.status == "time_limit":
            return (
                f"best found, not proven optimal: gap ≤ {self.gap:.2%} "
                f"at the {self.time_limit_s:g} s limit"
            )
        return f"heuristic (greedy), gap ≤ {self.gap:.2%} to the LP bound"


# --------------------------------------------------------------------------- maximal covering


def maximal_covering(
    problem: CoveringProblem,
    budget: float,
    *,
    time_limit_s: float = 60.0,
    method: Method = "milp",
    reduce: bool = True,
) -> CoveringSolution:
    """Candidates of total cost ≤ ``budget`` covering the most demand weight.

    With unit costs the budget is the number of sites ``p``. The model is reduced first
    (:func:`reduce_max`), started from the greedy-and-swap answer, and solved by HiGHS within
    ``time_limit_s``; ``reduce=False`` solves the model as given (for tests and comparisons).
    """
    started = time.perf_counter()
    small, _, kept = reduce_max(problem, budget) if reduce else _identity(problem)
    reduction = Reduction(
        (problem.cover.shape[0], small.cover.shape[0]), (len(problem.costs), len(small.costs))
    )
    start = _swap(small, budget, _greedy_max(small, budget))
    if method == "milp":
        start = _best_max(small, start, _swap(small, budget, _anneal_max(small, budget, start)))
    lp = _lp_bound_max(small, budget)
    finish = partial(_solution, problem, maximise=True, lp=lp, method=method, started=started,
                     time_limit_s=time_limit_s, reduction=reduction)  # fmt: skip
    if len(small.costs) == 0 or len(small.weights) == 0:  # nothing left to choose
        return finish(kept[start], bound=lp, status="optimal")
    if method == "greedy":
        return finish(kept[start], bound=lp, status="heuristic")
    chosen, bound, proven, work = _solve_max(small, budget, start, time_limit_s, lp)
    status: Status = "optimal" if proven else "time_limit"
    return replace(finish(kept[chosen], bound=bound, status=status), nodes=work[0],
                   lp_iterations=work[1])  # fmt: skip


def reduce_max(
    problem: CoveringProblem, budget: float
) -> tuple[CoveringProblem, IntArray, IntArray]:
    """The maximal covering with the same optimum, smaller.

    Demand of no weight or that nothing covers is dropped, demand with the same covering set is
    merged (weights summed), candidates dearer than the budget are dropped, and so is every
    candidate whose covered demand is within another's of no greater cost (swapping it for the
    other never loses weight nor spends more). Returns the reduced problem, for each original
    demand point its reduced row (-1 if dropped), and the original index of each kept candidate.

    Independent components are *not* solved apart: the budget couples them, and an exact split
    needs each component's optimum at every budget, more work than the one MILP it replaces.
    """
    cover = problem.cover
    useful = (problem.weights > 0) & problem.coverable
    keep_c = problem.costs <= budget + 1e-9
    cover = cover[np.flatnonzero(useful)][:, np.flatnonzero(keep_c)]
    kept = np.flatnonzero(keep_c)
    alive = ~_dominated_columns(cover, problem.costs[kept])
    cover, kept = cover[:, np.flatnonzero(alive)], kept[alive]
    rows, group = _merge_rows(cover)
    weights = np.bincount(group, problem.weights[useful], len(rows)).astype(np.float64)
    demand_of = np.full(len(problem.weights), -1, dtype=np.int64)
    demand_of[useful] = group
    small = CoveringProblem(weights, problem.costs[kept], cover[rows])
    # A candidate left covering nothing (its demand all dropped) only costs budget.
    gives = np.diff(small.cover.tocsc().indptr) > 0
    small = CoveringProblem(
        small.weights, small.costs[gives], small.cover[:, np.flatnonzero(gives)]
    )
    return small, demand_of, kept[gives]


def _solve_max(
    small: CoveringProblem, budget: float, start: IntArray, time_limit_s: float, lp: float
) -> tuple[IntArray, float, bool, tuple[int, int]]:
    """HiGHS on the reduced maximal covering; (chosen, upper bound, proven optimal, work)."""
    n_demand, n_candidates = small.cover.shape
    if small.weights[small.coverable].sum() <= _covered_weight(small, start) + 1e-9:
        return start, _covered_weight(small, start), True, (0, 0)  # the start covers all
    reached = _covered_weight(small, start)
    if lp - reached < (1.0 - 1e-6 if _is_integral(small.weights) else 1e-6):
        return start, reached, True, (0, 0)  # the start meets the LP bound
    # Columns: x_j (binary) then y_i (continuous in [0, 1]); rows: y_i - Σ_j a_ij x_j ≤ 0,
    # then Σ_j c_j x_j ≤ budget. Minimise -Σ w_i y_i.
    link = sparse.hstack([-small.cover, sparse.identity(n_demand, format="csr")], format="csr")
    spend = sparse.csr_array(np.concatenate([small.costs, np.zeros(n_demand)])[None, :])
    matrix = sparse.vstack([link, spend], format="csc")
    x = np.zeros(n_candidates + n_demand)
    x[start] = 1.0
    x[n_candidates:] = _covered(small, start)
    # y_i declared binary too (an optimum has them 0/1 anyway): HiGHS then branches on "is this
    # demand covered", which fixes all its covers at once, and its cuts treat y as integral. With
    # the annealed start near the optimum, HiGHS's own sub-MIP heuristics only cost time.
    values, bound, proven, work = _highs(
        cost=np.concatenate([np.zeros(n_candidates), -small.weights]),
        matrix=matrix,
        row_upper=np.concatenate([np.zeros(n_demand), [budget]]),
        integer=n_candidates + n_demand,
        start=x,
        time_limit_s=time_limit_s,
        integral_objective=_is_integral(small.weights),
        options=_PROOF_OPTIONS,
    )
    chosen = np.flatnonzero(values[:n_candidates] > 0.5) if values is not None else start
    if _covered_weight(small, chosen) + 1e-9 < _covered_weight(small, start):
        chosen = start
    return chosen, min(-bound, lp), proven, work


# ------------------------------------------------------------------------------- set covering


def set_covering(
    problem: CoveringProblem,
    *,
    time_limit_s: float = 60.0,
    method: Method = "milp",
    reduce: bool = True,
) -> CoveringSolution:
    """The cheapest set of candidates covering every coverable demand point.

    Uncoverable demand (``~problem.coverable``) is left out; the solution's ``covered`` says
    which demand is covered, so the caller lists the rest. The model is reduced first
    (:func:`reduce_set`) and each independent component is solved apart, started from a greedy
    answer; the bound is the fixed candidates' cost plus the components' bounds.
    """
    started = time.perf_counter()
    deadline = started + time_limit_s
    rows, cols, fixed = reduce_set(problem) if reduce else _all_set(problem)
    costs = problem.costs
    sub = problem.cover[rows][:, cols]
    n_parts, part_of_col = _components(sub)
    reduction = Reduction(
        (problem.cover.shape[0], len(rows)), (len(costs), len(cols)), len(fixed), n_parts
    )
    part_of_row = part_of_col[sub.indices[sub.indptr[:-1]]] if len(rows) else part_of_col[:0]
    chosen = [fixed]
    bound = lp = float(costs[fixed].sum())
    proven = True
    nodes = iterations = 0
    sub_c = sub.tocsc()
    for part in _by_size(part_of_col, n_parts):
        c_idx = np.flatnonzero(part_of_col == part)
        r_idx = np.flatnonzero(part_of_row == part)
        piece = sub_c[:, c_idx].tocsr()[r_idx]
        piece_costs = costs[cols[c_idx]]
        greedy = _prune(piece, piece_costs, _greedy_set(piece, piece_costs))
        part_lp = _lp_bound_set(piece, piece_costs)
        lp += part_lp
        if method == "greedy":
            picked, part_bound, part_proven = greedy, part_lp, False
        else:
            picked, part_bound, part_proven, (part_nodes, part_its) = _solve_set(
                piece, piece_costs, greedy, max(deadline - time.perf_counter(), 0.01), part_lp
            )
            nodes, iterations = nodes + part_nodes, iterations + part_its
        chosen.append(cols[c_idx[picked]])
        bound += part_bound
        proven &= part_proven
    status: Status = "heuristic" if method == "greedy" else "optimal" if proven else "time_limit"
    if method == "greedy" and n_parts == 0:
        status = "optimal"
    selected = np.concatenate(chosen).astype(np.int64)
    solution = _solution(problem, selected, maximise=False, bound=bound, lp=lp, status=status,
                         method=method, started=started, time_limit_s=time_limit_s,
                         reduction=reduction)  # fmt: skip
    return replace(solution, nodes=nodes, lp_iterations=iterations)


def reduce_set(problem: CoveringProblem) -> tuple[IntArray, IntArray, IntArray]:
    """The set covering with the same optimum, smaller: (rows, columns, fixed candidates).

    Repeated until nothing changes: a demand point only one candidate covers fixes that
    candidate (and the demand it covers is done); a demand point whose covering set holds
    another's is dropped (covering the other covers it); a candidate whose remaining demand
    is within another's of no greater cost is dropped. Ties keep the lowest index.
    """
    cover = problem.cover
    rows = np.flatnonzero(problem.coverable)
    cols = np.arange(cover.shape[1])
    fixed: list[IntArray] = []
    while True:
        sub = cover[rows][:, cols]
        counts = np.diff(sub.indptr)
        lone = np.unique(sub.indices[sub.indptr[:-1][counts == 1]])
        if len(lone):
            fixed.append(cols[lone])
            done = np.asarray(sub[:, lone].sum(axis=1)).ravel() > 0
            rows = rows[~done]
            keep = np.ones(len(cols), dtype=bool)
            keep[lone] = False
            cols = cols[keep]
            continue
        drop_r = _dominated_rows(sub)
        drop_c = _dominated_columns(sub, problem.costs[cols]) | (np.diff(sub.tocsc().indptr) == 0)
        if not drop_r.any() and not drop_c.any():
            break
        rows, cols = rows[~drop_r], cols[~drop_c]
    fixed_all = np.concatenate(fixed) if fixed else np.zeros(0, dtype=np.int64)
    return rows.astype(np.int64), cols.astype(np.int64), fixed_all.astype(np.int64)


def _solve_set(
    cover: sparse.csr_array, costs: FloatArray, start: IntArray, time_limit_s: float, lp: float
) -> tuple[IntArray, float, bool, tuple[int, int]]:
    """HiGHS on one component; (chosen, lower bound, proven optimal, work)."""
    gap_abs = 1.0 - 1e-6 if _is_integral(costs) else 1e-9
    if costs[start].sum() - lp < gap_abs:
        return start, float(costs[start].sum()), True, (0, 0)  # the start meets the LP bound
    x = np.zeros(len(costs))
    x[start] = 1.0
    values, bound, proven, work = _highs(
        cost=costs,
        matrix=-cover.tocsc(),
        row_upper=-np.ones(cover.shape[0]),
        integer=len(costs),
        start=x,
        time_limit_s=time_limit_s,
        integral_objective=_is_integral(costs),
        options=_SET_OPTIONS,
    )
    chosen = np.flatnonzero(values > 0.5) if values is not None else start
    if costs[chosen].sum() > costs[start].sum() + 1e-9:
        chosen = start
    return chosen, max(bound, lp), proven, work


# ------------------------------------------------------------------------------------ HiGHS

#: Maximal covering starts from the annealed answer, within a few hundredths of a percent of the
#: optimum: HiGHS's sub-MIP heuristics (RINS, RENS, reduced-cost, feasibility jump) then spent a
#: third of the time on the issue-17 instance without improving on it, so the proof runs without
#: them (80k simplex iterations against 126k with them, 568 nodes against 961). Cuts are made at
#: the root only: separating them at the nodes made each node dearer without shortening the
#: search (over HiGHS's seeds 0–2, 21–35 s of CPU to the proof against 25–43 s with them, for
#: as many simplex iterations).
_PROOF_OPTIONS: dict[str, bool | int | float] = {
    "mip_allow_cut_separation_at_nodes": False,
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
}
#: Set covering: branching by pseudo-costs from the first branchings on, without strong branching
#: until each is "reliable" (issue-17 instance, 1k × 1k, 4 km: 46k simplex iterations and 195
#: nodes to the proof against 78k and 207, of which 29k in strong branching). The sub-MIP
#: heuristics are off here too: they find the optimum from the greedy start, but take 6 of the
#: 12 s, and the tree finds it as well for less. Over HiGHS's seeds 0–3 the proof took 6.3–7.9 s
#: of CPU without them and root-only cuts, against 8.3–12.0 s with both (more nodes, 50–67k
#: iterations against 38–57k, each much cheaper than a sub-MIP's).
_SET_OPTIONS: dict[str, bool | int | float] = {**_PROOF_OPTIONS, "mip_pscost_minreliable": 0}


def _highs(
    *,
    cost: FloatArray,
    matrix: sparse.csc_array,
    row_upper: FloatArray,
    integer: int,
    start: FloatArray,
    time_limit_s: float,
    integral_objective: bool,
    options: dict[str, bool | int | float] | None = None,
) -> tuple[FloatArray | None, float, bool, tuple[int, int]]:
    """Minimise ``cost @ x`` s.t. ``matrix @ x ≤ row_upper``, 0 ≤ x ≤ 1, the first ``integer``
    columns integral, from ``start``. Returns (x or None, lower bound, proven optimal, (nodes,
    simplex iterations)).

    The gap tolerance is zero (an integral objective is proven at an absolute gap below 1):
    "optimal" means optimal, not within HiGHS's default 0.01 %.
    """
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(max(time_limit_s, 0.01)))
    h.setOptionValue("mip_rel_gap", 0.0)
    gap_abs = 1.0 - 1e-6 if integral_objective else 1e-6
    h.setOptionValue("mip_abs_gap", gap_abs)
    h.setOptionValue("threads", 1)
    for name, value in (options or {}).items():
        h.setOptionValue(name, value)
    lp = highspy.HighsLp()
    n_rows, n_cols = matrix.shape
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_, lp.col_upper_ = np.zeros(n_cols), np.ones(n_cols)
    lp.row_lower_, lp.row_upper_ = np.full(n_rows, -highspy.kHighsInf), row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * integer + [
        highspy.HighsVarType.kContinuous
    ] * (n_cols - integer)
    h.passModel(lp)
    solution = highspy.HighsSolution()
    solution.col_value = list(start)
    solution.value_valid = True
    h.setSolution(solution)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    values = np.asarray(h.getSolution().col_value) if info.primal_solution_status else None
    optimal = status == highspy.HighsModelStatus.kOptimal
    work = (max(int(info.mip_node_count), 0), max(int(info.simplex_iteration_count), 0))
    if integer == 0:  # an LP: its optimum is the bound
        return values, float(info.objective_function_value), optimal, work
    bound = float(info.mip_dual_bound)
    # Stopped by the limit with the bound already closed: proven all the same.
    closed = values is not None and info.objective_function_value - bound < gap_abs
    return values, bound, optimal or closed, work


# ------------------------------------------------------------------------------ reductions


def _dominated_columns(cover: sparse.csr_array, costs: FloatArray) -> BoolArray:
    """Candidates whose demand is within another's of no greater cost (ties: lower index wins)."""
    n = cover.shape[1]
    if n == 0:
        return np.zeros(0, dtype=bool)
    size = np.diff(cover.tocsc().indptr)
    overlap = (cover.T @ cover).tocoo()
    j, k, shared = overlap.row, overlap.col, overlap.data
    within = (j != k) & (shared == size[j]) & (costs[k] <= costs[j] + 1e-12)
    same = (size[k] == size[j]) & (np.abs(costs[k] - costs[j]) <= 1e-12)
    strict = within & (~same | (k < j))
    dominated = np.zeros(n, dtype=bool)
    dominated[j[strict]] = True
    return dominated


def _dominated_rows(cover: sparse.csr_array) -> BoolArray:
    """Demand whose covering set holds another demand's (ties: the lower index stays)."""
    n = cover.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    size = np.diff(cover.indptr)
    overlap = (cover @ cover.T).tocoo()
    i, k, shared = overlap.row, overlap.col, overlap.data
    # Row i is implied by row k when N(k) ⊆ N(i).
    implied = (i != k) & (shared == size[k]) & ((size[k] < size[i]) | (k < i))
    dropped = np.zeros(n, dtype=bool)
    dropped[i[implied]] = True
    return dropped


def _merge_rows(cover: sparse.csr_array) -> tuple[IntArray, IntArray]:
    """(one row of each distinct covering set, each row's group), by exact sorted comparison."""
    n = cover.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cover = cover.sorted_indices() if not cover.has_sorted_indices else cover
    counts = np.diff(cover.indptr)
    width = int(counts.max()) if n else 0
    # Rows as fixed-width tuples (padded with -1), so equal sets are equal rows.
    padded = np.full((n, max(width, 1) + 1), -1, dtype=np.int64)
    padded[:, 0] = counts
    rows = np.repeat(np.arange(n), counts)
    slots = np.arange(len(cover.indices)) - np.repeat(cover.indptr[:-1], counts)
    padded[rows, slots + 1] = cover.indices
    _, first, group = np.unique(padded, axis=0, return_index=True, return_inverse=True)
    return first.astype(np.int64), group.ravel().astype(np.int64)


def _components(cover: sparse.csr_array) -> tuple[int, IntArray]:
    """Connected components of the candidates linked through shared demand."""
    if cover.shape[1] == 0:
        return 0, np.zeros(0, dtype=np.int64)
    n, labels = csgraph.connected_components(cover.T @ cover, directed=False)
    return int(n), labels.astype(np.int64)


def _by_size(labels: IntArray, n: int) -> IntArray:
    """Component labels, smallest first: small parts are proven before the big one takes the
    time that is left."""
    return np.argsort(np.bincount(labels, minlength=n), kind="stable").astype(np.int64)


def _identity(problem: CoveringProblem) -> tuple[CoveringProblem, IntArray, IntArray]:
    n_demand, n_candidates = problem.cover.shape
    return problem, np.arange(n_demand, dtype=np.int64), np.arange(n_candidates, dtype=np.int64)


def _all_set(problem: CoveringProblem) -> tuple[IntArray, IntArray, IntArray]:
    everything = np.arange(problem.cover.shape[1], dtype=np.int64)
    return np.flatnonzero(problem.coverable), everything, np.zeros(0, dtype=np.int64)


def _is_integral(values: FloatArray) -> bool:
    return bool(np.all(values == np.round(values)))


# ------------------------------------------------------------------------------ heuristics


def _greedy_max(problem: CoveringProblem, budget: float) -> IntArray:
    """Repeatedly the affordable candidate adding the most uncovered weight per unit cost."""
    cover = problem.cover.tocsc()
    cover_t = cover.T.tocsr()
    remaining = problem.weights.astype(np.float64).copy()
    left = float(budget)
    available = np.ones(cover.shape[1], dtype=bool)
    chosen: list[int] = []
    while True:
        gain = cover_t @ remaining
        ratio = np.where(available & (problem.costs <= left + 1e-12), gain / problem.costs, -1.0)
        best = int(np.argmax(ratio)) if len(ratio) else -1
        if best < 0 or ratio[best] <= 0:
            break
        chosen.append(best)
        available[best] = False
        left -= float(problem.costs[best])
        remaining[cover.indices[cover.indptr[best] : cover.indptr[best + 1]]] = 0.0
    return np.array(chosen, dtype=np.int64)


def _swap(problem: CoveringProblem, budget: float, chosen: IntArray) -> IntArray:
    """Best-improvement swaps (one candidate out, one in, within the budget) until none helps.

    The gain of every swap comes from one sparse product: adding ``a`` after removing ``r``
    gains ``a``'s uncovered weight plus the weight only ``r`` covered that ``a`` covers too.
    """
    cover = problem.cover
    cover_t = cover.T.tocsr()
    weights, costs = problem.weights, problem.costs
    chosen = chosen.copy()
    for _ in range(10 * len(costs) + 1):
        count = cover @ np.bincount(chosen, minlength=len(costs)).astype(np.float64)
        gain = cover_t @ (weights * (count == 0))
        only = weights * (count == 1)
        loss = (cover_t @ only)[chosen]
        # regained[a, r]: weight only r covers that a covers too.
        regained = (cover_t @ (sparse.diags_array(only) @ cover[:, chosen])).toarray()
        delta = gain[:, None] + regained - loss[None, :]
        left = budget - costs[chosen].sum()
        affordable = costs[:, None] <= left + costs[chosen][None, :] + 1e-9
        delta[~affordable] = -np.inf
        delta[chosen, :] = -np.inf
        if delta.size == 0:
            break
        a, r = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if delta[a, r] <= 1e-9:
            break
        chosen[r] = a
    left = budget - costs[chosen].sum()
    # Spend what a cheaper swap left over.
    extra = _greedy_max(_without(problem, chosen), left)
    return np.sort(np.concatenate([chosen, extra])).astype(np.int64)


#: Simulated annealing's length: moves per candidate, within these bounds.
_ANNEAL_MOVES_PER_CANDIDATE = 6_000
_ANNEAL_MOVES = (1_000_000, 20_000_000)


def _anneal_max(
    problem: CoveringProblem, budget: float, start: IntArray, seed: int = 0
) -> IntArray:
    """Simulated annealing from ``start``: the best answer met, within the budget.

    A move takes one chosen candidate out and a candidate near it (sharing demand with it; one
    move in ten, any candidate) in, or only adds one the budget still affords; its effect comes
    from the per-demand cover counts, in the time of the two candidates' demand lists. The
    temperature falls geometrically from the median demand weight to a hundredth of it.
    Deterministic for a seed. On the issue-17 instance (1k × 1k, 3 km, p = 40) it ends within
    0.01 % of the optimum in about a second, where best-improvement swaps stop 1.1 % short.
    """
    n_demand, n_candidates = problem.cover.shape
    if n_candidates == 0 or n_demand == 0 or len(start) == 0:
        return start
    cover = problem.cover.sorted_indices()
    by_candidate = cover.tocsc().sorted_indices()
    near = sparse.csr_array(cover.T @ cover)
    near.setdiag(0)
    near.eliminate_zeros()
    positive = problem.weights[problem.weights > 0]
    hot = float(np.median(positive)) if len(positive) else 1.0
    low, high = _ANNEAL_MOVES
    moves = int(np.clip(_ANNEAL_MOVES_PER_CANDIDATE * n_candidates, low, high))
    best = _anneal(
        by_candidate.indptr.astype(np.int64),
        by_candidate.indices.astype(np.int64),
        near.indptr.astype(np.int64),
        near.indices.astype(np.int64),
        problem.weights.astype(np.float64),
        problem.costs.astype(np.float64),
        float(budget),
        np.asarray(start, dtype=np.int64),
        moves,
        hot,
        hot / 100.0,
        seed,
    )
    return np.sort(best).astype(np.int64)


@numba.njit(cache=True, nogil=True)
def _cover(
    site: int, cp: IntArray, ci: IntArray, weights: FloatArray, count: IntArray
) -> float:  # pragma: no cover - compiled
    """Count ``site``'s demand once more in ``count``; the weight it newly covers."""
    gained = 0.0
    for q in range(cp[site], cp[site + 1]):
        if count[ci[q]] == 0:
            gained += weights[ci[q]]
        count[ci[q]] += 1
    return gained


@numba.njit(cache=True, nogil=True)
def _anneal(
    cp: IntArray,
    ci: IntArray,
    np_: IntArray,
    ni: IntArray,
    weights: FloatArray,
    costs: FloatArray,
    budget: float,
    start: IntArray,
    moves: int,
    hot: float,
    cold: float,
    seed: int,
) -> IntArray:  # pragma: no cover - compiled
    # numba compiles the legacy np.random calls (its own generator, seeded here), not Generator.
    np.random.seed(seed)  # noqa: NPY002
    n = len(costs)
    chosen = np.zeros(n, np.int64)
    selected = np.zeros(n, np.bool_)
    count = np.zeros(len(weights), np.int64)
    k = 0
    used = 0.0
    value = 0.0
    for a in start:
        selected[a] = True
        chosen[k] = a
        k += 1
        used += costs[a]
        value += _cover(a, cp, ci, weights, count)
    best = value
    best_chosen = chosen[:k].copy()
    factor = (cold / hot) ** (1.0 / moves)
    temperature = hot
    for _ in range(moves):
        temperature *= factor
        t = np.random.randint(k)  # noqa: NPY002
        r = chosen[t]
        if np_[r + 1] > np_[r] and np.random.random() < 0.9:  # noqa: NPY002
            a = ni[np_[r] + np.random.randint(np_[r + 1] - np_[r])]  # noqa: NPY002
        else:
            a = np.random.randint(n)  # noqa: NPY002
        if selected[a]:
            continue
        if used + costs[a] <= budget + 1e-9 and k < n:  # the budget affords it: add
            selected[a] = True
            chosen[k] = a
            k += 1
            used += costs[a]
            value += _cover(a, cp, ci, weights, count)
        elif used - costs[r] + costs[a] <= budget + 1e-9:  # swap r out, a in
            loss = 0.0
            for q in range(cp[r], cp[r + 1]):
                count[ci[q]] -= 1
                if count[ci[q]] == 0:
                    loss += weights[ci[q]]
            gain = 0.0
            for q in range(cp[a], cp[a + 1]):
                if count[ci[q]] == 0:
                    gain += weights[ci[q]]
            delta = gain - loss
            if delta >= 0.0 or np.random.random() < np.exp(delta / temperature):  # noqa: NPY002
                for q in range(cp[a], cp[a + 1]):
                    count[ci[q]] += 1
                selected[r] = False
                selected[a] = True
                chosen[t] = a
                used += costs[a] - costs[r]
                value += delta
            else:
                for q in range(cp[r], cp[r + 1]):
                    count[ci[q]] += 1
                continue
        else:
            continue
        if value > best + 1e-9:
            best = value
            best_chosen = chosen[:k].copy()
    return best_chosen


def _best_max(problem: CoveringProblem, *answers: IntArray) -> IntArray:
    """The answer covering the most weight (the first among equals)."""
    values = [_covered_weight(problem, answer) for answer in answers]
    return answers[int(np.argmax(values))]


def _without(problem: CoveringProblem, chosen: IntArray) -> CoveringProblem:
    """The problem with the demand ``chosen`` covers weighing nothing and ``chosen`` unaffordable
    (so a greedy on it adds to ``chosen``)."""
    weights = np.where(_covered(problem, chosen), 0.0, problem.weights)
    costs = problem.costs.copy()
    costs[chosen] = np.inf
    return replace(problem, weights=weights, costs=costs)


def _greedy_set(cover: sparse.csr_array, costs: FloatArray) -> IntArray:
    """Chvátal's greedy: the candidate covering most uncovered demand per unit cost."""
    cover_c = cover.tocsc()
    cover_t = cover.T.tocsr()
    uncovered = np.ones(cover.shape[0], dtype=np.float64)
    chosen: list[int] = []
    while uncovered.any():
        gain = cover_t @ uncovered
        best = int(np.argmax(gain / costs))
        if gain[best] <= 0:
            break
        chosen.append(best)
        uncovered[cover_c.indices[cover_c.indptr[best] : cover_c.indptr[best + 1]]] = 0.0
    return np.array(chosen, dtype=np.int64)


def _prune(cover: sparse.csr_array, costs: FloatArray, chosen: IntArray) -> IntArray:
    """Drop chosen candidates, dearest first, while every demand stays covered."""
    keep = list(chosen[np.argsort(-costs[chosen], kind="stable")])
    count = cover[:, keep].sum(axis=1) if keep else np.zeros(cover.shape[0])
    count = np.asarray(count).ravel()
    cover_c = cover.tocsc()
    for j in list(keep):
        mine = cover_c.indices[cover_c.indptr[j] : cover_c.indptr[j + 1]]
        if (count[mine] > 1).all():
            count[mine] -= 1
            keep.remove(j)
    return np.array(keep, dtype=np.int64)


# ------------------------------------------------------------------------------- LP bounds


def _lp_bound_max(problem: CoveringProblem, budget: float) -> float:
    """The LP relaxation's optimum: an upper bound on the maximal covering."""
    n_demand, n_candidates = problem.cover.shape
    if n_candidates == 0 or n_demand == 0:
        return 0.0
    link = sparse.hstack([-problem.cover, sparse.identity(n_demand)], format="csr")
    spend = sparse.csr_array(np.concatenate([problem.costs, np.zeros(n_demand)])[None, :])
    values, bound, _, _ = _highs(
        cost=np.concatenate([np.zeros(n_candidates), -problem.weights]),
        matrix=sparse.vstack([link, spend], format="csc"),
        row_upper=np.concatenate([np.zeros(n_demand), [budget]]),
        integer=0,
        start=np.zeros(n_candidates + n_demand),
        time_limit_s=3600.0,
        integral_objective=False,
    )
    del values
    return -bound


def _lp_bound_set(cover: sparse.csr_array, costs: FloatArray) -> float:
    """The LP relaxation's optimum: a lower bound on the set covering."""
    if cover.shape[0] == 0:
        return 0.0
    _, bound, _, _ = _highs(
        cost=costs,
        matrix=-cover.tocsc(),
        row_upper=-np.ones(cover.shape[0]),
        integer=0,
        start=np.zeros(len(costs)),
        time_limit_s=3600.0,
        integral_objective=False,
    )
    return bound


# -------------------------------------------------------------------------------- solutions


def _covered(problem: CoveringProblem, chosen: IntArray) -> BoolArray:
    picked = np.zeros(problem.cover.shape[1])
    picked[chosen] = 1.0
    return np.asarray(problem.cover @ picked).ravel() > 0


def _covered_weight(problem: CoveringProblem, chosen: IntArray) -> float:
    return float(problem.weights[_covered(problem, chosen)].sum())


def _solution(
    problem: CoveringProblem,
    chosen: IntArray,
    *,
    maximise: bool,
    bound: float,
    lp: float,
    status: Status,
    method: Method,
    started: float,
    time_limit_s: float,
    reduction: Reduction,
) -> CoveringSolution:
    """The solution in the original problem's terms; bounds never on the wrong side of it."""
    covered = _covered(problem, chosen)
    if maximise:
        objective = float(problem.weights[covered].sum())
        bound, lp = max(bound, objective), max(lp, objective)
    else:
        objective = float(problem.costs[chosen].sum())
        bound, lp = min(bound, objective), min(lp, objective)
    return CoveringSolution(
        np.sort(chosen).astype(np.int64), covered, objective,
        objective if status == "optimal" else bound, status == "optimal", method,
        time.perf_counter() - started, status, lp, time_limit_s, reduction,
    )  # fmt: skip
