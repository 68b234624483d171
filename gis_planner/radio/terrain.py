"""Rays from a mast over a terrain window: the Bullington ν·√λ of every pixel of a tile.

The rays leave the mast at equal angles over the bearings the tile is seen under, sample the
terrain every pixel's length (bilinear) and go through ``radio.diffraction.bullington_sweep``
once each; a pixel takes the value of the nearest ray at its distance. The same sweep over a
level profile gives the reference the terrain's excess loss is measured from.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

from gis_planner.radio.diffraction import NO_OBSTACLE_U, bullington_sweep

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


@numba.njit(cache=True, nogil=True)
def _sample(values: F32, x0: float, y1: float, res: float, x: float, y: float) -> float:
    """Bilinear value at (x, y), clamped to the window. Written as a + t·(b − a), which a level
    surface leaves exactly level (no fast-math here: reassociation could break that)."""
    rows, cols = values.shape
    fc = min(max((x - x0) / res - 0.5, 0.0), cols - 1.0)
    fr = min(max((y1 - y) / res - 0.5, 0.0), rows - 1.0)
    c = min(int(fc), max(cols - 2, 0))
    r = min(int(fr), max(rows - 2, 0))
    tc = fc - c
    tr = fr - r
    c1 = min(c + 1, cols - 1)
    r1 = min(r + 1, rows - 1)
    a = values[r, c] + tc * (values[r, c1] - values[r, c])
    b = values[r1, c] + tc * (values[r1, c1] - values[r1, c])
    return a + tr * (b - a)


@numba.njit(cache=True, fastmath=True, nogil=True)
def _distance_and_ray(
    dx: float, dy: float, d_theta: float, m_lo: int, n_rays: int, count: int
) -> tuple[float, int]:
    """A pixel's distance from the mast and its nearest ray among the tile's ``count``."""
    theta = math.atan2(dx, dy)
    if theta < 0.0:
        theta += 2.0 * np.pi
    ray = (int(theta / d_theta + 0.5) - m_lo) % n_rays
    return math.sqrt(dx * dx + dy * dy), min(ray, count - 1)


@numba.njit(cache=True, nogil=True)
def sweep_mast(
    ground: F32,
    obstacle: F32,
    wx0: float,
    wy1: float,
    res: float,
    tx_x: float,
    tx_y: float,
    tx_height_m: float,
    rx_height_m: float,
    curvature: float,
    reach_m: float,
    bearing_reach_m: F64,
    n_rays: int,
    x0: float,
    y1: float,
    mask: npt.NDArray[np.bool_],
    has_clutter: bool,
    u_out: F32,
    level_out: F32,
) -> None:
    """ν·√λ over the real and the level profile from a mast to every pixel of a tile.

    ``ground``/``obstacle`` (ground plus clutter) are the terrain window with its first pixel
    centre at (``wx0`` + res/2, ``wy1`` − res/2); the mast is at (``tx_x``, ``tx_y``),
    ``tx_height_m`` above its ground, and reaches ``reach_m`` (``bearing_reach_m`` per degree of
    bearing); the tile's first pixel centre is at (``x0`` + res/2, ``y1`` − res/2). Rays
    ``2π/n_rays`` apart cross the tile; each pixel of ``mask`` within reach takes the values of
    the nearest ray at its distance into ``u_out`` and ``level_out`` (``NO_OBSTACLE_U``
    elsewhere).
    """
    rows, cols = mask.shape
    two_pi = 2.0 * np.pi
    d_theta = two_pi / n_rays
    n_bearings = bearing_reach_m.shape[0]
    u_out[:, :] = NO_OBSTACLE_U
    level_out[:, :] = NO_OBSTACLE_U
    g_tx = _sample(ground, wx0, wy1, res, tx_x, tx_y)
    # the rays crossing the tile: all of them from a mast in or next to it, else the bearings
    # between its corners' (the tile is convex and seen under less than π)
    x1 = x0 + cols * res
    y0 = y1 - rows * res
    d_far = 0.0
    for cx in (x0, x1):
        for cy in (y0, y1):
            d_far = max(d_far, math.hypot(cx - tx_x, cy - tx_y))
    # receivers nearer than the tile only extend the horizons
    d_near = math.hypot(max(x0 - tx_x, 0.0, tx_x - x1), max(y0 - tx_y, 0.0, tx_y - y1))
    first_rx = max(1, int(d_near / res) - 1)
    if x0 - res <= tx_x <= x1 + res and y0 - res <= tx_y <= y1 + res:
        m_lo = 0
        count = n_rays
    else:
        centre = math.atan2((x0 + x1) / 2 - tx_x, (y0 + y1) / 2 - tx_y)
        rel_lo = np.inf
        rel_hi = -np.inf
        for cx in (x0, x1):
            for cy in (y0, y1):
                rel = math.atan2(cx - tx_x, cy - tx_y) - centre
                rel = (rel + np.pi) % two_pi - np.pi
                rel_lo = min(rel_lo, rel)
                rel_hi = max(rel_hi, rel)
        m_lo = math.floor((centre + rel_lo) / d_theta) - 1
        count = min(math.ceil((centre + rel_hi) / d_theta) + 1 - m_lo + 1, n_rays)
    # a mast none of whose cells reaches the tile in the directions it is seen under
    farthest = 0.0
    for ray in range(count):
        theta = ((m_lo + ray) % n_rays) * d_theta
        farthest = max(farthest, bearing_reach_m[int(theta / two_pi * n_bearings) % n_bearings])
    if farthest < d_near:
        return
    n = int(min(d_far, reach_m) / res) + 3
    polar = np.empty((count, n))
    length = np.empty(count, dtype=np.int64)
    obstacle_p = np.empty(n)
    ground_p = np.empty(n)
    hull_x = np.empty(n)
    hull_y = np.empty(n)
    for ray in range(count):
        theta = ((m_lo + ray) % n_rays) * d_theta
        sx = math.sin(theta)
        sy = math.cos(theta)
        # no farther than the mast's cells reach in this direction
        along = bearing_reach_m[int(theta / two_pi * n_bearings) % n_bearings]
        m = min(int(min(d_far, along) / res) + 3, n)
        length[ray] = m
        for k in range(m):
            px = tx_x + k * res * sx
            py = tx_y + k * res * sy
            ground_p[k] = _sample(ground, wx0, wy1, res, px, py) - g_tx
            obstacle_p[k] = (
                _sample(obstacle, wx0, wy1, res, px, py) - g_tx if has_clutter else ground_p[k]
            )
        bullington_sweep(
            obstacle_p[:m],
            ground_p[:m],
            tx_height_m,
            rx_height_m,
            res,
            curvature,
            first_rx,
            hull_x,
            hull_y,
            polar[ray, :m],
        )
    # the level profile: the same sweep over zeros, so that level terrain gives the same numbers
    level = np.empty(n)
    obstacle_p[:] = 0.0
    ground_p[:] = 0.0
    bullington_sweep(
        obstacle_p,
        ground_p,
        tx_height_m,
        rx_height_m,
        res,
        curvature,
        first_rx,
        hull_x,
        hull_y,
        level,
    )
    for i in range(rows):
        dy = y1 - (i + 0.5) * res - tx_y
        if abs(dy) > reach_m:
            continue
        # the row's chord of the mast's reach
        half = math.sqrt(reach_m * reach_m - dy * dy)
        j_lo = max(0, math.ceil((tx_x - half - x0) / res - 0.5))
        j_hi = min(cols, math.floor((tx_x + half - x0) / res - 0.5) + 1)
        for j in range(j_lo, j_hi):
            if not mask[i, j]:
                continue
            dx = x0 + (j + 0.5) * res - tx_x
            d, ray = _distance_and_ray(dx, dy, d_theta, m_lo, n_rays, count)
            t = d / res
            k = int(t)
            if d > reach_m or k + 1 >= length[ray]:
                # beyond every cell of the mast: nothing to add
                continue
            f = t - k
            u_out[i, j] = polar[ray, k] + f * (polar[ray, k + 1] - polar[ray, k])
            level_out[i, j] = level[k] + f * (level[k + 1] - level[k])
