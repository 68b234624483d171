"""Longley–Rice Irregular Terrain Model (ITM 1.2.2), point-to-point mode, over a terrain profile.

Follows the ITS algorithm of version 1.2.2: G. A. Hufford, "The ITS Irregular Terrain Model,
version 1.2.2: the Algorithm" (NTIA/ITS, 1995), with the ITS manual "A manual for ITM" for the
calling conventions, NTIA Report 82-100 (Longley & Hufford, "A guide to the use of the ITS
Irregular Terrain Model in the area prediction mode", 1982) for the model's ranges and NBS
Technical Note 101 for the troposcatter and variability curves. The steps:

1. *Preparation* (``qlrps``, ``qlrpfl``): wave number, effective earth curvature from the
   surface refractivity Ns, surface transfer impedance from the ground constants; from the
   profile the horizon distances and elevation angles of each terminal (``hzns``), the terrain
   irregularity Δh (interdecile range of the elevations less a linear trend, ``dlthx``) and the
   effective antenna heights above a least-squares reflecting plane (``z1sq1``).
2. *Reference attenuation* (``lrprop``): below the smooth-earth horizon distance a line-of-sight
   curve fitted to the two-ray field (``alos``) and the diffraction line; beyond, diffraction as a
   blend of double knife edge and the three-radii smooth earth (``adiff``) until the
   troposcatter line (``ascat``) is lower.
3. *Variability* (``avar``): the quantile of attenuation for a reliability (time availability)
   with a confidence (situation), in the *accidental* point-to-point mode the manual recommends
   (MDVAR = 11: no location variability).

Where ITS's C++ ``point_to_point`` driver departs from the manual (MDVAR 12, Ns reduced by the
path's mean elevation), the manual is followed: MDVAR 11, and Ns is the surface refractivity at
the path (ZSYS = 0). The free-space loss is P.525's (0.002 dB above ITM's 32.45 dB form).
ITM's error marker KWX is returned as ``ItmWarning``, and a result is always returned: an
antenna lower than ITM's 0.5 m is taken at 0.5 m and the result marked out of range; a path so
far outside the ranges that the formulas have no value gets NaN losses, marked out of range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt

from gis_planner.errors import GisPlannerError
from gis_planner.radio.propagation import free_space_db

F64 = npt.NDArray[np.float64]
ItmMode = Literal["line_of_sight", "diffraction", "troposcatter"]

#: Earth's actual curvature (1/m) of ITM (radius 6370 km).
EARTH_CURVATURE_PER_M = 157e-9
#: ITM's wave number divisor: k = f/47.7 m⁻¹ with f in MHz (c / 2π in MHz·m).
WAVE_NUMBER_MHZ_M = 47.7
#: ITM's default surface refractivity (N-units): the effective earth radius factor 4/3.
#: DOMAIN.md gives no figure for Vietnam; ITU-R P.453's maps put the humid Red River delta
#: higher (about 350–380 N in the wet season), which an engineer with local data may set.
DEFAULT_NS = 301.0
#: Lowest antenna height (m) ITM computes with.
MIN_ANTENNA_M = 0.5


class Climate(IntEnum):
    """ITM's radio climates (KLIM)."""

    EQUATORIAL = 1
    CONTINENTAL_SUBTROPICAL = 2
    MARITIME_SUBTROPICAL = 3
    DESERT = 4
    CONTINENTAL_TEMPERATE = 5
    MARITIME_TEMPERATE_OVERLAND = 6
    MARITIME_TEMPERATE_OVERSEA = 7


#: The Red River delta (Köppen Cwa) has a wet monsoon summer and a dry, cool winter: the marked
#: seasonal cycle of continental subtropical (2) rather than the year-round uniform heat and
#: humidity that equatorial (1) stands for.
DEFAULT_CLIMATE = Climate.CONTINENTAL_SUBTROPICAL


class ItmWarning(IntEnum):
    """ITM's error marker KWX: how far the parameters are from what the model holds for."""

    NONE = 0
    #: Some parameters are close to their limits: use the result with caution.
    CAUTION = 1
    #: Impossible parameters: defaults were substituted.
    DEFAULTS_SUBSTITUTED = 2
    #: A combination of parameters is out of range: the result is probably invalid.
    COMBINATION_OUT_OF_RANGE = 3
    #: Some parameters are out of range: the result is probably invalid.
    OUT_OF_RANGE = 4


#: What each warning means, after the ITM manual.
WARNING_TEXT = {
    ItmWarning.NONE: "no warning",
    ItmWarning.CAUTION: "parameters close to ITM's limits: use with caution",
    ItmWarning.DEFAULTS_SUBSTITUTED: "impossible parameters: ITM substituted defaults",
    ItmWarning.COMBINATION_OUT_OF_RANGE: "a combination of parameters out of ITM's range: "
    "probably invalid",
    ItmWarning.OUT_OF_RANGE: "parameters out of ITM's range: probably invalid",
}


class ItmInputError(GisPlannerError):
    """A profile or parameter ITM cannot take at all (too few samples, not a number…)."""


@dataclass(frozen=True)
class ItmParams:
    """The radio and climate side of an ITM prediction."""

    freq_mhz: float
    polarization: Literal["horizontal", "vertical"] = "vertical"
    #: Ground constants of ITM's "average ground".
    permittivity: float = 15.0
    conductivity_s_m: float = 0.005
    surface_refractivity_n: float = DEFAULT_NS
    climate: Climate = DEFAULT_CLIMATE
    #: Fraction of the time the loss is not exceeded, with a confidence over like situations.
    reliability: float = 0.5
    confidence: float = 0.5

    def __post_init__(self) -> None:
        if not (math.isfinite(self.freq_mhz) and self.freq_mhz > 0):
            raise ItmInputError(f"ITM: frequency must be positive, got {self.freq_mhz} MHz")
        for name in ("reliability", "confidence"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ItmInputError(f"ITM: {name} {value} outside (0, 1)")
        if not self.permittivity >= 1.0 or not self.conductivity_s_m > 0.0:
            raise ItmInputError("ITM: permittivity ≥ 1 and a positive conductivity expected")
        if not 0.0 < self.surface_refractivity_n < 1000.0:
            raise ItmInputError(f"ITM: refractivity {self.surface_refractivity_n} N outside")


@dataclass(frozen=True)
class ItmResult:
    """ITM's prediction of a path and the parameters it derived from the profile."""

    #: Median attenuation relative to free space (AREF).
    reference_attenuation_db: float
    #: Attenuation at the requested reliability and confidence.
    attenuation_db: float
    free_space_loss_db: float
    #: Free space plus attenuation; NaN (with ``warning`` out of range) where the path lies so
    #: far outside ITM's ranges that its formulas have no value.
    basic_loss_db: float
    #: Line of sight when no sample hides one antenna from the other (on ITM's curved earth),
    #: else diffraction, or troposcatter past the distance where its line is the lower.
    mode: ItmMode
    warning: ItmWarning
    distance_m: float
    effective_heights_m: tuple[float, float]
    horizon_distances_m: tuple[float, float]
    horizon_angles_rad: tuple[float, float]
    terrain_irregularity_m: float


@dataclass(frozen=True)
class _Path:
    """The path parameters of ITM's /PROP/ block that the profile defines."""

    distance_m: float
    heights_m: tuple[float, float]
    wave_number_per_m: float
    curvature_per_m: float
    refractivity_n: float
    impedance: complex
    delta_h_m: float
    effective_m: tuple[float, float]
    horizon_m: tuple[float, float]
    angle_rad: tuple[float, float]
    #: No sample hides one antenna from the other.
    line_of_sight: bool


def _horizons(
    elevation_m: F64, step_m: float, heights_m: tuple[float, float], curvature: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Horizon elevation angles and distances of both terminals (ITM ``hzns``).

    A's horizon is the sample seen at the highest angle from A's antenna on the curved earth;
    B's is searched only from the first sample that hides B from A onwards, as ITM does.
    """
    distance = step_m * (len(elevation_m) - 1)
    top_a, top_b = elevation_m[0] + heights_m[0], elevation_m[-1] + heights_m[1]
    half = 0.5 * curvature
    angle_a = (top_b - top_a) / distance - half * distance
    angle_b = (top_a - top_b) / distance - half * distance
    horizon_a = horizon_b = distance
    # distances accumulated step by step as ITM does: where 0.9·d_L later falls on a sample,
    # the reflecting plane's fit window is cut on the same side
    steps = np.full(len(elevation_m) - 2, step_m)
    s_a = np.add.accumulate(steps)
    s_b = np.subtract.accumulate(np.concatenate([[distance], steps]))[1:]
    inner = elevation_m[1:-1]
    seen_a = (inner - top_a) / s_a - half * s_a
    above = seen_a > angle_a
    if above.any():
        first = int(np.argmax(above))
        best = int(np.argmax(seen_a))  # the first of equal maxima, as ITM keeps
        angle_a, horizon_a = float(seen_a[best]), float(s_a[best])
        seen_b = ((inner - top_b) / s_b - half * s_b)[first:]
        if seen_b.max() > angle_b:
            best = int(np.argmax(seen_b))
            angle_b, horizon_b = float(seen_b[best]), float(s_b[first + best])
    return (float(angle_a), float(angle_b)), (float(horizon_a), float(horizon_b))


def _fit_line(elevation_m: F64, step_m: float, x1_m: float, x2_m: float) -> tuple[float, float]:
    """ITM's least-squares line (``z1sq1``, trapezoidal weights) through the samples between
    ``x1_m`` and ``x2_m``, evaluated at both ends of the profile."""
    last = len(elevation_m) - 1
    start = int(max(x1_m / step_m, 0.0))
    end = last - int(max(last - x2_m / step_m, 0.0))
    if end <= start:
        start, end = max(start - 1, 0), last - max(last - end - 1, 0)
    span = end - start
    z = elevation_m[start : end + 1]
    weight = np.ones(span + 1)
    weight[[0, -1]] = 0.5
    x = np.arange(span + 1) - 0.5 * span
    mean = float(weight @ z) / span
    slope = float(weight @ (z * x)) * 12.0 / ((span * span + 2.0) * span)
    centre = start + 0.5 * span
    return mean - slope * centre, mean + slope * (last - centre)


def _delta_h(elevation_m: F64, step_m: float, x1_m: float, x2_m: float) -> float:
    """Terrain irregularity Δh (ITM ``dlthx``): the interdecile range of the elevations between
    ``x1_m`` and ``x2_m`` less their linear trend, scaled to an infinitely long path."""
    first, last = x1_m / step_m, x2_m / step_m
    if last - first < 2.0:
        return 0.0
    k_a = min(max(4, int(0.1 * (last - first + 8.0))), 25)
    count = 10 * k_a - 5
    samples = np.interp(np.linspace(first, last, count), np.arange(len(elevation_m)), elevation_m)
    z0, zn = _fit_line(samples, 1.0, 0.0, count - 1.0)
    ranked = np.sort(samples - np.linspace(z0, zn, count))
    spread = float(ranked[count - k_a] - ranked[k_a - 1])
    return spread / (1.0 - 0.8 * math.exp(-(x2_m - x1_m) / 50e3))


def _smooth_horizon_m(effective_m: float, curvature: float, delta_h_m: float) -> float:
    """Horizon distance over irregular terrain of an antenna ``effective_m`` high."""
    return math.sqrt(2.0 * effective_m / curvature) * math.exp(
        -0.07 * math.sqrt(delta_h_m / max(effective_m, 5.0))
    )


def _prepare(
    elevation_m: F64, step_m: float, heights_m: tuple[float, float], params: ItmParams
) -> _Path:
    """ITM's ``qlrps`` and ``qlrpfl``: the path's parameters from the profile."""
    wave_number = params.freq_mhz / WAVE_NUMBER_MHZ_M
    ns = params.surface_refractivity_n
    curvature = EARTH_CURVATURE_PER_M * (1.0 - 0.04665 * math.exp(ns / 179.3))
    relative = complex(params.permittivity, 376.62 * params.conductivity_s_m / wave_number)
    impedance = complex(np.sqrt(relative - 1.0))
    if params.polarization == "vertical":
        impedance /= relative
    distance = step_m * (len(elevation_m) - 1)
    angle, horizon = _horizons(elevation_m, step_m, heights_m, curvature)
    x1 = min(15.0 * heights_m[0], 0.1 * horizon[0])
    x2 = distance - min(15.0 * heights_m[1], 0.1 * horizon[1])
    delta_h = _delta_h(elevation_m, step_m, x1, x2)
    # unobstructed, both horizons are the other end (2·d); obstructed, they sum to d or less
    line_of_sight = horizon[0] + horizon[1] > 1.5 * distance
    if line_of_sight:
        # line of sight: one reflecting plane; horizons and angles from the smooth-earth rules
        za, zb = _fit_line(elevation_m, step_m, x1, x2)
        effective = [
            heights_m[0] + max(float(elevation_m[0]) - za, 0.0),
            heights_m[1] + max(float(elevation_m[-1]) - zb, 0.0),
        ]
        dl = [_smooth_horizon_m(h, curvature, delta_h) for h in effective]
        if dl[0] + dl[1] <= distance:
            # the horizons fall short of each other: raise both antennas until they meet
            scale = (distance / (dl[0] + dl[1])) ** 2
            effective = [h * scale for h in effective]
            dl = [_smooth_horizon_m(h, curvature, delta_h) for h in effective]
        # elevation angles from Δh: terrain raises the horizon above the smooth earth's
        smooth = [math.sqrt(2.0 * h / curvature) for h in effective]
        a, b = (
            (0.65 * delta_h * (q / d - 1.0) - 2.0 * h) / q
            for q, d, h in zip(smooth, dl, effective, strict=True)
        )
        angle, horizon = (a, b), (dl[0], dl[1])
    else:
        # beyond the horizon: each terminal's plane fitted to its own foreground
        za, _ = _fit_line(elevation_m, step_m, x1, 0.9 * horizon[0])
        _, zb = _fit_line(elevation_m, step_m, distance - 0.9 * horizon[1], x2)
        effective = [
            heights_m[0] + max(float(elevation_m[0]) - za, 0.0),
            heights_m[1] + max(float(elevation_m[-1]) - zb, 0.0),
        ]
    return _Path(
        distance_m=distance,
        heights_m=heights_m,
        wave_number_per_m=wave_number,
        curvature_per_m=curvature,
        refractivity_n=ns,
        impedance=impedance,
        delta_h_m=delta_h,
        effective_m=(effective[0], effective[1]),
        horizon_m=(float(horizon[0]), float(horizon[1])),
        angle_rad=(float(angle[0]), float(angle[1])),
        line_of_sight=line_of_sight,
    )


def _knife_edge_db(v2: float) -> float:
    """Knife-edge attenuation for ν² = ``v2`` (ITM ``aknfe``)."""
    if v2 < 5.76:
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 4.343 * math.log(v2)


def _height_gain_db(x: float, pk: float) -> float:
    """The three-radii height-gain function F(x, K) (ITM ``fht``)."""
    if x < 200.0:
        w = -math.log(pk)
        if pk < 1e-5 or x * w**3 > 5495.0:
            return -117.0 + (17.372 * math.log(x) if x > 1.0 else 0.0)
        return 2.5e-5 * x * x / pk - 8.686 * w - 15.0
    gain = 0.05751 * x - 4.343 * math.log(x)
    if x < 2000.0:
        w = 0.0134 * x * math.exp(-0.005 * x)
        gain = (1.0 - w) * gain + w * (17.372 * math.log(x) - 117.0)
    return gain


def _roughness_m(distance_m: float, delta_h_m: float) -> float:
    """σ_h, the rms terrain height within the first Fresnel zone, from Δh at ``distance_m``."""
    q = (1.0 - 0.8 * math.exp(-distance_m / 50e3)) * delta_h_m
    return 0.78 * q * math.exp(-((q / 16.0) ** 0.25))


@dataclass(frozen=True)
class _Diffraction:
    """ITM ``adiff``: its constants for a path, and the attenuation at a distance."""

    path: _Path
    #: Sum of the horizon distances and of the horizon angles (no less than −d_L·γ_e).
    dla_m: float
    tha_rad: float
    dlsa_m: float

    def at(self, d: float) -> float:
        p = self.path
        h1, h2 = p.heights_m
        e1, e2 = p.effective_m
        wn, gme = p.wave_number_per_m, p.curvature_per_m
        # point-to-point: the weight of smooth earth leans on the effective heights' excess
        wd1 = math.sqrt(1.0 + (e1 * e2 - h1 * h2) / (h1 * h2 + 10.0))
        xd1 = self.dla_m + self.tha_rad / gme
        clutter = min(
            15.0,
            2.171 * math.log(1.0 + 4.77e-4 * h1 * h2 * wn * _roughness_m(self.dlsa_m, p.delta_h_m)),
        )
        qk = 1.0 / abs(p.impedance)
        aht, xht = 20.0, 0.0
        for dl, he in zip(p.horizon_m, p.effective_m, strict=True):
            a = 0.5 * dl * dl / he
            wa = (a * wn) ** (1.0 / 3.0)
            pk = qk / wa
            x = (1.607 - pk) * 151.0 * wa * dl / a
            xht += x
            aht += _height_gain_db(x, pk)
        theta = self.tha_rad + d * gme
        ds = d - self.dla_m
        q = 0.0795775 * wn * ds * theta * theta
        knife = sum(_knife_edge_db(q * dl / (ds + dl)) for dl in p.horizon_m)
        wa = (ds / theta * wn) ** (1.0 / 3.0)
        pk = qk / wa
        x = (1.607 - pk) * 151.0 * wa * theta + xht
        smooth = 0.05751 * x - 4.343 * math.log(x) - aht
        q = (wd1 + xd1 / d) * min((1.0 - 0.8 * math.exp(-d / 50e3)) * p.delta_h_m * wn, 6283.2)
        weight = 25.1 / (25.1 + math.sqrt(q))
        return smooth * weight + (1.0 - weight) * knife + clutter


def _line_of_sight_db(p: _Path, d: float, emd: float, aed: float, wls: float) -> float:
    """ITM ``alos``: the two-ray field over rough ground, blended into the diffraction line."""
    s = _roughness_m(d, p.delta_h_m)
    q = p.effective_m[0] + p.effective_m[1]
    sin_psi = q / math.sqrt(d * d + q * q)
    r = (sin_psi - p.impedance) / (sin_psi + p.impedance)
    r *= math.exp(-min(10.0, p.wave_number_per_m * s * sin_psi))
    q = abs(r) ** 2
    if q < 0.25 or q < sin_psi:
        r *= math.sqrt(sin_psi / q)
    diffraction = emd * d + aed
    phase = p.wave_number_per_m * p.effective_m[0] * p.effective_m[1] * 2.0 / d
    if phase > 1.57:
        phase = 3.14 - 2.4649 / phase
    two_ray = -4.343 * math.log(abs(complex(math.cos(phase), -math.sin(phase)) + r) ** 2)
    return (two_ray - diffraction) * wls + diffraction


def _frequency_gain_db(r: float, efficiency: float) -> float:
    """ITM ``h0f``: the frequency gain function H₀₁(r, η_s), interpolated between η_s steps."""
    a = (25.0, 80.0, 177.0, 395.0, 705.0)
    b = (24.0, 45.0, 68.0, 80.0, 105.0)
    step = int(efficiency)
    if step <= 0:
        step, q = 1, 0.0
    elif step >= 5:
        step, q = 5, 0.0
    else:
        q = efficiency - step
    x = (1.0 / r) ** 2
    gain = 4.343 * math.log((a[step - 1] * x + b[step - 1]) * x + 1.0)
    if q != 0.0:
        gain = (1.0 - q) * gain + q * 4.343 * math.log((a[step] * x + b[step]) * x + 1.0)
    return gain


def _scatter_f0_db(td: float) -> float:
    """ITM ``ahd``: the function F(θ·d) of troposcatter."""
    i = 0 if td <= 10e3 else 1 if td <= 70e3 else 2
    return (
        (133.4, 104.6, 71.8)[i]
        + (0.332e-3, 0.212e-3, 0.157e-3)[i] * td
        + (-4.343, -1.086, 2.171)[i] * math.log(td)
    )


#: ITM's marker of a troposcatter attenuation it cannot compute (both r below 0.2).
_NO_SCATTER_DB = 1001.0


def _scatter_db(p: _Path, d: float, tha: float, h0_before: float) -> tuple[float, float]:
    """ITM ``ascat`` at ``d``: the troposcatter attenuation and the H₀ it used, given the H₀
    of ITM's previous call (``h0_before``, −15 for none)."""
    dl_a, dl_b = p.horizon_m
    ad, rr = dl_a - dl_b, p.effective_m[1] / p.effective_m[0]
    if ad < 0.0:
        ad, rr = -ad, 1.0 / rr
    if h0_before > 15.0:
        h0 = h0_before
    else:
        theta = p.angle_rad[0] + p.angle_rad[1] + d * p.curvature_per_m
        r1 = 2.0 * p.wave_number_per_m * theta * p.effective_m[0]
        r2 = 2.0 * p.wave_number_per_m * theta * p.effective_m[1]
        if r1 < 0.2 and r2 < 0.2:
            return _NO_SCATTER_DB, h0_before
        ss = (d - ad) / (d + ad)
        q = min(max(0.1, rr / ss), 10.0)
        ss = max(0.1, ss)
        z0 = (d - ad) * (d + ad) * theta * 0.25 / d
        ens = p.refractivity_n
        etq = (5.67e-6 * ens - 2.32e-3) * ens + 0.031
        efficiency = (etq * math.exp(-(min(1.7, z0 / 8.0e3) ** 6)) + 1.0) * z0 / 1.7556e3
        ett = max(efficiency, 1.0)
        h0 = 0.5 * (_frequency_gain_db(r1, ett) + _frequency_gain_db(r2, ett))
        h0 += min(h0, (1.38 - math.log(ett)) * math.log(ss) * math.log(q) * 0.49)
        h0 = max(h0, 0.0)
        if efficiency < 1.0:
            gain = ((1.0 + 1.4142 / r1) * (1.0 + 1.4142 / r2)) ** 2
            h0 = efficiency * h0 + (1.0 - efficiency) * 4.343 * math.log(
                gain * (r1 + r2) / (r1 + r2 + 2.8284)
            )
        if h0 > 15.0 and h0_before >= 0.0:
            h0 = h0_before
    theta = tha + d * p.curvature_per_m
    attenuation = (
        _scatter_f0_db(theta * d)
        + 4.343 * math.log(47.7 * p.wave_number_per_m * theta**4)
        - 0.1 * (p.refractivity_n - 301.0) * math.exp(-theta * d / 40e3)
        + h0
    )
    return attenuation, h0


@dataclass(frozen=True)
class _Reference:
    attenuation_db: float
    mode: ItmMode
    warning: ItmWarning


def _range_warning(p: _Path, smooth_m: tuple[float, float]) -> ItmWarning:
    """ITM's checks of its parameters' ranges (the KWX of ``lrprop``)."""
    wn, (h1, h2) = p.wave_number_per_m, p.heights_m
    warning = ItmWarning.NONE
    if not 0.838 <= wn <= 210.0 or min(h1, h2) < 1.0 or max(h1, h2) > 1000.0:
        warning = ItmWarning.CAUTION
    if p.distance_m > 1000e3:
        warning = ItmWarning.CAUTION
    for angle, dl, dls in zip(p.angle_rad, p.horizon_m, smooth_m, strict=True):
        if abs(angle) > 0.2 or dl < 0.1 * dls or dl > 3.0 * dls:
            warning = ItmWarning.COMBINATION_OUT_OF_RANGE
    if p.distance_m < abs(p.effective_m[0] - p.effective_m[1]) / 0.2:
        warning = ItmWarning.COMBINATION_OUT_OF_RANGE
    if (
        not 250.0 <= p.refractivity_n <= 400.0
        or not 75e-9 <= p.curvature_per_m <= 250e-9
        or p.impedance.real <= abs(p.impedance.imag)
        or not 0.419 <= wn <= 420.0
        or min(h1, h2) < MIN_ANTENNA_M
        or max(h1, h2) > 3000.0
        or not 1e3 <= p.distance_m <= 2000e3
    ):
        warning = ItmWarning.OUT_OF_RANGE
    return warning


def _reference(p: _Path) -> _Reference:
    """ITM ``lrprop`` in point-to-point mode: the median attenuation relative to free space."""
    wn, gme, d = p.wave_number_per_m, p.curvature_per_m, p.distance_m
    smooth = (math.sqrt(2.0 * p.effective_m[0] / gme), math.sqrt(2.0 * p.effective_m[1] / gme))
    dlsa = smooth[0] + smooth[1]
    dla = p.horizon_m[0] + p.horizon_m[1]
    tha = max(p.angle_rad[0] + p.angle_rad[1], -dla * gme)
    diffraction = _Diffraction(p, dla, tha, dlsa)
    # the diffraction line through two points past the horizons
    xae = (wn * gme * gme) ** (-1.0 / 3.0)
    d3 = max(dlsa, 1.3787 * xae + dla)
    d4 = d3 + 2.7574 * xae
    a3, a4 = diffraction.at(d3), diffraction.at(d4)
    emd = (a4 - a3) / (d4 - d3)
    aed = a3 - emd * d3
    warning = _range_warning(p, smooth)
    if d < dlsa:
        wls = 0.021 / (0.021 + wn * p.delta_h_m / max(10e3, dlsa))
        a2 = aed + dlsa * emd
        d0 = 1.908 * wn * p.effective_m[0] * p.effective_m[1]
        if aed >= 0.0:
            d0 = min(d0, 0.5 * dla)
            d1 = d0 + 0.25 * (dla - d0)
        else:
            d1 = max(-aed / emd, 0.25 * dla)
        a1 = _line_of_sight_db(p, d1, emd, aed, wls)
        fitted = False
        if d0 < d1:
            a0 = _line_of_sight_db(p, d0, emd, aed, wls)
            q = math.log(dlsa / d0)
            ak2 = max(
                0.0,
                ((dlsa - d0) * (a1 - a0) - (d1 - d0) * (a2 - a0))
                / ((dlsa - d0) * math.log(d1 / d0) - (d1 - d0) * q),
            )
            fitted = aed >= 0.0 or ak2 > 0.0
            if fitted:
                ak1 = (a2 - a0 - ak2 * q) / (dlsa - d0)
                if ak1 < 0.0:
                    ak1, ak2 = 0.0, max(a2 - a0, 0.0) / q
                    if ak2 == 0.0:
                        ak1 = emd
        if not fitted:
            ak1, ak2 = (a2 - a1) / (dlsa - d1), 0.0
            if ak1 <= 0.0:
                ak1 = emd
        ael = a2 - ak1 * dlsa - ak2 * math.log(dlsa)
        attenuation = ael + ak1 * d + ak2 * math.log(d)
        mode: ItmMode = "line_of_sight" if p.line_of_sight else "diffraction"
    else:
        d5 = dla + 200e3
        d6 = d5 + 200e3
        a6, h0 = _scatter_db(p, d6, tha, -15.0)
        a5, _ = _scatter_db(p, d5, tha, h0)
        if a5 < 1000.0:
            ems = (a6 - a5) / 200e3
            dx = max(
                dlsa, dla + 0.3 * xae * math.log(47.7 * wn), (a5 - aed - ems * d5) / (emd - ems)
            )
            aes = (emd - ems) * dx + aed
        else:
            ems, aes, dx = emd, aed, 10e6
        if d > dx:
            attenuation, mode = aes + ems * d, "troposcatter"
        else:
            attenuation = aed + emd * d
            mode = "line_of_sight" if p.line_of_sight else "diffraction"
    return _Reference(max(float(attenuation), 0.0), mode, warning)


@dataclass(frozen=True)
class _Curve:
    """One of NBS TN101's curves of variability against the effective distance (ITM
    ``curv``): (c1 + c2 / (1 + ((dₑ − x2)/x3)²)) · (dₑ/x1)² / (1 + (dₑ/x1)²)."""

    c1: float
    c2: float
    x1: float
    x2: float
    x3: float

    def at(self, de: float) -> float:
        ratio = (de / self.x1) ** 2
        return (self.c1 + self.c2 / (1.0 + ((de - self.x2) / self.x3) ** 2)) * ratio / (1.0 + ratio)


@dataclass(frozen=True)
class _ClimateCurves:
    """ITM's variability constants of a climate (``avar``'s tables)."""

    median: _Curve
    sigma_minus: _Curve
    sigma_plus: _Curve
    #: σ ratio and the deviate past which the upper tail is ducting's.
    ducting_ratio: float
    ducting_z: float
    #: Frequency factors g(f) of σ below and above the median: f1 + f2 / ((f3·ln(f/353 MHz))² + 1).
    factor_minus: tuple[float, float, float]
    factor_plus: tuple[float, float, float]


def _climates() -> dict[Climate, _ClimateCurves]:
    columns = {
        # climate: median (c1, c2, x1, x2, x3); σ− (…); σ+ (…); ratio, z; g−; g+
        Climate.EQUATORIAL: (
            (-9.67, 12.7, 144.9e3, 190.3e3, 133.8e3), (2.13, 159.5, 762.2e3, 123.6e3, 94.5e3),
            (2.11, 102.3, 636.9e3, 134.8e3, 95.6e3), (1.224, 1.282),
            (1.0, 0.0, 0.0), (1.0, 0.0, 0.0),
        ),
        Climate.CONTINENTAL_SUBTROPICAL: (
            (-0.62, 9.19, 228.9e3, 205.2e3, 143.6e3), (2.66, 7.67, 100.4e3, 172.5e3, 136.4e3),
            (6.87, 15.53, 138.7e3, 143.7e3, 98.6e3), (0.801, 2.161),
            (1.0, 0.0, 0.0), (0.93, 0.31, 2.00),
        ),
        Climate.MARITIME_SUBTROPICAL: (
            (1.26, 15.5, 262.6e3, 185.2e3, 99.8e3), (6.11, 6.65, 138.2e3, 242.2e3, 178.6e3),
            (10.08, 9.60, 165.3e3, 225.7e3, 129.7e3), (1.380, 1.282),
            (1.0, 0.0, 0.0), (1.0, 0.0, 0.0),
        ),
        Climate.DESERT: (
            (-9.21, 9.05, 84.1e3, 101.1e3, 98.6e3), (1.98, 13.11, 139.1e3, 132.7e3, 193.5e3),
            (3.68, 159.3, 464.4e3, 93.1e3, 94.2e3), (1.000, 20.0),
            (1.0, 0.0, 0.0), (0.93, 0.19, 1.79),
        ),
        Climate.CONTINENTAL_TEMPERATE: (
            (-0.62, 9.19, 228.9e3, 205.2e3, 143.6e3), (2.68, 7.16, 93.7e3, 186.8e3, 133.5e3),
            (4.75, 8.12, 93.2e3, 135.9e3, 113.4e3), (1.224, 1.282),
            (0.92, 0.25, 1.77), (0.93, 0.31, 2.00),
        ),
        Climate.MARITIME_TEMPERATE_OVERLAND: (
            (-0.39, 2.86, 141.7e3, 315.9e3, 167.4e3), (6.86, 10.38, 187.8e3, 169.6e3, 108.9e3),
            (8.58, 13.97, 216.0e3, 152.0e3, 122.7e3), (1.518, 1.282),
            (1.0, 0.0, 0.0), (1.0, 0.0, 0.0),
        ),
        Climate.MARITIME_TEMPERATE_OVERSEA: (
            (3.15, 857.9, 2222.0e3, 164.8e3, 116.3e3), (8.51, 169.8, 609.8e3, 119.9e3, 106.6e3),
            (8.43, 8.19, 136.2e3, 188.5e3, 122.9e3), (1.518, 1.282),
            (1.0, 0.0, 0.0), (1.0, 0.0, 0.0),
        ),
    }  # fmt: skip
    return {
        climate: _ClimateCurves(
            _Curve(*median), _Curve(*minus), _Curve(*plus), ratio, z, f_minus, f_plus
        )
        for climate, (median, minus, plus, (ratio, z), f_minus, f_plus) in columns.items()
    }


CLIMATE_CURVES = _climates()


def _deviate(fraction: float) -> float:
    """The standard normal deviate z with Q(z) = ``fraction`` (ITM ``qerfi``, exactly)."""
    return NormalDist().inv_cdf(1.0 - fraction)


def _variability_db(p: _Path, reference_db: float, params: ItmParams) -> tuple[float, ItmWarning]:
    """ITM ``avar`` in the accidental point-to-point mode (MDVAR = 11): the attenuation not
    exceeded for ``reliability`` of the time, with ``confidence`` over like paths."""
    curves = CLIMATE_CURVES[params.climate]
    wn = p.wave_number_per_m
    log_f = math.log(0.133 * wn)
    factor_plus = curves.factor_plus[0] + curves.factor_plus[1] / (
        (curves.factor_plus[2] * log_f) ** 2 + 1.0
    )
    factor_minus = curves.factor_minus[0] + curves.factor_minus[1] / (
        (curves.factor_minus[2] * log_f) ** 2 + 1.0
    )
    # effective distance: 130 km at the sum of the smooth-earth horizons and a frequency term
    dexa = (
        math.sqrt(18e6 * p.effective_m[0])
        + math.sqrt(18e6 * p.effective_m[1])
        + (575.7e12 / wn) ** (1.0 / 3.0)
    )
    d = p.distance_m
    de = 130e3 * d / dexa if d < dexa else 130e3 + d - dexa
    median = curves.median.at(de)
    sigma_minus = curves.sigma_minus.at(de) * factor_minus
    sigma_plus = curves.sigma_plus.at(de) * factor_plus
    sigma_ducting = sigma_plus * curves.ducting_ratio
    tail = (sigma_plus - sigma_ducting) * curves.ducting_z
    situation_var = (5.0 + 3.0 * math.exp(-de / 100e3)) ** 2
    zt, zc = _deviate(params.reliability), _deviate(params.confidence)
    warning = ItmWarning.CAUTION if max(abs(zt), abs(zc)) > 3.1 else ItmWarning.NONE
    if zt < 0.0:
        sigma_time = sigma_minus
    elif zt <= curves.ducting_z:
        sigma_time = sigma_plus
    else:
        sigma_time = sigma_ducting + tail / zt
    # point-to-point: no location variability; time gives the reliability, the rest confidence
    variance = situation_var + (sigma_time * zt) ** 2 / (7.8 + zc * zc)
    attenuation = reference_db - median - sigma_time * zt - math.sqrt(variance) * zc
    if attenuation < 0.0:
        # ITM's soft floor: a gain over free space shrinks towards 0 dB
        attenuation = attenuation * (29.0 - attenuation) / (29.0 - 10.0 * attenuation)
    return attenuation, warning


def itm_point_to_point(
    elevation_m: npt.ArrayLike,
    step_m: float,
    antenna_a_m: float,
    antenna_b_m: float,
    params: ItmParams,
) -> ItmResult:
    """ITM's prediction over a profile: ``elevation_m`` above sea level at equal steps of
    ``step_m`` from A to B, antennas ``antenna_a_m`` and ``antenna_b_m`` above the ground at
    the ends. Parameters outside ITM's ranges are marked in ``ItmResult.warning``."""
    elevation = np.asarray(elevation_m, dtype=np.float64)
    if elevation.ndim != 1 or len(elevation) < 3 or not np.isfinite(elevation).all():
        raise ItmInputError("ITM: a profile of at least 3 finite elevations expected")
    if not (math.isfinite(step_m) and step_m > 0):
        raise ItmInputError(f"ITM: the profile's step must be positive, got {step_m} m")
    heights = (antenna_a_m, antenna_b_m)
    if not all(math.isfinite(h) and h >= 0.0 for h in heights):
        raise ItmInputError(f"ITM: antenna heights {heights} m: 0 m or more expected")
    used = (max(antenna_a_m, MIN_ANTENNA_M), max(antenna_b_m, MIN_ANTENNA_M))
    path = _prepare(elevation, float(step_m), used, params)
    try:
        reference = _reference(path)
        attenuation, quantile_warning = _variability_db(path, reference.attenuation_db, params)
    except (ValueError, ZeroDivisionError):
        # far outside ITM's ranges (a 10 m path through 800 m of relief) its formulas take
        # the logarithm of a negative number: no figure, and the result says why
        mode: ItmMode = "line_of_sight" if path.line_of_sight else "diffraction"
        reference = _Reference(math.nan, mode, ItmWarning.OUT_OF_RANGE)
        attenuation, quantile_warning = math.nan, ItmWarning.NONE
    warning = max(reference.warning, quantile_warning)
    if min(heights) < MIN_ANTENNA_M:
        warning = ItmWarning.OUT_OF_RANGE
    free_space = float(free_space_db(path.distance_m, params.freq_mhz).loss_db)
    return ItmResult(
        reference_attenuation_db=reference.attenuation_db,
        attenuation_db=attenuation,
        free_space_loss_db=free_space,
        basic_loss_db=free_space + attenuation,
        mode=reference.mode,
        warning=ItmWarning(warning),
        distance_m=path.distance_m,
        effective_heights_m=path.effective_m,
        horizon_distances_m=path.horizon_m,
        horizon_angles_rad=path.angle_rad,
        terrain_irregularity_m=path.delta_h_m,
    )
