"""Indoor and IoT link margins: building entry loss (ITU-R P.2109) and the extra coupling-loss
budget of NB-IoT and LTE-M over LTE.

Building entry loss, ITU-R P.2109-1 (2019) Annex 1 §3, for the two building classes it models:
"traditional" (brick, concrete, plain glass: most factories and workshops) and "thermally
efficient" (metallised glass, foil-backed panels). The loss not exceeded with probability P is

    L(P) = 10 log10(10^(A(P)/10) + 10^(B(P)/10) + 10^(C/10)),
    A(P) = F⁻¹(P) σ1 + L_h + L_e,    B(P) = F⁻¹(P) σ2 + μ2,    C = −3 dB,
    L_h = r + s log10 f + t (log10 f)²,    L_e = 0.212 |θ|,
    σ1 = u + v log10 f,    σ2 = y + z log10 f,    μ2 = w + x log10 f,

with f in GHz, θ the path's elevation at the façade and F⁻¹ the inverse standard normal
distribution; the coefficients are the Recommendation's Table 3.

Coupling loss: 3GPP designed LTE-M and NB-IoT for a maximum coupling loss (MCL) above LTE's:
144 dB for LTE, 156 dB for LTE-M (CE mode B, rounded) and 164 dB for NB-IoT (3GPP TR 45.820
§5.1 and TR 36.888; GSMA "Mobile IoT Deployment Guide" 2019). Deployed on an operator's LTE
sites, an IoT device is served where the LTE cell's signal is weaker than LTE needs by up to the
difference: 12 dB (LTE-M) and 20 dB (NB-IoT).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import norm

from gis_planner.errors import GisPlannerError

BuildingType = Literal["traditional", "thermally_efficient"]


@dataclass(frozen=True)
class _BelCoefficients:
    r: float
    s: float
    t: float
    u: float
    v: float
    w: float
    x: float
    y: float
    z: float


#: ITU-R P.2109-1 Table 3.
P2109_COEFFICIENTS: dict[str, _BelCoefficients] = {
    "traditional": _BelCoefficients(12.64, 3.72, 0.96, 9.6, 2.0, 9.1, -3.0, 4.5, -2.0),
    "thermally_efficient": _BelCoefficients(28.19, -3.00, 8.48, 13.5, 3.8, 27.8, -2.9, 9.4, -2.1),
}

#: Maximum coupling loss of each radio access (dB), the sources above.
MCL_DB = {"LTE": 144.0, "LTE-M": 156.0, "NB-IoT": 164.0}


def building_entry_loss_db(
    freq_mhz: float,
    building: BuildingType = "traditional",
    probability: float = 0.5,
    elevation_deg: float = 0.0,
) -> float:
    """ITU-R P.2109 building entry loss (dB) not exceeded with ``probability`` (0–1; 0.5 the
    median) at ``freq_mhz`` (80 MHz–100 GHz)."""
    if building not in P2109_COEFFICIENTS:
        raise GisPlannerError(f"building type {building!r}: one of {', '.join(P2109_COEFFICIENTS)}")
    if not 80.0 <= freq_mhz <= 100_000.0 or not 0.0 < probability < 1.0:
        raise GisPlannerError(
            "building entry loss: ITU-R P.2109 covers 80 MHz–100 GHz and probabilities "
            f"strictly between 0 and 1, not {freq_mhz} MHz at {probability}"
        )
    c = P2109_COEFFICIENTS[building]
    log_f = np.log10(freq_mhz / 1000.0)
    quantile = float(norm.ppf(probability))
    horizontal = c.r + c.s * log_f + c.t * log_f**2
    a = quantile * (c.u + c.v * log_f) + horizontal + 0.212 * abs(elevation_deg)
    b = quantile * (c.y + c.z * log_f) + c.w + c.x * log_f
    return float(10.0 * np.log10(10 ** (a / 10) + 10 ** (b / 10) + 10 ** (-3.0 / 10)))


def iot_extra_budget_db(access: Literal["LTE-M", "NB-IoT"]) -> float:
    """How much weaker than LTE needs an LTE cell's signal may be for ``access`` to serve."""
    return MCL_DB[access] - MCL_DB["LTE"]
