"""Link budget: EIRP of a cell, reference-signal power per resource element, thermal noise.

RSRP (LTE) and SS-RSRP (NR) are powers per resource element: the carrier's transmit power is
taken as spread evenly over its subcarriers (N_RB × 12), the usual planning assumption without
reference-signal boosting. For the legacy technologies the "reference" power is the pilot:
the 3G CPICH at 10 % of the carrier power over 3.84 MHz (RSCP) and the full 2G BCCH carrier
over 200 kHz (RxLev).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gis_planner.errors import GisPlannerError

#: Thermal noise density kT at 290 K: 10·log10(1.380649e-23 J/K · 290 K / 1 mW) = −173.98 dBm/Hz.
THERMAL_NOISE_DBM_HZ = float(10.0 * np.log10(1.380649e-23 * 290.0 * 1e3))
#: Receiver (UE) antenna height of every coverage figure.
UE_HEIGHT_M = 1.5
#: Default UE noise figure (3GPP TR 36.942 / 38.802 use 7–9 dB).
UE_NOISE_FIGURE_DB = 7.0

#: LTE transmission bandwidth configuration N_RB, 3GPP TS 36.101 Table 5.6-1.
LTE_N_RB: dict[float, int] = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}
#: NR FR1 maximum N_RB per subcarrier spacing (kHz) and bandwidth, TS 38.101-1 Table 5.3.2-1.
NR_N_RB: dict[int, dict[float, int]] = {
    15: {5: 25, 10: 52, 15: 79, 20: 106, 25: 133, 30: 160, 40: 216, 50: 270},
    30: {5: 11, 10: 24, 15: 38, 20: 51, 25: 65, 30: 78, 40: 106, 50: 133, 60: 162, 70: 189,
         80: 217, 90: 245, 100: 273},
    60: {10: 11, 15: 18, 20: 24, 25: 31, 30: 38, 40: 51, 50: 65, 60: 79, 70: 93, 80: 107,
         90: 121, 100: 135},
}  # fmt: skip
#: Share of a 3G carrier's power on the CPICH (10 %, the common setting).
CPICH_SHARE_DB = -10.0


class LinkBudgetError(GisPlannerError, ValueError):
    """A carrier the link budget cannot describe (unknown technology or bandwidth)."""


@dataclass(frozen=True)
class Carrier:
    """A cell's carrier: technology, bandwidth and (NR) subcarrier spacing."""

    technology: str
    bandwidth_mhz: float
    #: NR numerology; LTE is always 15 kHz. Default 30 kHz, the n78 TDD norm.
    subcarrier_spacing_khz: int = 30

    @property
    def n_subcarriers(self) -> int:
        """Subcarriers the carrier power is spread over (1 for the pilot of 2G/3G)."""
        if self.technology == "4G":
            n_rb = LTE_N_RB.get(round(self.bandwidth_mhz, 1))
            if n_rb is None:
                raise LinkBudgetError(
                    f"LTE bandwidth {self.bandwidth_mhz} MHz is not one of {sorted(LTE_N_RB)} MHz"
                )
            return 12 * n_rb
        if self.technology == "5G":
            table = NR_N_RB.get(self.subcarrier_spacing_khz)
            if table is None:
                raise LinkBudgetError(
                    f"NR subcarrier spacing {self.subcarrier_spacing_khz} kHz is not one of "
                    f"{sorted(NR_N_RB)} kHz"
                )
            n_rb = table.get(round(self.bandwidth_mhz))
            if n_rb is None or round(self.bandwidth_mhz) != self.bandwidth_mhz:
                raise LinkBudgetError(
                    f"NR bandwidth {self.bandwidth_mhz} MHz at {self.subcarrier_spacing_khz} kHz "
                    f"is not one of {sorted(table)} MHz"
                )
            return 12 * n_rb
        if self.technology in ("2G", "3G"):
            return 1
        raise LinkBudgetError(f"unknown technology {self.technology!r}")

    @property
    def reference_share_db(self) -> float:
        """Reference-signal power relative to the carrier's total power."""
        if self.technology == "3G":
            return CPICH_SHARE_DB
        return float(-10.0 * np.log10(self.n_subcarriers))

    @property
    def noise_bandwidth_hz(self) -> float:
        """Bandwidth the reference signal is measured in (one subcarrier for LTE/NR)."""
        if self.technology == "4G":
            return 15_000.0
        if self.technology == "5G":
            return self.subcarrier_spacing_khz * 1000.0
        return 3.84e6 if self.technology == "3G" else 200_000.0


def thermal_noise_dbm(bandwidth_hz: float, noise_figure_db: float = 0.0) -> float:
    """kTB at 290 K plus the receiver noise figure: −173.98 dBm/Hz + 10·log10(B) + NF."""
    if bandwidth_hz <= 0:
        raise LinkBudgetError(f"noise bandwidth must be positive, got {bandwidth_hz} Hz")
    return float(THERMAL_NOISE_DBM_HZ + 10.0 * np.log10(bandwidth_hz) + noise_figure_db)


@dataclass(frozen=True)
class LinkBudget:
    """The transmit side of one cell, per resource element, and the receiver's noise."""

    tx_power_dbm: float
    antenna_gain_dbi: float
    feeder_loss_db: float
    carrier: Carrier
    noise_figure_db: float = UE_NOISE_FIGURE_DB

    @property
    def eirp_dbm(self) -> float:
        """EIRP of the whole carrier at boresight."""
        return self.tx_power_dbm + self.antenna_gain_dbi - self.feeder_loss_db

    @property
    def reference_eirp_dbm(self) -> float:
        """EIRP of one resource element (LTE/NR) or of the pilot (2G/3G) at boresight."""
        return self.eirp_dbm + self.carrier.reference_share_db

    @property
    def noise_dbm(self) -> float:
        """Noise in the bandwidth of one resource element (or of the pilot), with the NF."""
        return thermal_noise_dbm(self.carrier.noise_bandwidth_hz, self.noise_figure_db)

    def rsrp_dbm(self, path_loss_db: float, antenna_attenuation_db: float = 0.0) -> float:
        """Received reference power: reference EIRP − antenna attenuation − path loss."""
        return self.reference_eirp_dbm - antenna_attenuation_db - path_loss_db
