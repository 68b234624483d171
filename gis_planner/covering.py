"""Maximal covering and set covering: exact with a MILP solver, greedy with a bound as fallback.

Demand points ``i`` (villages, weighted by population) and candidate sites ``j`` (with costs)
are linked by a sparse 0/1 coverage matrix ``a[i, j]``. Both problems are solved with HiGHS
through ``scipy.optimize.milp``; when the solver stops without proving optimality (time limit),
the greedy answer is returned with the solver's bound, so the gap is always reported. Demand
that no candidate covers is left out of the model and reported, so no instance is "infeasible".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from gis_planner.errors import GisPlannerError

Method = Literal["milp", "greedy"]


@dataclass(frozen=True)
class CoveringProblem:
    """Demand weights, candidate costs and which candidates cover which demand."""

    weights: npt.NDArray[np.float64]
    costs: npt.NDArray[np.float64]
    cover: sparse.csr_array

    def __post_init__(self) -> None:
        # Held as float CSR: the solvers and the greedy's products need numbers, not booleans.
        object.__setattr__(self, "cover", sparse.csr_array(self.cover, dtype=np.float64))
        object.__setattr__(self, "weights", np.asarray(self.weights, dtype=np.float64))
        object.__setattr__(self, "costs", np.asarray(self.costs, dtype=np.float64))
        if self.cover.shape != (len(self.weights), len(self.costs)):
            raise GisPlannerError(
                f"coverage matrix is {self.cover.shape}, expected "
                f"{(len(self.weights), len(self.costs))} (demand × candidates)"
            )

    @property
    def coverable(self) -> npt.NDArray[np.bool_]:
        """Demand that at least one candidate covers."""
        return np.asarray(self.cover.sum(axis=1)).ravel() > 0


@dataclass(frozen=True)
class CoveringSolution:
    """Chosen candidates, covered demand, the objective and a bound on the optimum."""

    selected: npt.NDArray[np.int64]
    covered: npt.NDArray[np.bool_]
    objective: float
    #: Upper bound (maximal covering) or lower bound (set covering) on the optimum.
    bound: float
    optimal: bool
    method: Method
    solve_s: float

    @property
    def gap(self) -> float:
        """Relative distance between the objective and the bound (0 when proven optimal)."""
        scale = max(abs(self.bound), abs(self.objective), 1e-12)
        return abs(self.bound - self.objective) / scale


def maximal_covering(
    problem: CoveringProblem,
    budget: float,
    *,
    time_limit_s: float = 60.0,
    method: Method = "milp",
) -> CoveringSolution:
    """Candidates of total cost ≤ ``budget`` covering the most demand weight.

    With unit costs the budget is the number of sites ``p``. Coverage variables are continuous
    in [0, 1]: at an integral site choice the optimum sets them to 0 or 1 anyway, and the model
    stays small for the solver.
    """
    started = time.perf_counter()
    cover = problem.cover.tocsr()
    n_demand, n_candidates = cover.shape
    greedy = _greedy_max(problem, budget)
    if method == "greedy" or n_candidates == 0:
        bound = _lp_bound_max(problem, budget)
        return _max_solution(problem, greedy, bound, False, "greedy", started)

    c = np.concatenate([np.zeros(n_candidates), -problem.weights])
    link = sparse.hstack([-cover, sparse.identity(n_demand, format="csr")], format="csr")
    spend = sparse.csr_array(np.concatenate([problem.costs, np.zeros(n_demand)])[None, :])
    constraints = [
        LinearConstraint(link, -np.inf, 0.0),
        LinearConstraint(spend, -np.inf, budget),
    ]
    integrality = np.concatenate([np.ones(n_candidates), np.zeros(n_demand)])
    result = milp(
        c,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": time_limit_s, "disp": False},
    )
    if result.x is None:
        bound = _lp_bound_max(problem, budget)
        return _max_solution(problem, greedy, bound, False, "greedy", started)
    chosen = np.flatnonzero(result.x[:n_candidates] > 0.5)
    bound = -float(getattr(result, "mip_dual_bound", result.fun))
    optimal = bool(result.status == 0)
    value = _covered_weight(problem, chosen)
    if value + 1e-9 < _covered_weight(problem, greedy):
        return _max_solution(problem, greedy, bound, False, "greedy", started)
    return _max_solution(problem, chosen, bound, optimal, "milp", started)


def set_covering(
    problem: CoveringProblem,
    *,
    time_limit_s: float = 60.0,
    method: Method = "milp",
) -> CoveringSolution:
    """The cheapest set of candidates covering every coverable demand point.

    Uncoverable demand (``~problem.coverable``) is left out; the solution's ``covered`` says
    which demand is covered, so the caller lists the rest.
    """
    started = time.perf_counter()
    coverable = problem.coverable
    cover = problem.cover.tocsr()[coverable]
    n_candidates = cover.shape[1]
    greedy = _greedy_set(cover, problem.costs)
    if method == "greedy" or n_candidates == 0 or cover.shape[0] == 0:
        bound = _lp_bound_set(cover, problem.costs)
        return _set_solution(problem, greedy, bound, False, "greedy", started)
    result = milp(
        problem.costs,
        constraints=[LinearConstraint(cover, 1.0, np.inf)],
        integrality=np.ones(n_candidates),
        bounds=Bounds(0.0, 1.0),
        options={"time_limit": time_limit_s, "disp": False},
    )
    if result.x is None:
        bound = _lp_bound_set(cover, problem.costs)
        return _set_solution(problem, greedy, bound, False, "greedy", started)
    chosen = np.flatnonzero(result.x > 0.5)
    bound = float(getattr(result, "mip_dual_bound", result.fun))
    if problem.costs[chosen].sum() > problem.costs[greedy].sum() + 1e-9:
        return _set_solution(problem, greedy, bound, False, "greedy", started)
    return _set_solution(problem, chosen, bound, bool(result.status == 0), "milp", started)


def _covered(problem: CoveringProblem, chosen: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    return np.asarray(problem.cover.tocsc()[:, chosen].sum(axis=1)).ravel() > 0


def _covered_weight(problem: CoveringProblem, chosen: npt.NDArray[np.int64]) -> float:
    return float(problem.weights[_covered(problem, chosen)].sum())


def _max_solution(
    problem: CoveringProblem,
    chosen: npt.NDArray[np.int64],
    bound: float,
    optimal: bool,
    method: Method,
    started: float,
) -> CoveringSolution:
    covered = _covered(problem, chosen)
    objective = float(problem.weights[covered].sum())
    return CoveringSolution(
        np.sort(chosen).astype(np.int64),
        covered,
        objective,
        max(bound, objective),
        optimal,
        method,
        time.perf_counter() - started,
    )


def _set_solution(
    problem: CoveringProblem,
    chosen: npt.NDArray[np.int64],
    bound: float,
    optimal: bool,
    method: Method,
    started: float,
) -> CoveringSolution:
    objective = float(problem.costs[chosen].sum())
    return CoveringSolution(
        np.sort(chosen).astype(np.int64),
        _covered(problem, chosen),
        objective,
        min(bound, objective),
        optimal,
        method,
        time.perf_counter() - started,
    )


def _greedy_max(problem: CoveringProblem, budget: float) -> npt.NDArray[np.int64]:
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
        remaining[cover[:, [best]].nonzero()[0]] = 0.0
    return np.array(chosen, dtype=np.int64)


def _greedy_set(cover: sparse.csr_array, costs: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
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
        uncovered[cover_c[:, [best]].nonzero()[0]] = 0.0
    return np.array(chosen, dtype=np.int64)


def _lp_bound_max(problem: CoveringProblem, budget: float) -> float:
    """The LP relaxation's optimum: an upper bound on the maximal covering."""
    n_demand, n_candidates = problem.cover.shape
    if n_candidates == 0 or n_demand == 0:
        return 0.0
    link = sparse.hstack([-problem.cover, sparse.identity(n_demand)], format="csr")
    spend = np.concatenate([problem.costs, np.zeros(n_demand)])[None, :]
    result = linprog(
        np.concatenate([np.zeros(n_candidates), -problem.weights]),
        A_ub=sparse.vstack([link, sparse.csr_array(spend)], format="csr"),
        b_ub=np.concatenate([np.zeros(n_demand), [budget]]),
        bounds=(0.0, 1.0),
        method="highs",
    )
    return -float(result.fun) if result.status == 0 else float(problem.weights.sum())


def _lp_bound_set(cover: sparse.csr_array, costs: npt.NDArray[np.float64]) -> float:
    """The LP relaxation's optimum: a lower bound on the set covering."""
    if cover.shape[0] == 0:
        return 0.0
    result = linprog(
        costs,
        A_ub=-cover,
        b_ub=-np.ones(cover.shape[0]),
        bounds=(0.0, 1.0),
        method="highs",
    )
    return float(result.fun) if result.status == 0 else 0.0
