"""Downlink throughput from SINR: 3GPP CQI tables, carrier bandwidth, MIMO layers, overhead, load.

The estimate follows the approximate data rate of 3GPP TS 38.306 §4.1.2:

    rate = layers · (Q_m · R) · N_PRB · 12 · symbols/s · (1 − overhead)

with the modulation order × code rate (bits per resource element and layer) of the CQI a UE
would report at its SINR, times the share of time the carrier sends downlink (TDD) and the
share of the carrier's resources one user gets (the load factor). Every figure is a parameter
of ``ThroughputParams``; their sources are given where they are defined and in
``layers/SOURCES.md``.

SINR → CQI: the highest CQI whose SINR for 10 % block error rate the pixel's SINR reaches. The
thresholds are the AWGN link-level figures of the Vienna LTE simulator as tabulated by Kawser
et al., "Downlink SNR to CQI Mapping for Different Multiple Antenna Techniques in LTE",
International Journal of Information and Electronics Engineering 2(5), 2012 (SISO); they are
the commonly used planning values. Real channels fade, so these are optimistic by a few dB at
a given mean SINR; the load factor is where a planner absorbs that.

Rank: the UE uses the number of layers (1 … ``max_layers``) that gives the most bits, with the
power split evenly over the layers and no inter-layer interference, so each layer sees the SINR
less 10·log10(layers). High ranks then win only at high SINR, as rank adaptation does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from gis_planner.radio.linkbudget import Carrier, LinkBudgetError

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CqiTable:
    """A 4-bit CQI table: the spectral efficiency of CQI 1…15 and the SINR each needs."""

    name: str
    #: Where the efficiencies come from (the 3GPP table).
    source: str
    #: Modulation order × code rate of CQI 1…15 (bits per resource element and layer).
    efficiency: tuple[float, ...]
    #: SINR (dB) at which CQI 1…15 reaches 10 % BLER; increasing.
    min_sinr_db: tuple[float, ...]


#: SINR (dB) for 10 % BLER of CQI 1…15 of the 64QAM table (Kawser et al. 2012, see above).
_SINR_64QAM_DB = (
    -6.7, -4.7, -2.3, 0.2, 2.4, 4.3, 5.9, 8.1, 10.3, 11.7, 14.1, 16.3, 18.7, 21.0, 22.7,
)  # fmt: skip
_EFFICIENCY_64QAM = (
    0.1523, 0.2344, 0.3770, 0.6016, 0.8770, 1.1758, 1.4766, 1.9141, 2.4063, 2.7305, 3.3223,
    3.9023, 4.5234, 5.1152, 5.5547,
)  # fmt: skip

#: TS 36.213 Table 7.2.3-1 (LTE, QPSK to 64QAM).
LTE_CQI = CqiTable("lte_64qam", "3GPP TS 36.213 Table 7.2.3-1", _EFFICIENCY_64QAM, _SINR_64QAM_DB)
#: TS 38.214 Table 5.2.2.1-2 (NR CQI table 1): the same entries as the LTE table.
NR_CQI_64QAM = CqiTable(
    "nr_64qam", "3GPP TS 38.214 Table 5.2.2.1-2", _EFFICIENCY_64QAM, _SINR_64QAM_DB
)
#: TS 38.214 Table 5.2.2.1-3 (NR CQI table 2, up to 256QAM). CQI 1–11 are entries of the 64QAM
#: table (same modulation and code rate) and take their SINR; CQI 12 (256QAM, rate 711/1024)
#: has the efficiency of 64QAM CQI 15 and takes its 22.7 dB; CQI 13–15 have no published
#: counterpart and are extrapolated at the slope of the top 64QAM entries, 4.0 dB per
#: 1.0313 bit (CQI 13 → 15: 18.7 → 22.7 dB): 22.7 + 3.88·(efficiency − 5.5547) dB.
NR_CQI_256QAM = CqiTable(
    "nr_256qam",
    "3GPP TS 38.214 Table 5.2.2.1-3",
    (
        0.1523, 0.3770, 0.8770, 1.4766, 1.9141, 2.4063, 2.7305, 3.3223, 3.9023, 4.5234, 5.1152,
        5.5547, 6.2266, 6.9141, 7.4063,
    ),
    (-6.7, -2.3, 2.4, 5.9, 8.1, 10.3, 11.7, 14.1, 16.3, 18.7, 21.0, 22.7, 25.3, 28.0, 29.9),
)  # fmt: skip

#: OFDM symbols per slot (normal cyclic prefix), TS 38.211 §4.3.2 / TS 36.211 §6.2.3.
SYMBOLS_PER_SLOT = 14
#: LTE's subcarrier spacing: one 1 ms subframe holds 14 symbols.
LTE_SUBCARRIER_SPACING_KHZ = 15


@dataclass(frozen=True)
class ThroughputParams:
    """What turns a SINR into the downlink throughput one user gets (defaults and sources)."""

    #: Downlink MIMO layers: 2 for LTE (2×2, the deployed norm and UE category 4's maximum),
    #: 4 for NR in FR1 (TS 38.101-1 §7.2 requires 4 receive antennas in n77/n78/n79).
    lte_max_layers: int = 2
    nr_max_layers: int = 4
    #: Share of LTE resource elements not carrying user data: 2-port CRS 16 of 168 RE a PRB
    #: pair (9.5 %), a 2-symbol control region 20 more (11.9 %), synchronisation, broadcast and
    #: system information about 3 %: 0.25.
    lte_overhead: float = 0.25
    #: NR FR1 downlink overhead of TS 38.306 §4.1.2 (0.14).
    nr_overhead: float = 0.14
    #: NR CQI table: 256QAM (table 2, what n78 networks configure) or 64QAM (table 1).
    nr_cqi_table: Literal["256qam", "64qam"] = "256qam"
    #: NR numerology of the cells (30 kHz: the n78 norm, as the link budget assumes).
    nr_subcarrier_spacing_khz: int = 30
    #: Share of a carrier's resources one user gets (the load factor): 0.5, a cell busy half
    #: of the time in the busy hour, or two users sharing it. A planning assumption.
    user_share: float = 0.5
    #: Bands (MHz) used in TDD: B40 (2300 MHz) and n78 (3500 MHz); the others are FDD.
    tdd_bands_mhz: tuple[float, ...] = (2300.0, 3500.0)
    #: Share of TDD time on the downlink: NR DDDSU with a 10:2:2 special slot
    #: (3 + 10/14 of 5 slots) and LTE configuration 2 with special subframe 7 (the same): 0.74.
    tdd_downlink_share: float = 0.74

    def __post_init__(self) -> None:
        for name in ("user_share", "tdd_downlink_share"):
            if not 0 < getattr(self, name) <= 1:
                raise LinkBudgetError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        for name in ("lte_overhead", "nr_overhead"):
            if not 0 <= getattr(self, name) < 1:
                raise LinkBudgetError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if min(self.lte_max_layers, self.nr_max_layers) < 1:
            raise LinkBudgetError("MIMO layers must be at least 1")

    def cqi_table(self, technology: str) -> CqiTable:
        if technology == "4G":
            return LTE_CQI
        if technology == "5G":
            return NR_CQI_256QAM if self.nr_cqi_table == "256qam" else NR_CQI_64QAM
        raise LinkBudgetError(f"no throughput model for {technology!r} (4G and 5G only)")

    def max_layers(self, technology: str) -> int:
        return self.lte_max_layers if technology == "4G" else self.nr_max_layers

    def overhead(self, technology: str) -> float:
        return self.lte_overhead if technology == "4G" else self.nr_overhead


def cqi_index(sinr_db: npt.ArrayLike, table: CqiTable) -> npt.NDArray[np.int64]:
    """The CQI (0 = out of range) a UE reports at ``sinr_db``: the highest whose SINR it
    reaches."""
    return np.searchsorted(np.asarray(table.min_sinr_db), np.asarray(sinr_db), side="right")


def spectral_efficiency(sinr_db: npt.ArrayLike, table: CqiTable) -> F64:
    """Bits per resource element and layer at ``sinr_db`` (0 below CQI 1)."""
    efficiency = np.concatenate([[0.0], table.efficiency])
    return efficiency[cqi_index(sinr_db, table)]


def link_efficiency(sinr_db: npt.ArrayLike, table: CqiTable, max_layers: int) -> F64:
    """Bits per resource element over the layers of the best rank (see the module's note)."""
    sinr = np.asarray(sinr_db, dtype=np.float64)
    best = np.zeros(sinr.shape)
    for layers in range(1, max_layers + 1):
        per_layer = spectral_efficiency(sinr - 10.0 * np.log10(layers), table)
        np.maximum(best, layers * per_layer, out=best)
    return best


def resource_elements_per_s(
    technology: str, bandwidth_mhz: float, subcarrier_spacing_khz: int = 30
) -> float:
    """Resource elements a carrier sends per second: N_PRB · 12 subcarriers · symbols/s, the
    N_PRB of TS 36.101 Table 5.6-1 (LTE) or TS 38.101-1 Table 5.3.2-1 (NR)."""
    if technology not in ("4G", "5G"):
        raise LinkBudgetError(f"no throughput model for {technology!r} (4G and 5G only)")
    spacing = LTE_SUBCARRIER_SPACING_KHZ if technology == "4G" else subcarrier_spacing_khz
    carrier = Carrier(technology, bandwidth_mhz, spacing)
    # 14 symbols a slot, 2^μ slots a millisecond (μ = spacing / 15 kHz as a power of two)
    symbols_per_s = SYMBOLS_PER_SLOT * 1000.0 * spacing / LTE_SUBCARRIER_SPACING_KHZ
    return carrier.n_subcarriers * symbols_per_s


def carrier_mbps_per_bit(
    technology: str, bandwidth_mhz: float, band_mhz: float, params: ThroughputParams
) -> float:
    """What one bit per resource element is worth to one user of the carrier (Mb/s): its
    resource elements per second, less the overhead, times the downlink and user shares."""
    downlink = (
        params.tdd_downlink_share
        if any(np.isclose(band_mhz, b) for b in params.tdd_bands_mhz)
        else 1.0
    )
    res = resource_elements_per_s(technology, bandwidth_mhz, params.nr_subcarrier_spacing_khz)
    return res * (1.0 - params.overhead(technology)) * downlink * params.user_share / 1e6


def downlink_mbps(
    sinr_db: npt.ArrayLike,
    mbps_per_bit: npt.ArrayLike,
    technology: str,
    params: ThroughputParams,
) -> F64:
    """Downlink throughput (Mb/s) one user gets at ``sinr_db`` from a carrier worth
    ``mbps_per_bit`` (``carrier_mbps_per_bit``, per pixel or one value)."""
    table = params.cqi_table(technology)
    bits = link_efficiency(sinr_db, table, params.max_layers(technology))
    return bits * np.asarray(mbps_per_bit, dtype=np.float64)
