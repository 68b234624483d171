"""Maximal and set covering against brute force on small random instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from gis_planner.covering import (
    CoveringProblem,
    maximal_covering,
    reduce_max,
    reduce_set,
    set_covering,
)
from gis_planner.errors import GisPlannerError


def random_problem(seed: int, n_demand: int = 18, n_candidates: int = 9) -> CoveringProblem:
    rng = np.random.default_rng(seed)
    cover = rng.random((n_demand, n_candidates)) < 0.25
    cover[-1] = False  # one demand point no candidate reaches
    weights = rng.integers(50, 2_000, n_demand).astype(float)
    costs = rng.choice([0.4, 1.0], n_candidates)
    return CoveringProblem(weights, costs, sparse.csr_array(cover))


def brute_max(problem: CoveringProblem, budget: float) -> float:
    dense = problem.cover.toarray()
    best = 0.0
    for r in range(len(problem.costs) + 1):
        for subset in itertools.combinations(range(len(problem.costs)), r):
            if problem.costs[list(subset)].sum() <= budget + 1e-9:
                covered = dense[:, list(subset)].any(axis=1)
                best = max(best, problem.weights[covered].sum())
    return best


def brute_set(problem: CoveringProblem) -> float:
    dense = problem.cover.toarray()
    need = dense.any(axis=1)
    best = np.inf
    for r in range(len(problem.costs) + 1):
        for subset in itertools.combinations(range(len(problem.costs)), r):
            if dense[need][:, list(subset)].any(axis=1).all():
                best = min(best, problem.costs[list(subset)].sum())
    return float(best)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("budget", [1.0, 2.0, 3.4])
def test_maximal_covering_is_the_brute_force_optimum(seed: int, budget: float) -> None:
    problem = random_problem(seed)
    solution = maximal_covering(problem, budget)
    assert solution.method == "milp" and solution.optimal
    assert solution.objective == pytest.approx(brute_max(problem, budget))
    assert problem.costs[solution.selected].sum() <= budget + 1e-9
    assert not solution.covered[-1]
    greedy = maximal_covering(problem, budget, method="greedy")
    assert greedy.objective <= solution.objective + 1e-9
    assert greedy.bound >= solution.objective - 1e-6  # the LP bound holds the optimum


@pytest.mark.parametrize("seed", range(5))
def test_set_covering_is_the_brute_force_optimum(seed: int) -> None:
    problem = random_problem(seed)
    solution = set_covering(problem)
    assert solution.optimal
    assert solution.objective == pytest.approx(brute_set(problem))
    assert (solution.covered == problem.coverable).all()
    greedy = set_covering(problem, method="greedy")
    assert (greedy.covered == problem.coverable).all()
    assert greedy.bound <= solution.objective + 1e-6 <= greedy.objective + 2e-6


def test_nothing_coverable_is_not_an_error() -> None:
    problem = CoveringProblem(np.ones(3), np.ones(2), sparse.csr_array((3, 2), dtype=bool))
    assert maximal_covering(problem, 2).objective == 0.0
    solution = set_covering(problem)
    assert solution.objective == 0.0 and not solution.covered.any()


def test_shape_mismatch_is_reported() -> None:
    with pytest.raises(GisPlannerError, match="demand × candidates"):
        CoveringProblem(np.ones(3), np.ones(2), sparse.csr_array((2, 2), dtype=bool))


def clustered_problem(
    seed: int, n_demand: int = 40, n_candidates: int = 30, unit: bool = False
) -> CoveringProblem:
    """Demand and candidates around a few towns: duplicates, nested and dominated covers abound."""
    rng = np.random.default_rng(seed)
    towns = rng.uniform(0, 10, (3, 2))
    demand = towns[rng.integers(0, 3, n_demand)] + rng.normal(0, 0.8, (n_demand, 2))
    sites = towns[rng.integers(0, 3, n_candidates)] + rng.normal(0, 1.2, (n_candidates, 2))
    dist = np.linalg.norm(demand[:, None] - sites[None], axis=2)
    cover = dist <= rng.choice([0.8, 1.5], n_candidates)[None, :]
    weights = rng.integers(1, 500, n_demand).astype(float)
    costs = np.ones(n_candidates) if unit else rng.choice([0.4, 1.0], n_candidates)
    return CoveringProblem(weights, costs, sparse.csr_array(cover))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("budget", [1.0, 2.4, 5.0])
def test_reductions_keep_the_maximal_covering_optimum(seed: int, budget: float) -> None:
    problem = clustered_problem(seed)
    reduced = maximal_covering(problem, budget)
    plain = maximal_covering(problem, budget, reduce=False)
    assert reduced.optimal and plain.optimal
    assert reduced.objective == pytest.approx(plain.objective)
    assert problem.costs[reduced.selected].sum() <= budget + 1e-9
    assert reduced.reduction is not None
    assert reduced.reduction.candidates[1] <= len(problem.costs)


@pytest.mark.parametrize("seed", range(12))
def test_reductions_keep_the_set_covering_optimum(seed: int) -> None:
    problem = clustered_problem(seed, unit=seed % 2 == 0)
    reduced = set_covering(problem)
    plain = set_covering(problem, reduce=False)
    assert reduced.optimal and plain.optimal
    assert reduced.objective == pytest.approx(plain.objective)
    assert (reduced.covered == problem.coverable).all()


@pytest.mark.parametrize("seed", range(6))
def test_reduced_models_are_the_brute_force_optimum(seed: int) -> None:
    problem = clustered_problem(seed, n_demand=25, n_candidates=11)
    for budget in (1.0, 2.0, 3.4):
        assert maximal_covering(problem, budget).objective == pytest.approx(
            brute_max(problem, budget)
        )
    assert set_covering(problem).objective == pytest.approx(brute_set(problem))


def test_reduce_max_merges_demand_and_drops_dominated_candidates() -> None:
    cover = np.array(
        [
            [1, 1, 0, 0],  # rows 0 and 1: the same candidates, merged (weights summed)
            [1, 1, 0, 0],
            [0, 1, 1, 0],  # candidate 2 is dearer than the budget
            [0, 0, 0, 0],  # nothing covers it: dropped
        ]
    )
    # Candidate 0's demand is within 1's at no lower cost; 3 covers nothing; 2 is too dear.
    problem = CoveringProblem(
        np.array([5.0, 7.0, 3.0, 9.0]), np.array([1.0, 1.0, 2.5, 1.0]), sparse.csr_array(cover)
    )
    small, demand_of, kept = reduce_max(problem, budget=2.0)
    assert kept.tolist() == [1]
    assert demand_of.tolist()[3] == -1 and demand_of[0] == demand_of[1] == demand_of[2]
    # With 0 and 2 gone, rows 0–2 are all covered by candidate 1 alone: one row.
    assert small.weights.tolist() == [15.0]


def test_reduce_set_fixes_forced_candidates() -> None:
    cover = np.zeros((6, 6))
    cover[0, 0] = 1  # only candidate 0 covers demand 0: forced, and covers demand 1 too
    cover[1, [0, 1]] = 1
    cover[2, [2, 3]] = cover[3, [2, 3, 4]] = 1  # demand 3 is implied by demand 2, then 3 is
    cover[4, [5, 4]] = cover[5, [5, 4]] = 1  # dearer than 2; 4 and 5 cover the same demand
    problem = CoveringProblem(np.ones(6), np.array([1, 1, 1, 2, 1, 1.0]), sparse.csr_array(cover))
    rows, cols, fixed = reduce_set(problem)
    assert fixed.tolist() == [0, 2, 4] and len(rows) == len(cols) == 0
    solution = set_covering(problem)
    assert solution.optimal and solution.objective == 3.0
    assert solution.reduction is not None and solution.reduction.fixed == 3


def test_set_covering_solves_independent_components_apart() -> None:
    # Two odd cycles (three demand points, three candidates each covering two): nothing to
    # reduce, the LP says 1.5 each, the optimum is 2 each.
    cover = np.zeros((6, 6))
    for block in (0, 3):
        for k in range(3):
            cover[block + k, [block + k, block + (k + 1) % 3]] = 1
    problem = CoveringProblem(np.ones(6), np.ones(6), sparse.csr_array(cover))
    solution = set_covering(problem)
    assert solution.reduction is not None and solution.reduction.components == 2
    assert solution.optimal and solution.objective == 4.0
    assert solution.lp_bound == pytest.approx(3.0)


def test_a_time_limit_returns_the_best_found_never_labelled_optimal() -> None:
    # 300 × 300 spread evenly, each candidate reaching ~4 % of the square: at 14 sites the LP is
    # fractional (at 10 the annealed start meets the LP bound, proven without branching) and
    # neither model is proven within a millisecond.
    rng = np.random.default_rng(0)
    demand, sites = rng.random((300, 2)), rng.random((300, 2))
    cover = np.linalg.norm(demand[:, None] - sites[None], axis=2) <= 0.12
    weights = rng.integers(1, 500, 300).astype(float)
    problem = CoveringProblem(weights, np.ones(300), sparse.csr_array(cover))
    solution = maximal_covering(problem, 14, time_limit_s=1e-3)
    assert solution.status == "time_limit" and not solution.optimal
    assert solution.bound > solution.objective > 0 and solution.gap > 0
    assert "not proven optimal" in solution.label and "1e-03 s limit" not in solution.label
    assert "0.001 s limit" in solution.label
    assert problem.costs[solution.selected].sum() <= 14
    cheapest = set_covering(problem, time_limit_s=1e-3)
    assert cheapest.status == "time_limit" and not cheapest.optimal
    assert cheapest.bound < cheapest.objective
    assert (cheapest.covered == problem.coverable).all()  # the best found is still feasible


def test_proven_solutions_say_so() -> None:
    problem = random_problem(1)
    solution = maximal_covering(problem, 2.0)
    assert solution.status == "optimal" and solution.label == "optimal"
    assert solution.gap == 0.0 and solution.lp_bound >= solution.objective - 1e-6
    greedy = maximal_covering(problem, 2.0, method="greedy")
    assert greedy.status == "heuristic" and not greedy.optimal
    assert "heuristic" in greedy.label


@pytest.mark.parametrize("seed", range(8))
def test_annealing_stays_feasible_and_below_the_brute_force_optimum(seed: int) -> None:
    from gis_planner.covering import _anneal_max, _covered_weight, _greedy_max, _lp_bound_max

    problem = (
        clustered_problem(seed, n_demand=25, n_candidates=11)
        if seed % 2
        else (random_problem(seed))
    )
    for budget in (1.0, 2.4, 3.4):
        start = _greedy_max(problem, budget)
        annealed = _anneal_max(problem, budget, start, seed=seed)
        assert len(set(annealed.tolist())) == len(annealed)  # no candidate twice
        assert problem.costs[annealed].sum() <= budget + 1e-9
        best = brute_max(problem, budget)
        assert _covered_weight(problem, start) <= _covered_weight(problem, annealed) + 1e-9
        assert _covered_weight(problem, annealed) <= best + 1e-9
        assert _lp_bound_max(problem, budget) >= best - 1e-6  # the LP bound holds the optimum


def test_a_start_that_meets_the_lp_bound_needs_no_branching() -> None:
    # Two towns, one candidate each covering all of its town: the LP is integral at p = 2.
    cover = np.zeros((6, 4))
    cover[:3, 0] = cover[3:, 1] = 1
    cover[0, 2] = cover[5, 3] = 1
    problem = CoveringProblem(np.arange(1.0, 7.0), np.ones(4), sparse.csr_array(cover))
    solution = maximal_covering(problem, 2)
    assert solution.optimal and solution.objective == 21.0 == brute_max(problem, 2)
    assert solution.nodes == 0 and solution.lp_iterations == 0


@pytest.mark.parametrize("seed", range(6))
def test_solver_work_is_reported_and_bounds_hold(seed: int) -> None:
    problem = clustered_problem(seed, n_demand=25, n_candidates=11)
    best = brute_max(problem, 2.4)
    solution = maximal_covering(problem, 2.4)
    assert solution.objective == pytest.approx(best)
    assert solution.bound >= best - 1e-6 and solution.lp_bound >= best - 1e-6
    assert solution.nodes >= 0 and solution.lp_iterations >= 0
    cheapest = set_covering(problem)
    assert cheapest.objective == pytest.approx(brute_set(problem))
    assert cheapest.lp_bound <= cheapest.objective + 1e-6
