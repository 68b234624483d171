"""Microwave link profile: line of sight, first Fresnel zone, clearance and diffraction of a hop.

A hop runs from antenna A (distance 0) to antenna B (distance D) over terrain sampled at equal
steps. The terrain is raised by the earth's bulge d1·d2/(2·k·a) (effective earth radius k·a,
P.526-16 §4.1's h + d1·d2/(2·k·a) above the chord), the line of sight is the straight chord
between the antennas, and the first Fresnel zone's radius is √(λ·d1·d2/(d1 + d2)). The
clearance at a sample is the line of sight less the bulged terrain, in metres and as a fraction
of F1; the hop's clearance is the smallest over the samples between the antennas.

Verdict (the usual engineering rule at the median k = 4/3): *clear* when the clearance is at
least the required fraction of F1 everywhere (0.6 F1 leaves the knife-edge loss at about 0 dB:
ν = −√2·0.6 ≈ −0.85 < −0.78), *marginal* when the line of sight is free but the zone is entered,
*obstructed* when the terrain cuts the line of sight.

Obstacles are the runs of consecutive samples below the required fraction, each reported at its
most obstructing sample. Losses: free space (P.525), Bullington's general path (P.526-16
§4.5.1, ``radio.diffraction``), the single knife edge at the worst obstacle (§4.1) and the
Longley–Rice ITM's median basic transmission loss (``radio.itm``, its own refractivity
Ns = 301 N, about k = 4/3, whatever ``k_factor``; with ITM's warning where the hop lies outside
its ranges: past 20 GHz or shorter than 1 km).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from gis_planner.errors import GisPlannerError
from gis_planner.radio.diffraction import (
    DEFAULT_K_FACTOR,
    bullington_loss_db,
    curvature_per_m,
    knife_edge_loss_db,
    knife_edge_nu,
    wavelength_m,
)
from gis_planner.radio.itm import ItmParams, ItmResult, itm_point_to_point
from gis_planner.radio.propagation import free_space_db

F64 = npt.NDArray[np.float64]
Verdict = Literal["clear", "marginal", "obstructed"]

#: Fewest samples of a profile: a short hop still gets a drawn Fresnel ellipse and a few
#: points between its antennas.
MIN_PROFILE_SAMPLES = 64
#: Most samples of a profile: 200 km at 10 m. Past it the step grows beyond the DEM's pixel
#: and the profile says so (``LinkProfile.step_m``).
MAX_PROFILE_SAMPLES = 20_001
#: Longest hop analysed: beyond it a microwave hop is no longer one terrain profile.
MAX_HOP_LENGTH_M = 200_000.0
#: Shortest hop: two antennas closer than this are one position.
MIN_HOP_LENGTH_M = 10.0
#: Range of carriers (GHz) of point-to-point microwave links.
FREQ_GHZ_RANGE = (0.3, 100.0)
#: Range of the effective earth radius factor (k = 2/3 sub-refraction … 10 strong ducting).
K_FACTOR_RANGE = (0.3, 10.0)
#: Antenna heights above ground (m).
ANTENNA_HEIGHT_RANGE_M = (0.0, 500.0)


class LinkParamsError(GisPlannerError):
    """Parameters of a hop outside what the method holds for."""


@dataclass(frozen=True)
class LinkParams:
    """The radio side of a hop: carrier, effective earth radius factor and required clearance."""

    freq_ghz: float = 15.0
    k_factor: float = DEFAULT_K_FACTOR
    #: Fraction of F1 the terrain must stay below (0.6 F1 is the usual rule).
    clearance_fraction: float = 0.6

    def __post_init__(self) -> None:
        low, high = FREQ_GHZ_RANGE
        if not low <= self.freq_ghz <= high:
            raise LinkParamsError(f"frequency {self.freq_ghz} GHz outside {low}–{high} GHz")
        low, high = K_FACTOR_RANGE
        if not low <= self.k_factor <= high:
            raise LinkParamsError(f"k-factor {self.k_factor} outside {low}–{high}")
        if not 0.0 <= self.clearance_fraction <= 1.5:
            raise LinkParamsError(
                f"clearance fraction {self.clearance_fraction} outside 0–1.5 of F1"
            )


@dataclass(frozen=True)
class Obstacle:
    """A run of samples inside the required part of the zone, at its most obstructing one."""

    distance_m: float
    start_m: float
    end_m: float
    #: Terrain (without the bulge) at the most obstructing sample.
    terrain_m: float
    clearance_m: float
    #: Clearance as a fraction of F1 there (negative: above the line of sight).
    clearance_f1: float


@dataclass(frozen=True, eq=False)
class LinkProfile:
    """A hop's profile (arrays over the samples, distance from A) and its figures."""

    params: LinkParams
    step_m: float
    distance_m: F64
    terrain_m: F64
    #: The earth's bulge above the chord between the ends at sea level.
    bulge_m: F64
    #: The line of sight between the antennas (heights above sea level).
    los_m: F64
    f1_m: F64
    #: Line of sight less terrain and bulge; at the ends it is the antennas' heights.
    clearance_m: F64
    #: Clearance in F1; NaN at the ends, where F1 is zero.
    clearance_f1: F64
    #: The smallest clearance between the antennas in F1 and in metres (each its own minimum:
    #: they may lie apart), and where the one in F1 is.
    min_clearance_f1: float
    min_clearance_m: float
    worst_distance_m: float
    obstacles: tuple[Obstacle, ...]
    free_space_loss_db: float
    bullington_loss_db: float
    knife_edge_loss_db: float
    #: The Longley–Rice ITM's median prediction over the profile (``itm.basic_loss_db``).
    itm: ItmResult
    verdict: Verdict

    @property
    def length_m(self) -> float:
        return float(self.distance_m[-1])


def sample_distances(length_m: float, resolution_m: float) -> tuple[F64, float]:
    """Equally spaced distances from 0 to ``length_m``, at most ``resolution_m`` apart (at
    least ``MIN_PROFILE_SAMPLES``, at most ``MAX_PROFILE_SAMPLES`` of them), and the step."""
    if not MIN_HOP_LENGTH_M <= length_m <= MAX_HOP_LENGTH_M:
        raise LinkParamsError(
            f"hop of {length_m:,.0f} m: a hop is {MIN_HOP_LENGTH_M:g} m to "
            f"{MAX_HOP_LENGTH_M / 1000:g} km long"
        )
    if not resolution_m > 0:
        raise LinkParamsError(f"terrain resolution must be positive, got {resolution_m} m")
    steps = max(math.ceil(length_m / resolution_m), MIN_PROFILE_SAMPLES - 1)
    steps = min(steps, MAX_PROFILE_SAMPLES - 1)
    return np.linspace(0.0, length_m, steps + 1), length_m / steps


def _obstacles(
    below: npt.NDArray[np.bool_], distance_m: F64, terrain_m: F64, clearance_m: F64, ratio: F64
) -> tuple[Obstacle, ...]:
    """One obstacle per run of consecutive samples marked ``below``."""
    edges = np.diff(np.concatenate([[0], below.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    found = []
    for start, end in zip(starts, ends, strict=True):
        worst = start + int(np.argmin(ratio[start:end]))
        found.append(
            Obstacle(
                distance_m=float(distance_m[worst]),
                start_m=float(distance_m[start]),
                end_m=float(distance_m[end - 1]),
                terrain_m=float(terrain_m[worst]),
                clearance_m=float(clearance_m[worst]),
                clearance_f1=float(ratio[worst]),
            )
        )
    return tuple(found)


def analyse_profile(
    distance_m: npt.ArrayLike,
    terrain_m: npt.ArrayLike,
    antenna_a_m: float,
    antenna_b_m: float,
    params: LinkParams,
) -> LinkProfile:
    """The profile of a hop over ``terrain_m`` sampled at the equally spaced ``distance_m``
    (from A; antennas ``antenna_a_m`` and ``antenna_b_m`` above the terrain at the ends)."""
    distance = np.asarray(distance_m, dtype=np.float64)
    terrain = np.asarray(terrain_m, dtype=np.float64)
    if distance.ndim != 1 or distance.shape != terrain.shape or len(distance) < 3:
        raise LinkParamsError("a profile needs at least 3 samples of distance and terrain")
    steps = np.diff(distance)
    if not (steps > 0).all() or np.ptp(steps) > 1e-6 * steps.mean():
        raise LinkParamsError("a profile's samples must be equally spaced")
    if not np.isfinite(terrain).all():
        raise LinkParamsError("the terrain has gaps along the hop")
    low, high = ANTENNA_HEIGHT_RANGE_M
    for name, height in (("A", antenna_a_m), ("B", antenna_b_m)):
        if not low <= height <= high:
            raise LinkParamsError(f"antenna {name} at {height} m: {low:g}–{high:g} m expected")
    length = float(distance[-1])
    step = length / (len(distance) - 1)
    d2 = length - distance
    bulge = distance * d2 * curvature_per_m(params.k_factor)
    top_a, top_b = terrain[0] + antenna_a_m, terrain[-1] + antenna_b_m
    los = top_a + (top_b - top_a) * distance / length
    freq_mhz = params.freq_ghz * 1000.0
    wavelength = float(wavelength_m(freq_mhz))
    f1 = np.sqrt(wavelength * distance * d2 / length)
    clearance = los - terrain - bulge
    inner = slice(1, -1)
    ratio = np.full_like(distance, np.nan)
    ratio[inner] = clearance[inner] / f1[inner]
    worst = 1 + int(np.argmin(ratio[inner]))
    below = np.zeros(len(distance), dtype=bool)
    below[inner] = ratio[inner] < params.clearance_fraction
    obstacles = _obstacles(below, distance, terrain, clearance, ratio)

    # Bullington takes heights from A's ground and A's antenna above it
    relative = terrain - terrain[0]
    bullington = bullington_loss_db(
        relative, relative, antenna_a_m, antenna_b_m, step, freq_mhz, params.k_factor
    )
    nu = knife_edge_nu(
        -float(clearance[worst]), float(distance[worst]), float(d2[worst]), wavelength
    )
    if clearance[inner].min() < 0.0:
        verdict: Verdict = "obstructed"
    elif obstacles:
        verdict = "marginal"
    else:
        verdict = "clear"
    return LinkProfile(
        params=params,
        step_m=step,
        distance_m=distance,
        terrain_m=terrain,
        bulge_m=bulge,
        los_m=los,
        f1_m=f1,
        clearance_m=clearance,
        clearance_f1=ratio,
        min_clearance_f1=float(ratio[worst]),
        min_clearance_m=float(clearance[inner].min()),
        worst_distance_m=float(distance[worst]),
        obstacles=obstacles,
        free_space_loss_db=float(free_space_db(length, freq_mhz).loss_db),
        bullington_loss_db=float(bullington[-1]),
        knife_edge_loss_db=float(knife_edge_loss_db(nu)),
        itm=itm_point_to_point(terrain, step, antenna_a_m, antenna_b_m, ItmParams(freq_mhz)),
        verdict=verdict,
    )
