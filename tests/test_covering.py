"""Maximal and set covering against brute force on small random instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from gis_planner.covering import CoveringProblem, maximal_covering, set_covering
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
