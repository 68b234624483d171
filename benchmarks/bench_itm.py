"""The Longley–Rice ITM of one hop against itmlogic, in the same process.

Profiles of 201, 2,001 and 20,001 samples (the link profile's most) over 50 km of rough terrain
at 8 GHz; each figure is the median of repeated predictions (reference attenuation and one
quantile), printed with itmlogic's time for the same inputs and the share ITM takes of the
whole link profile (``radio.linkprofile.analyse_profile``).

Run: ``python -m benchmarks.bench_itm``.
"""

from __future__ import annotations

import os

import numpy as np

from benchmarks.harness import measure, print_table
from gis_planner.radio.itm import ItmParams, itm_point_to_point
from gis_planner.radio.linkprofile import LinkParams, analyse_profile
from tests.test_itm import itmlogic_loss_db

LENGTH_M = 50_000.0
FREQ_MHZ = 8000.0
HEIGHTS_M = (30.0, 30.0)


def row(samples: int, params: ItmParams) -> tuple[str, ...]:
    """One profile's figures: ITM, itmlogic, their ratio and difference, ITM's share."""
    walk = np.cumsum(np.random.default_rng(samples).normal(0.0, 1.0, samples))
    elevation = 20.0 + 150.0 * (walk - walk.min()) / np.ptp(walk)
    step = LENGTH_M / (samples - 1)
    ours, result = measure(lambda: itm_point_to_point(elevation, step, *HEIGHTS_M, params))
    theirs, loss = measure(lambda: itmlogic_loss_db(elevation, step, HEIGHTS_M, params))
    distance = np.linspace(0.0, LENGTH_M, samples)
    link = LinkParams(params.freq_mhz / 1000.0)
    whole, _ = measure(lambda: analyse_profile(distance, elevation, *HEIGHTS_M, link))
    return (
        f"{samples:,}", f"{ours.median_s * 1e3:.2f}", f"{theirs.median_s * 1e3:.2f}",
        f"{theirs.median_s / ours.median_s:.1f}×", f"{result.basic_loss_db - loss:+.3f}",
        f"{ours.median_s / whole.median_s:.0%}",
    )  # fmt: skip


def main() -> None:
    params = ItmParams(FREQ_MHZ)
    print_table(
        f"ITM over {LENGTH_M / 1000:g} km at {FREQ_MHZ:g} MHz (load {os.getloadavg()[0]:.1f})",
        ("samples", "ITM (ms)", "itmlogic (ms)", "speed-up", "Δ loss (dB)", "share of profile"),
        [row(samples, params) for samples in (201, 2001, 20_001)],
    )


if __name__ == "__main__":
    main()
