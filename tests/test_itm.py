"""The Longley–Rice ITM: ITS's own Crystal Palace–Mursley example, and agreement with itmlogic
(an independent implementation of ITM 1.2.2) on synthetic profiles of every propagation mode."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itmlogic.misc.qerfi import qerfi
from itmlogic.preparatory_subroutines.qlrpfl import qlrpfl
from itmlogic.statistics.avar import avar

from gis_planner.radio.itm import (
    Climate,
    ItmInputError,
    ItmParams,
    ItmWarning,
    itm_point_to_point,
)

F64 = npt.NDArray[np.float64]

#: ITS's QKPFL test path 2200: Crystal Palace to Mursley, England, 77.8 km in 156 steps.
CRYSTAL_PALACE_MURSLEY_M = [
    96, 84, 65, 46, 46, 46, 61, 41, 33, 27, 23, 19, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 17, 19, 21, 23, 25, 27, 29, 35, 46, 41, 35, 30, 33, 35, 37, 40, 35, 30, 51, 62, 76, 46,
    46, 46, 46, 46, 46, 50, 56, 67, 106, 83, 95, 112, 137, 137, 76, 103, 122, 122, 83, 71, 61,
    64, 67, 71, 74, 77, 79, 86, 91, 83, 76, 68, 63, 76, 107, 107, 107, 119, 127, 133, 135, 137,
    142, 148, 152, 152, 107, 137, 104, 91, 99, 120, 152, 152, 137, 168, 168, 122, 137, 137, 170,
    183, 183, 187, 194, 201, 192, 152, 152, 166, 177, 198, 156, 127, 116, 107, 104, 101, 98, 95,
    103, 91, 97, 102, 107, 107, 107, 103, 98, 94, 91, 105, 122, 122, 122, 122, 122, 137, 137,
    137, 137, 137, 137, 137, 137, 140, 144, 147, 150, 152, 159,
]  # fmt: skip
#: QKPFL's printed quantiles of basic transmission loss (dB) at 41.5 MHz: (reliability,
#: confidence) → loss.
QKPFL_LOSS_DB = {
    (0.01, 0.5): 128.6, (0.01, 0.9): 137.6, (0.01, 0.1): 119.6,
    (0.99, 0.5): 139.7, (0.99, 0.9): 148.4, (0.99, 0.1): 131.0,
}  # fmt: skip


def crystal_palace(reliability: float = 0.5, confidence: float = 0.5) -> ItmParams:
    return ItmParams(
        41.5, "horizontal", permittivity=15.0, conductivity_s_m=0.005,
        surface_refractivity_n=314.0, climate=Climate.CONTINENTAL_TEMPERATE,
        reliability=reliability, confidence=confidence,
    )  # fmt: skip


@pytest.mark.parametrize(("reliability", "confidence"), sorted(QKPFL_LOSS_DB))
def test_crystal_palace_to_mursley_reproduces_its_figures(
    reliability: float, confidence: float
) -> None:
    step = 77.8e3 / 156
    result = itm_point_to_point(
        CRYSTAL_PALACE_MURSLEY_M, step, 143.9, 8.5, crystal_palace(reliability, confidence)
    )
    # printed to 0.1 dB
    assert result.basic_loss_db == pytest.approx(QKPFL_LOSS_DB[reliability, confidence], abs=0.06)
    assert result.free_space_loss_db == pytest.approx(102.6, abs=0.05)
    # QKPFL's effective heights 240.5 m and 18.4 m, Δh 89 m, a double-horizon diffraction path
    assert result.effective_heights_m == pytest.approx((240.5, 18.4), abs=0.05)
    assert result.terrain_irregularity_m == pytest.approx(89.0, abs=0.5)
    assert result.mode == "diffraction"
    assert result.warning is ItmWarning.NONE


# --- against itmlogic ---------------------------------------------------------------------


def itmlogic_loss_db(
    elevation_m: F64, step_m: float, heights_m: tuple[float, float], params: ItmParams
) -> float:
    """itmlogic's basic transmission loss for the same inputs (MDVAR 11, Ns at the path)."""
    wave_number = params.freq_mhz / 47.7
    ns = params.surface_refractivity_n
    relative = complex(params.permittivity, 376.62 * params.conductivity_s_m / wave_number)
    impedance = np.sqrt(relative - 1.0)
    if params.polarization == "vertical":
        impedance = impedance / relative
    prop = {
        "hg": list(heights_m), "pfl": [len(elevation_m) - 1, step_m, *map(float, elevation_m)],
        "kwx": 0, "lvar": 5, "klimx": int(params.climate), "mdvarx": 11, "wn": wave_number,
        "ens": ns, "gme": 157e-9 * (1.0 - 0.04665 * math.exp(ns / 179.3)), "zgnd": impedance,
    }  # fmt: skip
    prop = qlrpfl(prop)
    zr, zc = qerfi([params.reliability, params.confidence])
    attenuation, prop = avar(zr, 0, zc, prop)
    return float(8.685890 * np.log(2.0 * wave_number * prop["dist"]) + attenuation)


def synthetic(kind: str, length_m: float, samples: int, relief_m: float, seed: int = 0) -> F64:
    """A profile of ``kind`` over ``length_m``, 20 m above sea level at its lowest.

    Its last two samples are level: itmlogic 1.2 takes B's ground at the last sample but one
    on line-of-sight paths, where ITM takes the last sample.
    """
    x = np.linspace(0.0, length_m, samples)
    if kind == "flat":
        z = np.zeros(samples)
    elif kind == "hill":
        z = relief_m * np.exp(-(((x - 0.4 * length_m) / (0.06 * length_m)) ** 2))
    elif kind == "ridge":
        z = relief_m * np.clip(1.0 - np.abs(x - 0.55 * length_m) / (0.15 * length_m), 0.0, None)
    else:
        walk = np.cumsum(np.random.default_rng(seed).normal(0.0, 1.0, samples))
        z = relief_m * (walk - walk.min()) / max(np.ptp(walk), 1e-9)
    z[-1] = z[-2]
    return 20.0 + z


CASES = [
    # kind, length (km), samples, relief (m), MHz, antennas (m), reliability, confidence, pol
    ("flat", 3.0, 61, 0.0, 7000.0, (30.0, 30.0), 0.5, 0.5, "vertical"),
    ("flat", 12.0, 241, 0.0, 15000.0, (40.0, 25.0), 0.99, 0.5, "horizontal"),
    ("flat", 40.0, 401, 0.0, 150.0, (60.0, 10.0), 0.9, 0.9, "vertical"),
    ("flat", 120.0, 601, 0.0, 900.0, (100.0, 30.0), 0.5, 0.1, "horizontal"),
    ("hill", 8.0, 161, 60.0, 2400.0, (20.0, 20.0), 0.5, 0.5, "vertical"),
    ("hill", 25.0, 251, 150.0, 450.0, (30.0, 10.0), 0.9, 0.5, "horizontal"),
    ("hill", 60.0, 301, 300.0, 20000.0, (50.0, 50.0), 0.5, 0.5, "vertical"),
    ("ridge", 15.0, 301, 80.0, 11000.0, (35.0, 35.0), 0.99, 0.9, "vertical"),
    ("ridge", 50.0, 251, 400.0, 150.0, (10.0, 2.0), 0.1, 0.5, "horizontal"),
    ("ridge", 90.0, 451, 200.0, 1800.0, (80.0, 40.0), 0.5, 0.5, "vertical"),
    ("rough", 5.0, 101, 10.0, 18000.0, (25.0, 25.0), 0.5, 0.5, "vertical"),
    ("rough", 20.0, 201, 50.0, 3500.0, (30.0, 15.0), 0.9, 0.5, "vertical"),
    ("rough", 45.0, 451, 150.0, 700.0, (40.0, 10.0), 0.5, 0.9, "horizontal"),
    ("rough", 80.0, 401, 400.0, 150.0, (150.0, 5.0), 0.99, 0.1, "vertical"),
    ("rough", 150.0, 301, 90.0, 6000.0, (100.0, 60.0), 0.5, 0.5, "horizontal"),
    ("rough", 300.0, 601, 250.0, 900.0, (200.0, 30.0), 0.5, 0.5, "vertical"),
    ("flat", 450.0, 451, 0.0, 2000.0, (300.0, 100.0), 0.9, 0.5, "horizontal"),
    ("ridge", 400.0, 401, 500.0, 400.0, (150.0, 50.0), 0.5, 0.5, "vertical"),
]


@pytest.mark.parametrize(
    ("kind", "length_km", "samples", "relief_m", "freq_mhz", "heights_m", "rel", "conf", "pol"),
    CASES,
)
def test_within_half_a_decibel_of_itmlogic(
    kind: str,
    length_km: float,
    samples: int,
    relief_m: float,
    freq_mhz: float,
    heights_m: tuple[float, float],
    rel: float,
    conf: float,
    pol: str,
) -> None:
    elevation = synthetic(kind, length_km * 1e3, samples, relief_m, seed=samples)
    step = length_km * 1e3 / (samples - 1)
    params = ItmParams(
        freq_mhz, "vertical" if pol == "vertical" else "horizontal", reliability=rel,
        confidence=conf,
    )  # fmt: skip
    ours = itm_point_to_point(elevation, step, *heights_m, params)
    assert ours.basic_loss_db == pytest.approx(
        itmlogic_loss_db(elevation, step, heights_m, params), abs=0.5
    )


def test_the_cases_cover_every_mode() -> None:
    modes = set()
    for kind, length_km, samples, relief_m, freq_mhz, heights_m, *_ in CASES:
        elevation = synthetic(kind, length_km * 1e3, samples, relief_m, seed=samples)
        step = length_km * 1e3 / (samples - 1)
        modes.add(itm_point_to_point(elevation, step, *heights_m, ItmParams(freq_mhz)).mode)
    assert modes == {"line_of_sight", "diffraction", "troposcatter"}


# --- behaviour ----------------------------------------------------------------------------


def test_a_clear_short_hop_is_near_free_space_and_a_ridge_adds_loss() -> None:
    flat = synthetic("flat", 10e3, 201, 0.0)
    ridge = synthetic("ridge", 10e3, 201, 120.0)
    params = ItmParams(8000.0)
    clear = itm_point_to_point(flat, 50.0, 30.0, 30.0, params)
    blocked = itm_point_to_point(ridge, 50.0, 30.0, 30.0, params)
    assert clear.mode == "line_of_sight"
    assert clear.basic_loss_db - clear.free_space_loss_db < 3.0
    assert blocked.mode == "diffraction"
    assert blocked.basic_loss_db > clear.basic_loss_db + 20.0


def test_higher_reliability_means_more_loss() -> None:
    profile = synthetic("rough", 60e3, 301, 100.0)
    losses = [
        itm_point_to_point(
            profile, 200.0, 40.0, 20.0, ItmParams(900.0, reliability=r)
        ).basic_loss_db
        for r in (0.1, 0.5, 0.9, 0.99)
    ]
    assert losses == sorted(losses)
    assert losses[-1] > losses[0] + 3.0


@pytest.mark.parametrize(
    ("freq_mhz", "heights_m", "length_m", "expected"),
    [
        (2000.0, (30.0, 30.0), 20e3, ItmWarning.NONE),
        (15000.0, (30.0, 30.0), 20e3, ItmWarning.CAUTION),  # past 10 GHz
        (80000.0, (30.0, 30.0), 20e3, ItmWarning.OUT_OF_RANGE),  # past 20 GHz
        (2000.0, (0.0, 30.0), 20e3, ItmWarning.OUT_OF_RANGE),  # an antenna on the ground
        (2000.0, (30.0, 30.0), 600.0, ItmWarning.OUT_OF_RANGE),  # shorter than 1 km
    ],
)
def test_out_of_range_parameters_are_marked_not_raised(
    freq_mhz: float, heights_m: tuple[float, float], length_m: float, expected: ItmWarning
) -> None:
    profile = synthetic("flat", length_m, 101, 0.0)
    result = itm_point_to_point(profile, length_m / 100, *heights_m, ItmParams(freq_mhz))
    assert result.warning is expected
    assert math.isfinite(result.basic_loss_db)


def test_a_profile_it_cannot_take_is_an_error() -> None:
    with pytest.raises(ItmInputError):
        itm_point_to_point([10.0, 12.0], 100.0, 10.0, 10.0, ItmParams(900.0))
    with pytest.raises(ItmInputError):
        itm_point_to_point([10.0, np.nan, 12.0], 100.0, 10.0, 10.0, ItmParams(900.0))
    with pytest.raises(ItmInputError):
        ItmParams(900.0, reliability=1.0)


def test_a_path_outside_the_formulas_domain_has_no_figure_and_says_so() -> None:
    # 12 m of saw teeth 800 m high: ITM's smooth-earth term takes the log of a negative number
    teeth = np.where(np.arange(21) % 2 == 1, 800.0, 0.0)
    result = itm_point_to_point(teeth, 0.6, 30.0, 2.0, ItmParams(30.0))
    assert math.isnan(result.basic_loss_db)
    assert result.warning is ItmWarning.OUT_OF_RANGE
    assert result.free_space_loss_db == pytest.approx(
        20 * math.log10(4 * math.pi * 12.0 * 30e6 / 299_792_458.0)
    )


@settings(max_examples=300)
@given(
    relief_m=st.floats(0.0, 3000.0),
    length_m=st.floats(10.0, 500e3) | st.floats(10.0, 100.0),
    samples=st.integers(3, 300),
    seed=st.integers(0, 2**16),
    freq_mhz=st.floats(20.0, 100e3),
    heights_m=st.tuples(st.floats(0.0, 500.0), st.floats(0.0, 500.0)),
    vertical=st.booleans(),
)
def test_any_profile_gives_a_result_never_an_exception(
    relief_m: float,
    length_m: float,
    samples: int,
    seed: int,
    freq_mhz: float,
    heights_m: tuple[float, float],
    vertical: bool,
) -> None:
    # teeth of random widths: the relief that drives ITM's formulas out of their domain
    elevation = np.where(np.random.default_rng(seed).random(samples) < 0.5, 0.0, relief_m)
    params = ItmParams(freq_mhz, "vertical" if vertical else "horizontal")
    result = itm_point_to_point(elevation, length_m / (samples - 1), *heights_m, params)
    assert math.isfinite(result.basic_loss_db) or result.warning is ItmWarning.OUT_OF_RANGE
