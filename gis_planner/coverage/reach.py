"""Where a cell can matter: antenna attenuation tables and each cell's reach per direction.

The kernel reads antenna patterns as attenuation tables indexed by the cosine of the angle off
boresight (no trigonometry per pixel), and evaluates a cell only inside its reach: per side and
bin of cos φ, the farthest distance at which a lower bound of its path loss and attenuation
still leaves its level at the floor. A sector is thus evaluated in the lobe-shaped area it can
serve, not on the whole disc.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from gis_planner.radio.antenna import AntennaPattern

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

#: Samples of the horizontal tables over cos φ ∈ [−1, 1].
N_COS = 4001
#: Bins of cos φ per side of the directional reach.
N_REACH_BINS = 100


def pattern_tables(patterns: list[AntennaPattern]) -> tuple[F64, F64, F64]:
    """Horizontal tables (pattern, side, cos φ), vertical tables (pattern, θ) and caps."""
    cos_grid = np.linspace(-1.0, 1.0, N_COS)
    phi = np.degrees(np.arccos(cos_grid))
    step = 360.0 / len(patterns[0].horizontal_db) if patterns else 0.1
    h = np.empty((len(patterns), 2, N_COS))
    for i, p in enumerate(patterns):
        angles = np.arange(len(p.horizontal_db)) * step
        # side 0: clockwise from boresight (φ in [0, 180]); side 1: anticlockwise (360 − φ)
        h[i, 0] = np.interp(phi, angles, p.horizontal_db, period=360.0)
        h[i, 1] = np.interp(360.0 - phi, angles, p.horizontal_db, period=360.0)
    v = np.stack([p.vertical_db for p in patterns]) if patterns else np.empty((0, 1801))
    caps = np.array([p.max_attenuation_db for p in patterns], dtype=np.float64)
    return h, v, caps


def directional_reach(
    tables: tuple[F32, F32, I64, F64],
    codes: npt.NDArray[np.intp],
    step_m: float,
    budget_db: F64,
    patterns: tuple[F64, F64, F64, npt.NDArray[np.intp]],
    tilt_range_deg: tuple[F64, F64],
    unimodal: npt.NDArray[np.bool_],
) -> F32:
    """Per cell, side and bin of cos φ: the farthest distance its level can reach the floor.

        ``budget_db`` is each cell's reference EIRP minus the floor; ``tables`` the path-loss and
        depression tables with their offsets and distance ranges; ``patterns`` the horizontal and
        vertical tables, their caps and each cell's pattern; ``tilt_range_deg`` the smallest and
        largest tilt over directions (electrical ± mechanical). The attenuation is bounded below
    by the smallest horizontal value of the bin plus, for patterns that fall off monotonically
    from the beam (``unimodal``), the smallest vertical value the tilt range allows at each
    distance, capped; losses are replaced by their lower envelope over farther distances. The
    reach is therefore never short of a pixel the cell reaches at the floor.
    """
    path_loss, depression, offsets, table_range_m = tables
    h_tables, v_tables, caps, pattern = patterns
    tilt_lo, tilt_hi = tilt_range_deg
    # the smallest horizontal attenuation over each bin of cos φ, edges included
    edges = np.linspace(0, N_COS - 1, N_REACH_BINS + 1).round().astype(int)
    bin_min = np.minimum.reduceat(h_tables, edges[:-1], axis=2)
    bin_min = np.minimum(bin_min, h_tables[:, :, edges[1:]])
    lengths = np.round(table_range_m / step_m).astype(np.int64) + 1
    codes, pattern = np.asarray(codes, np.int64), np.asarray(pattern, np.int64)
    tilt_lo, tilt_hi = np.asarray(tilt_lo, np.float64), np.asarray(tilt_hi, np.float64)
    # Cells of the same table, pattern and tilt range have the same lower envelopes: a network
    # has a few hundred such kinds for tens of thousands of cells (tilts are whole degrees),
    # and each envelope is thousands of samples. They are made once a kind.
    kinds = np.column_stack([codes, pattern, tilt_lo, tilt_hi])
    kind = np.unique(kinds, axis=0, return_inverse=True)[1].reshape(-1)
    return _reach(
        path_loss, depression, offsets.astype(np.int64), lengths, codes, step_m,
        np.asarray(budget_db, np.float64), v_tables, caps, bin_min, pattern, tilt_lo, tilt_hi,
        np.asarray(unimodal, np.bool_), kind, np.argsort(kind, kind="stable"),
    )  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _reach(
    path_loss: F32,
    depression: F32,
    offsets: I64,
    lengths: I64,
    codes: I64,
    step_m: float,
    budget_db: F64,
    v_tables: F64,
    caps: F64,
    bin_min: F64,
    pattern: I64,
    tilt_lo: F64,
    tilt_hi: F64,
    unimodal: npt.NDArray[np.bool_],
    kind: I64,
    by_kind: I64,
) -> F32:
    # compiled: a network has tens of thousands of cells, each a few thousand table samples
    n_bins = bin_min.shape[2]
    v_angles = np.linspace(-90.0, 90.0, v_tables.shape[1])
    reach = np.zeros((budget_db.shape[0], 2, n_bins), dtype=np.float32)
    with_v = alone = np.empty(0)
    previous = -1
    for cell in by_kind:
        pat = pattern[cell]
        if kind[cell] != previous:
            # the first cell of its kind (``by_kind`` sorts them): the kind's envelopes
            previous = kind[cell]
            start = offsets[codes[cell]]
            length = lengths[codes[cell]]
            loss = path_loss[start : start + length].astype(np.float64)
            dep = depression[start : start + length].astype(np.float64)
            # θ below the beam spans [dep − tilt_hi, dep − tilt_lo]; its smallest |θ| (0 inside)
            with_v = loss.copy()
            if unimodal[pat]:
                low = dep - tilt_hi[cell]
                high = dep - tilt_lo[cell]
                theta = np.where(low > 0.0, low, np.where(high < 0.0, high, 0.0))
                with_v = loss + np.interp(theta, v_angles, v_tables[pat])
            # lower envelopes over farther distances: non-decreasing, so searchable
            alone = loss.copy()
            for k in range(length - 2, -1, -1):
                with_v[k] = min(with_v[k], with_v[k + 1])
                alone[k] = min(alone[k], alone[k + 1])
        # beyond the cap the attenuation is the cap whatever the angles
        capped = np.searchsorted(alone, budget_db[cell] - caps[pat], side="right") - 1
        for side in range(2):
            last = np.searchsorted(with_v, budget_db[cell] - bin_min[pat, side], side="right")
            for b in range(n_bins):
                best = max(last[b] - 1, capped)
                if best >= 0:
                    # single precision halves a national run's scenes; rounded up, a reach is
                    # never short (multiples of the default 5 m step are exact anyway)
                    metres = best * step_m
                    reach[cell, side, b] = np.float32(metres)
                    if reach[cell, side, b] < metres:
                        reach[cell, side, b] = np.nextafter(
                            reach[cell, side, b], np.float32(np.inf)
                        )
    return reach


def reach_extent(reach_m: F32, azimuth_rad: F64) -> F64:
    """Bounding offsets (x_min, x_max, y_min, y_max) of each cell's directional reach."""
    cos_grid = np.linspace(-1.0, 1.0, N_REACH_BINS + 1)
    phi = np.arccos(cos_grid)  # the edges of the bins, side 0 (clockwise)
    # each bin spans two edge angles: take the bin's reach at both
    angles = np.concatenate([phi[:-1], phi[1:], -phi[:-1], -phi[1:]])
    # the arc between sample angles bulges beyond its chord by at most r·(1 − cos(Δ/2))
    slack = reach_m.max(axis=(1, 2)) * (1.0 - np.cos(np.pi / N_REACH_BINS))
    # the sines and cosines by numpy, as before compiling: the same bits to the last
    return _extent(
        reach_m, np.sin(azimuth_rad), np.cos(azimuth_rad), np.sin(angles), np.cos(angles), slack
    )


@numba.njit(cache=True, nogil=True)
def _extent(reach_m: F32, sin_az: F64, cos_az: F64, sin_a: F64, cos_a: F64, slack: F64) -> F64:
    # compiled: through numpy a national network's 700,000 cells × 400 angles made arrays of
    # 2.3 GB each, and took 21 s
    n_bins = reach_m.shape[2]
    extent = np.empty((reach_m.shape[0], 4))
    for cell in range(reach_m.shape[0]):
        x_min = x_max = y_min = y_max = 0.0
        for k in range(4 * n_bins):
            # sides 0 and 1, each at its bins' first edges and then their second ones
            radius = np.float64(reach_m[cell, k // (2 * n_bins), k % n_bins])
            # sin(az + a) and cos(az + a) by the angle-sum identities
            x = radius * (sin_az[cell] * cos_a[k] + cos_az[cell] * sin_a[k])
            y = radius * (cos_az[cell] * cos_a[k] - sin_az[cell] * sin_a[k])
            x_min, x_max = min(x_min, x), max(x_max, x)
            y_min, y_max = min(y_min, y), max(y_max, y)
        extent[cell, 0] = x_min - slack[cell]
        extent[cell, 1] = x_max + slack[cell]
        extent[cell, 2] = y_min - slack[cell]
        extent[cell, 3] = y_max + slack[cell]
    return extent
