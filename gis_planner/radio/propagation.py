"""Propagation models: median path loss over numpy distance arrays, within documented ranges.

Every model returns a :class:`PathLoss`: the loss in dB and a ``valid`` mask. An input outside
the model's validity range (distance, frequency, antenna heights) is clipped to the range before
the formula is evaluated, and the elements it affects are flagged ``valid = False``; a model is
never silently extrapolated. Callers that must not use clipped values (the coverage engine) stop
a cell's contribution at the model's maximum distance (:attr:`PropagationModel.max_dist_m`).

Models and ranges:

* free space, ITU-R P.525: any frequency, distance ≥ 1 m;
* Okumura-Hata: 150–1500 MHz, h_BS 30–200 m, h_UT 1–10 m, 1–20 km; large city, medium/small
  city, suburban and open-area variants;
* COST-231 Hata: 1500–2000 MHz, same heights and distances; Cm = 0 dB (medium city, and the base
  of the suburban and open variants, which apply Hata's area corrections) or 3 dB (large city);
* 3GPP TR 38.901 (V17) Table 7.4.1-1, RMa / UMa / UMi-street canyon, LOS and NLOS, with the LOS
  probability of Table 7.4.2-1: 0.5–30 GHz; d_2D ≥ 10 m up to 10 km (RMa LOS) or 5 km (RMa NLOS,
  UMa, UMi); h_UT 1–10 m (RMa) or 1.5–22.5 m (UMa, UMi); h_BS 10–150 m (RMa, as the standard
  states), 10–50 m (UMa, nominal 25 m) and 5–25 m (UMi, nominal 10 m). The UMa/UMi height
  ranges bracket the nominal heights: the formulas take h_BS through the breakpoint distance.

Bands above COST-231's 2000 MHz (2100 MHz 3G/4G, 2600 MHz 4G, 3500 MHz NR) use TR 38.901,
which covers 0.5–30 GHz; COST-231 is not stretched beyond its range.

Frequencies are in MHz and distances in metres at the interface; each formula converts to the
units its source uses (GHz and km).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from gis_planner.errors import GisPlannerError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

HataEnvironment = Literal["urban_large", "urban_medium", "suburban", "open"]
Scenario = Literal["RMa", "UMa", "UMi"]
Condition = Literal["los", "nlos", "expected"]
Environment = Literal["urban", "suburban", "rural"]

#: Speed of light as TR 38.901 fixes it for the breakpoint distance (3.0e8 m/s, not 299 792 458).
C_38901_M_S = 3.0e8
#: Speed of light in vacuum, for free space.
C_M_S = 299_792_458.0


class ModelRangeError(GisPlannerError, ValueError):
    """A parameter a model cannot be clipped into (an unknown variant, a non-positive value)."""


@dataclass(frozen=True)
class PathLoss:
    """Path loss in dB and where it was computed inside the model's validity range."""

    loss_db: FloatArray
    valid: BoolArray


def _clip(values: npt.ArrayLike, low: float, high: float) -> tuple[FloatArray, BoolArray]:
    array = np.asarray(values, dtype=np.float64)
    clipped = np.clip(array, low, high)
    return clipped, clipped == array


def _clip_scalar(value: float, low: float, high: float) -> tuple[float, bool]:
    clipped = min(max(float(value), low), high)
    return clipped, clipped == value


def free_space_db(dist_m: npt.ArrayLike, freq_mhz: float) -> PathLoss:
    """Free-space basic transmission loss, ITU-R P.525: 20·log10(4π·d/λ); d clipped at ≥ 1 m."""
    if freq_mhz <= 0:
        raise ModelRangeError(f"free space: frequency must be positive, got {freq_mhz} MHz")
    d, valid = _clip(dist_m, 1.0, np.inf)
    loss = 20.0 * np.log10(4.0 * np.pi * d * freq_mhz * 1e6 / C_M_S)
    return PathLoss(loss, valid)


def _hata_mobile_correction_db(freq_mhz: float, h_ut_m: float, large_city: bool) -> float:
    """a(h_UT): the mobile antenna height correction of Hata's urban formula."""
    if large_city:
        if (
            freq_mhz <= 300.0
        ):  # Hata gives the low-frequency form up to 200 MHz; 300 is the usual split
            return 8.29 * np.log10(1.54 * h_ut_m) ** 2 - 1.1
        return 3.2 * np.log10(11.75 * h_ut_m) ** 2 - 4.97
    log_f = np.log10(freq_mhz)
    return (1.1 * log_f - 0.7) * h_ut_m - (1.56 * log_f - 0.8)


def _hata_area_correction_db(freq_mhz: float, environment: HataEnvironment) -> float:
    """Hata's corrections from the urban loss to the suburban and open-area losses."""
    log_f = np.log10(freq_mhz)
    if environment == "suburban":
        return -2.0 * np.log10(freq_mhz / 28.0) ** 2 - 5.4
    if environment == "open":
        return -4.78 * log_f**2 + 18.33 * log_f - 40.94
    return 0.0


def _hata_family_db(
    dist_m: npt.ArrayLike,
    freq_mhz: float,
    h_bs_m: float,
    h_ut_m: float,
    environment: HataEnvironment,
    *,
    freq_range: tuple[float, float],
    intercept_db: float,
    freq_slope_db: float,
    cm_db: float,
    name: str,
) -> PathLoss:
    if environment not in ("urban_large", "urban_medium", "suburban", "open"):
        raise ModelRangeError(f"{name}: unknown environment {environment!r}")
    d_km, valid = _clip(np.asarray(dist_m, dtype=np.float64) / 1000.0, 1.0, 20.0)
    f, f_ok = _clip_scalar(freq_mhz, *freq_range)
    h_bs, hb_ok = _clip_scalar(h_bs_m, 30.0, 200.0)
    h_ut, hm_ok = _clip_scalar(h_ut_m, 1.0, 10.0)
    log_hb = np.log10(h_bs)
    a_hm = _hata_mobile_correction_db(f, h_ut, environment == "urban_large")
    loss = (
        intercept_db
        + freq_slope_db * np.log10(f)
        - 13.82 * log_hb
        - a_hm
        + (44.9 - 6.55 * log_hb) * np.log10(d_km)
        + cm_db
        + _hata_area_correction_db(f, environment)
    )
    return PathLoss(loss, valid & (f_ok and hb_ok and hm_ok))


def hata_db(
    dist_m: npt.ArrayLike,
    freq_mhz: float,
    h_bs_m: float = 30.0,
    h_ut_m: float = 1.5,
    environment: HataEnvironment = "urban_large",
) -> PathLoss:
    """Okumura-Hata median loss (150–1500 MHz, h_BS 30–200 m, h_UT 1–10 m, 1–20 km).

    ``urban_large`` uses the large-city a(h_UT); ``urban_medium`` the medium/small-city one;
    ``suburban`` and ``open`` apply Hata's area corrections to the medium-city loss.
    """
    return _hata_family_db(
        dist_m, freq_mhz, h_bs_m, h_ut_m, environment,
        freq_range=(150.0, 1500.0), intercept_db=69.55, freq_slope_db=26.16, cm_db=0.0,
        name="Okumura-Hata",
    )  # fmt: skip


def cost231_hata_db(
    dist_m: npt.ArrayLike,
    freq_mhz: float,
    h_bs_m: float = 30.0,
    h_ut_m: float = 1.5,
    environment: HataEnvironment = "urban_medium",
) -> PathLoss:
    """COST-231 Hata median loss (1500–2000 MHz, h_BS 30–200 m, h_UT 1–10 m, 1–20 km).

    ``urban_large`` is the metropolitan centre (Cm = 3 dB, large-city a(h_UT)); the others use
    Cm = 0 dB and the medium-city a(h_UT), ``suburban`` and ``open`` adding Hata's corrections.
    """
    return _hata_family_db(
        dist_m, freq_mhz, h_bs_m, h_ut_m, environment,
        freq_range=(1500.0, 2000.0), intercept_db=46.3, freq_slope_db=33.9,
        cm_db=3.0 if environment == "urban_large" else 0.0, name="COST-231 Hata",
    )  # fmt: skip


@dataclass(frozen=True)
class _ScenarioRange:
    h_bs_m: tuple[float, float]
    h_ut_m: tuple[float, float]
    max_los_m: float
    max_nlos_m: float


_SCENARIO_RANGES: dict[str, _ScenarioRange] = {
    "RMa": _ScenarioRange((10.0, 150.0), (1.0, 10.0), 10_000.0, 5_000.0),
    "UMa": _ScenarioRange((10.0, 50.0), (1.5, 22.5), 5_000.0, 5_000.0),
    "UMi": _ScenarioRange((5.0, 25.0), (1.5, 22.5), 5_000.0, 5_000.0),
}
#: Nominal base-station heights of TR 38.901 Table 7.4.1-1.
DEFAULT_H_BS_M: dict[str, float] = {"RMa": 35.0, "UMa": 25.0, "UMi": 10.0}
MIN_DIST_38901_M = 10.0
FREQ_RANGE_38901_MHZ = (500.0, 30_000.0)


def _scenario(scenario: str) -> _ScenarioRange:
    try:
        return _SCENARIO_RANGES[scenario]
    except KeyError:
        raise ModelRangeError(f"TR 38.901: unknown scenario {scenario!r}") from None


def breakpoint_distance_m(
    freq_mhz: float, h_bs_m: float, h_ut_m: float = 1.5, scenario: Scenario = "UMa"
) -> float:
    """TR 38.901 breakpoint distance: d_BP = 2π·h_BS·h_UT·f/c (RMa) or 4·h'_BS·h'_UT·f/c.

    UMa and UMi use effective heights h' = h − h_E with h_E = 1 m (for UMa, h_E = 1 m is the
    value for h_UT < 13 m, where the standard's C(d_2D, h_UT) is zero).
    """
    _scenario(scenario)
    f_hz = freq_mhz * 1e6
    if scenario == "RMa":
        return float(2.0 * np.pi * h_bs_m * h_ut_m * f_hz / C_38901_M_S)
    return float(4.0 * (h_bs_m - 1.0) * (h_ut_m - 1.0) * f_hz / C_38901_M_S)


def los_probability(
    dist_m: npt.ArrayLike, scenario: Scenario = "UMa", h_ut_m: float = 1.5
) -> FloatArray:
    """TR 38.901 Table 7.4.2-1 LOS probability at 2D distance ``dist_m``."""
    _scenario(scenario)
    d = np.maximum(np.asarray(dist_m, dtype=np.float64), 1e-9)
    if scenario == "RMa":
        return np.where(d <= 10.0, 1.0, np.exp(-(d - 10.0) / 1000.0))
    near = 18.0 / d
    if scenario == "UMi":
        p = near + np.exp(-d / 36.0) * (1.0 - near)
    else:
        p = near + np.exp(-d / 63.0) * (1.0 - near)
        if h_ut_m > 13.0:
            c_prime = ((h_ut_m - 13.0) / 10.0) ** 1.5
            p = p * (1.0 + c_prime * 1.25 * (d / 100.0) ** 3 * np.exp(-d / 150.0))
    return np.where(d <= 18.0, 1.0, np.minimum(p, 1.0))


def _rma_los(d2d: FloatArray, d3d: FloatArray, f_ghz: float, h_bs: float, h_ut: float,
             h_bld: float) -> FloatArray:  # fmt: skip
    def pl1(d: FloatArray | float) -> FloatArray:
        return np.asarray(
            20.0 * np.log10(40.0 * np.pi * d * f_ghz / 3.0)
            + min(0.03 * h_bld**1.72, 10.0) * np.log10(d)
            - min(0.044 * h_bld**1.72, 14.77)
            + 0.002 * np.log10(h_bld) * d
        )

    d_bp = breakpoint_distance_m(f_ghz * 1000.0, h_bs, h_ut, "RMa")
    beyond = pl1(d_bp) + 40.0 * np.log10(d3d / d_bp)
    return np.where(d2d <= d_bp, pl1(d3d), beyond)


def _rma_nlos(d3d: FloatArray, f_ghz: float, h_bs: float, h_ut: float, h_bld: float,
              w_street: float) -> FloatArray:  # fmt: skip
    return np.asarray(
        161.04
        - 7.1 * np.log10(w_street)
        + 7.5 * np.log10(h_bld)
        - (24.37 - 3.7 * (h_bld / h_bs) ** 2) * np.log10(h_bs)
        + (43.42 - 3.1 * np.log10(h_bs)) * (np.log10(d3d) - 3.0)
        + 20.0 * np.log10(f_ghz)
        - (3.2 * np.log10(11.75 * h_ut) ** 2 - 4.97)
    )


def _urban_los(d2d: FloatArray, d3d: FloatArray, f_ghz: float, h_bs: float, h_ut: float,
               scenario: str) -> FloatArray:  # fmt: skip
    d_bp = breakpoint_distance_m(f_ghz * 1000.0, h_bs, h_ut, scenario)  # type: ignore[arg-type]
    if scenario == "UMa":
        near = 28.0 + 22.0 * np.log10(d3d) + 20.0 * np.log10(f_ghz)
        far = (
            28.0 + 40.0 * np.log10(d3d) + 20.0 * np.log10(f_ghz)
            - 9.0 * np.log10(d_bp**2 + (h_bs - h_ut) ** 2)
        )  # fmt: skip
    else:
        near = 32.4 + 21.0 * np.log10(d3d) + 20.0 * np.log10(f_ghz)
        far = (
            32.4 + 40.0 * np.log10(d3d) + 20.0 * np.log10(f_ghz)
            - 9.5 * np.log10(d_bp**2 + (h_bs - h_ut) ** 2)
        )  # fmt: skip
    return np.where(d2d <= d_bp, near, far)


def _urban_nlos(d3d: FloatArray, f_ghz: float, h_ut: float, scenario: str) -> FloatArray:
    if scenario == "UMa":
        return 13.54 + 39.08 * np.log10(d3d) + 20.0 * np.log10(f_ghz) - 0.6 * (h_ut - 1.5)
    return 35.3 * np.log10(d3d) + 22.4 + 21.3 * np.log10(f_ghz) - 0.3 * (h_ut - 1.5)


def tr38901_db(
    dist_m: npt.ArrayLike,
    freq_mhz: float,
    scenario: Scenario = "UMa",
    condition: Condition = "expected",
    h_bs_m: float | None = None,
    h_ut_m: float = 1.5,
    street_width_m: float = 20.0,
    building_height_m: float = 5.0,
) -> PathLoss:
    """TR 38.901 path loss at 2D distance ``dist_m`` (no shadow fading).

    ``condition="los"`` and ``"nlos"`` are the table's formulas, NLOS being max(PL_LOS, PL'_NLOS).
    ``"expected"`` is the loss of the expected received power over the LOS state:
    −10·log10(P_LOS·10^(−PL_LOS/10) + (1 − P_LOS)·10^(−PL_NLOS/10)); weighting powers, not dB,
    keeps the mean received power right where LOS is rare but much stronger. Its valid range is
    the NLOS one. ``h_bs_m`` defaults to the scenario's nominal height; ``street_width_m`` and
    ``building_height_m`` (W and h, 5–50 m) only enter RMa.
    """
    rng = _scenario(scenario)
    if condition not in ("los", "nlos", "expected"):
        raise ModelRangeError(f"TR 38.901: unknown condition {condition!r}")
    h_bs, hb_ok = _clip_scalar(DEFAULT_H_BS_M[scenario] if h_bs_m is None else h_bs_m,
                               *rng.h_bs_m)  # fmt: skip
    h_ut, hm_ok = _clip_scalar(h_ut_m, *rng.h_ut_m)
    f_mhz, f_ok = _clip_scalar(freq_mhz, *FREQ_RANGE_38901_MHZ)
    w_street, w_ok = _clip_scalar(street_width_m, 5.0, 50.0)
    h_bld, h_ok = _clip_scalar(building_height_m, 5.0, 50.0)
    max_m = rng.max_los_m if condition == "los" else rng.max_nlos_m
    d2d, valid = _clip(dist_m, MIN_DIST_38901_M, max_m)
    d3d = np.hypot(d2d, h_bs - h_ut)
    f_ghz = f_mhz / 1000.0
    if scenario == "RMa":
        los = _rma_los(d2d, d3d, f_ghz, h_bs, h_ut, h_bld)
        nlos = np.maximum(los, _rma_nlos(d3d, f_ghz, h_bs, h_ut, h_bld, w_street))
    else:
        los = _urban_los(d2d, d3d, f_ghz, h_bs, h_ut, scenario)
        nlos = np.maximum(los, _urban_nlos(d3d, f_ghz, h_ut, scenario))
    if condition == "los":
        loss = los
    elif condition == "nlos":
        loss = nlos
    else:
        p_los = los_probability(d2d, scenario, h_ut)
        power = p_los * 10.0 ** (-los / 10.0) + (1.0 - p_los) * 10.0 ** (-nlos / 10.0)
        loss = -10.0 * np.log10(power)
    params_ok = hb_ok and hm_ok and f_ok and w_ok and h_ok
    return PathLoss(np.asarray(loss, dtype=np.float64), valid & params_ok)


ModelName = Literal["free_space", "hata", "cost231", "tr38901"]


@dataclass(frozen=True)
class PropagationModel:
    """A model with its fixed parameters; :meth:`path_loss` evaluates it for one cell."""

    name: ModelName
    #: Hata/COST-231 environment, or the TR 38.901 scenario.
    variant: str
    condition: Condition = "expected"

    @property
    def max_dist_m(self) -> float:
        """Largest distance inside the model's validity range."""
        if self.name == "free_space":
            return float("inf")
        if self.name in ("hata", "cost231"):
            return 20_000.0
        rng = _scenario(self.variant)
        return rng.max_los_m if self.condition == "los" else rng.max_nlos_m

    def describe(self) -> str:
        """A short label for metadata: ``tr38901:UMa:expected``."""
        if self.name == "tr38901":
            return f"{self.name}:{self.variant}:{self.condition}"
        return f"{self.name}:{self.variant}"

    def path_loss(
        self, dist_m: npt.ArrayLike, freq_mhz: float, h_bs_m: float, h_ut_m: float = 1.5
    ) -> PathLoss:
        if self.name == "free_space":
            return free_space_db(dist_m, freq_mhz)
        if self.name == "hata":
            return hata_db(dist_m, freq_mhz, h_bs_m, h_ut_m, self.variant)  # type: ignore[arg-type]
        if self.name == "cost231":
            return cost231_hata_db(dist_m, freq_mhz, h_bs_m, h_ut_m, self.variant)  # type: ignore[arg-type]
        scenario: Scenario = self.variant  # type: ignore[assignment]
        return tr38901_db(dist_m, freq_mhz, scenario, self.condition, h_bs_m, h_ut_m)


#: Admin unit types (catalogue ``admin_units.unit_type``) → propagation environment: cities'
#: wards (phường) are urban, townships (thị trấn) suburban, rural communes (xã) rural.
ENVIRONMENT_BY_UNIT_TYPE: dict[str, Environment] = {
    "city": "urban",
    "ward": "urban",
    "town": "suburban",
    "township": "suburban",
    "rural_district": "rural",
    "rural_commune": "rural",
    "province": "rural",
}

_HATA_VARIANT: dict[str, HataEnvironment] = {
    "urban": "urban_medium",  # Hà Nam's towns are medium/small cities in Hata's sense
    "suburban": "suburban",
    "rural": "open",
}
_SCENARIO_BY_ENVIRONMENT: dict[str, Scenario] = {
    "urban": "UMa",
    "suburban": "RMa",
    "rural": "RMa",
}


def environment_for_unit_type(unit_type: str) -> Environment:
    """The propagation environment of an admin unit type; ``ModelRangeError`` if unknown."""
    try:
        return ENVIRONMENT_BY_UNIT_TYPE[unit_type]
    except KeyError:
        raise ModelRangeError(f"no propagation environment for unit type {unit_type!r}") from None


def model_for(band_mhz: float, environment: Environment) -> PropagationModel:
    """The model used for a carrier in ``band_mhz`` in an environment.

    ≤ 1500 MHz: Okumura-Hata; 1500–2000 MHz: COST-231 Hata (urban medium city, suburban, open
    for rural); above 2000 MHz: TR 38.901 expected loss, UMa in urban areas and RMa elsewhere.
    """
    if environment not in _HATA_VARIANT:
        raise ModelRangeError(f"unknown environment {environment!r}")
    if band_mhz < 150.0 or band_mhz > FREQ_RANGE_38901_MHZ[1]:
        raise ModelRangeError(f"no propagation model for {band_mhz} MHz")
    if band_mhz <= 1500.0:
        return PropagationModel("hata", _HATA_VARIANT[environment])
    if band_mhz <= 2000.0:
        return PropagationModel("cost231", _HATA_VARIANT[environment])
    return PropagationModel("tr38901", _SCENARIO_BY_ENVIRONMENT[environment], "expected")
