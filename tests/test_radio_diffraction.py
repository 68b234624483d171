"""Knife-edge and Bullington diffraction against P.526's formula, Fresnel integrals and geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import fresnel

from gis_planner.radio.diffraction import (
    bullington_loss_db,
    curvature_per_m,
    knife_edge_loss_db,
    knife_edge_nu,
    wavelength_m,
)

NU = np.linspace(-0.78, 5.0, 2000)


def j_formula(nu: float) -> float:
    """P.526-16 §4.1, written out independently of the module."""
    if nu <= -0.78:
        return 0.0
    return 6.9 + 20 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1) + nu - 0.1)


def j_fresnel(nu: np.ndarray) -> np.ndarray:
    """The exact knife-edge loss from the Fresnel integrals (P.526-16 §4.1, §2.7).

    scipy's ``fresnel`` returns (S, C) of ∫ sin/cos(π t²/2), P.526's convention."""
    s, c = fresnel(nu)
    return -20 * np.log10(np.sqrt((1 - c - s) ** 2 + (c - s) ** 2) / 2)


def test_j_matches_p526_formula() -> None:
    ours = np.array([knife_edge_loss_db(float(v)) for v in NU])
    np.testing.assert_allclose(ours, [j_formula(float(v)) for v in NU], atol=0.01)
    assert knife_edge_loss_db(-0.79) == 0.0
    # the textbook point: grazing incidence costs 6 dB
    assert knife_edge_loss_db(0.0) == pytest.approx(6.0, abs=0.05)


def test_j_approximates_the_fresnel_integral() -> None:
    # P.526 gives the formula as an approximation of the exact loss, to about a tenth of a dB:
    # measured, it is 0.01–0.11 dB above the exact loss up to ν ≈ 1.5 and up to 0.13 dB
    # below it at ν = 5 (it tends to 20·log10(2ν) + 6.9, the exact loss to 20·log10(π·ν√2))
    error = np.array([knife_edge_loss_db(float(v)) for v in NU]) - j_fresnel(NU)
    assert np.abs(error).max() < 0.15
    assert np.abs(error[NU <= 1.0]).max() < 0.11


def test_single_ridge_gives_the_knife_edge_loss() -> None:
    # a 60 m ridge 4 km out on level ground: the receiver 10 km out sees it as one knife edge
    step, freq = 25.0, 900.0
    n = 401
    ground = np.zeros(n)
    obstacle = ground.copy()
    ridge = 160  # sample: 4 km
    obstacle[ridge] = 60.0
    loss = bullington_loss_db(obstacle, ground, 30.0, 1.5, step, freq)
    d1, d2 = ridge * step, (n - 1 - ridge) * step
    curvature = curvature_per_m()
    # height of the ridge top above the straight path, with the earth bulge of P.526
    above = 60.0 + d1 * d2 * curvature - (30.0 * d2 + 1.5 * d1) / (d1 + d2)
    nu = knife_edge_nu(above, d1, d2, wavelength_m(freq))
    assert nu > 1.0
    assert loss[-1] == pytest.approx(j_formula(nu), abs=1e-6)


def test_flat_ground_and_a_clear_path() -> None:
    step, n = 25.0, 401
    flat = bullington_loss_db(np.zeros(n), np.zeros(n), 30.0, 1.5, step, 3500.0)
    assert (flat == 0.0).all()
    # a bump is nothing to the receivers before it, and shadows the ones just behind it
    bump = np.zeros(n)
    bump[200] = 3.0
    loss = bullington_loss_db(bump, np.zeros(n), 30.0, 1.5, step, 3500.0)
    assert (loss[:201] == 0.0).all() and loss[201] > 6.0


def test_two_ridges_cost_more_than_either() -> None:
    step, n, freq = 25.0, 401, 1800.0
    ground = np.zeros(n)
    one, two, both = ground.copy(), ground.copy(), ground.copy()
    one[120] = both[120] = 50.0
    two[280] = both[280] = 40.0
    l1, l2, l12 = (bullington_loss_db(p, ground, 30.0, 1.5, step, freq)[-1]
                   for p in (one, two, both))  # fmt: skip
    assert l12 > max(l1, l2) > 0.0
