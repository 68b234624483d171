"""Diffraction over terrain, ITU-R P.526-16: the knife edge and the Bullington general path.

* Single knife edge (§4.1): ν = h·√(2/λ·(1/d1 + 1/d2)) and its approximation of the Fresnel
  integral's loss, J(ν) = 6.9 + 20·log10(√((ν − 0.1)² + 1) + ν − 0.1) dB for ν > −0.78, 0 below.
* General path (§4.5.1, the Bullington model): the profile is replaced by one knife edge at the
  intersection of the transmitter's and the receiver's horizon rays (beyond line of sight), or
  by the most obstructing point (in line of sight). Bullington is chosen over Deygout (§4.4's
  cascade of edges) because it needs only the two horizons of a path: along a ray from the
  transmitter the transmitter's horizon is a running maximum, and the receiver's is the tangent
  from the receiver to the upper convex hull of the profile so far, which grows by one point a
  step. A whole ray of receivers is then computed in one pass (``bullington_sweep``), where
  Deygout would search each receiver's profile anew for its principal edge and its sub-paths.
  Bullington underestimates the loss of several well-separated edges; P.526 §4.5.2 corrects
  it within the delta-Bullington method, which the coverage engine's use of it follows.

Earth curvature: heights are taken in the plane tangent at the transmitter, lowered by
d²/(2·k·a) (effective earth radius k·a, k = 4/3 by default). A point's height above a straight
path in that frame is exactly P.526's h + d1·d2/(2·k·a) above the chord.

A ray's result is ``u = ν·√λ`` (√m), independent of the frequency: the geometry of one mast
serves every band; the loss of a carrier is J(u/√λ).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

from gis_planner.defaults import DEFAULT_K_FACTOR
from gis_planner.radio.propagation import C_M_S

#: Mean earth radius (m).
EARTH_RADIUS_M = 6_371_000.0
#: P.526's J(ν) holds for ν > −0.78; below it the loss is taken as zero.
NU_MIN = -0.78
#: ``u`` of a receiver with no point between it and the transmitter: far below any loss.
NO_OBSTACLE_U = -1.0e3


def curvature_per_m(k_factor: float = DEFAULT_K_FACTOR) -> float:
    """1/(2·k·a): the drop of the earth below the transmitter's tangent plane is d²·this."""
    return 1.0 / (2.0 * k_factor * EARTH_RADIUS_M)


@numba.njit(cache=True, fastmath=True, nogil=True)
def knife_edge_loss_db(nu: float) -> float:
    """J(ν), P.526-16 §4.1: diffraction loss (dB) of a single knife edge."""
    if nu <= NU_MIN:
        return 0.0
    v = nu - 0.1
    return 6.9 + 20.0 * math.log10(math.sqrt(v * v + 1.0) + v)


def knife_edge_nu(height_m: float, d1_m: float, d2_m: float, wavelength_m: float) -> float:
    """Fresnel–Kirchhoff ν of an edge ``height_m`` above the direct path (P.526-16 §4.1)."""
    return height_m * math.sqrt(2.0 / wavelength_m * (1.0 / d1_m + 1.0 / d2_m))


@numba.njit(cache=True, fastmath=True, nogil=True)
def _u_at(x_m: float, y_m: float, y_tx_m: float, y_rx_m: float, d_m: float) -> float:
    """ν·√λ of the point (x, y) for the straight path from (0, y_tx) to (d, y_rx)."""
    above = y_m - (y_tx_m + (y_rx_m - y_tx_m) * x_m / d_m)
    return above * math.sqrt(2.0 * d_m / (x_m * (d_m - x_m)))


@numba.njit(cache=True, fastmath=True, nogil=True)
def bullington_sweep(
    obstacle_m: npt.NDArray[np.float64],
    rx_ground_m: npt.NDArray[np.float64],
    tx_height_m: float,
    rx_height_m: float,
    step_m: float,
    curvature: float,
    first_rx: int,
    hull_x: npt.NDArray[np.float64],
    hull_y: npt.NDArray[np.float64],
    u_out: npt.NDArray[np.float64],
) -> None:
    """Bullington's ν·√λ for a receiver at every sample of a ray, in one pass.

    Sample k lies k·``step_m`` from the transmitter, whose antenna is ``tx_height_m`` above
    height 0. ``obstacle_m[k]`` is what stands at sample k (terrain and clutter) and
    ``rx_ground_m[k]`` the ground a receiver there stands on (its own clutter is not an
    obstacle of its path), both relative to the transmitter's ground; ``curvature`` is
    1/(2·k·a). ``hull_x``/``hull_y`` are scratch arrays as long as the ray. ``u_out[k]``
    receives ν·√λ of the receiver at sample k over samples 1 … k−1, from ``first_rx`` on
    (the samples before it only extend the horizons; their ``u_out`` is ``NO_OBSTACLE_U``).
    """
    n = obstacle_m.shape[0]
    y_tx = tx_height_m
    hull_n = 0
    # the receiver's horizon point on the hull: it moves little from one receiver to the next
    tangent = 0
    # transmitter's horizon: the steepest slope from the antenna to a point so far
    s_tim = -np.inf
    tx_hor_x = 0.0
    tx_hor_y = 0.0
    u_out[0] = NO_OBSTACLE_U
    for k in range(1, n):
        d = k * step_m
        drop = d * d * curvature
        if hull_n == 0 or k < first_rx:
            u_out[k] = NO_OBSTACLE_U
        else:
            y_rx = rx_ground_m[k] + rx_height_m - drop
            # receiver's horizon: the tangent from it to the upper hull. The slope from the
            # receiver is unimodal along the concave chain: walk from the last tangent to
            # the maximum, comparing slopes as cross products (distances are positive)
            tangent = min(tangent, hull_n - 1)
            while tangent + 1 < hull_n and (hull_y[tangent + 1] - y_rx) * (d - hull_x[tangent]) >= (
                hull_y[tangent] - y_rx
            ) * (d - hull_x[tangent + 1]):
                tangent += 1
            while tangent > 0 and (hull_y[tangent - 1] - y_rx) * (d - hull_x[tangent]) > (
                hull_y[tangent] - y_rx
            ) * (d - hull_x[tangent - 1]):
                tangent -= 1
            s_rim = (hull_y[tangent] - y_rx) / (d - hull_x[tangent])
            s_tr = (y_rx - y_tx) / d
            if s_tim < s_tr or s_tim + s_rim <= 0.0:
                # line of sight: the most obstructing of the two horizon points
                u_tx = _u_at(tx_hor_x, tx_hor_y, y_tx, y_rx, d)
                u_rx = _u_at(hull_x[tangent], hull_y[tangent], y_tx, y_rx, d)
                u_out[k] = max(u_tx, u_rx)
            else:
                # beyond it: the edge where the two horizon rays meet
                d_b = (y_rx - y_tx + s_rim * d) / (s_tim + s_rim)
                d_b = min(max(d_b, 1e-3 * step_m), d - 1e-3 * step_m)
                h_b = y_tx + s_tim * d_b - (y_tx * (d - d_b) + y_rx * d_b) / d
                u_out[k] = h_b * math.sqrt(2.0 * d / (d_b * (d - d_b)))
        # sample k becomes a point of the paths to the samples beyond it
        y_k = obstacle_m[k] - drop
        slope = (y_k - y_tx) / d
        if slope > s_tim:
            s_tim = slope
            tx_hor_x = d
            tx_hor_y = y_k
        while hull_n >= 2:
            ox = hull_x[hull_n - 2]
            oy = hull_y[hull_n - 2]
            cross = (hull_x[hull_n - 1] - ox) * (y_k - oy) - (hull_y[hull_n - 1] - oy) * (d - ox)
            if cross < 0.0:
                break
            hull_n -= 1
        hull_x[hull_n] = d
        hull_y[hull_n] = y_k
        hull_n += 1


def bullington_loss_db(
    obstacle_m: npt.ArrayLike,
    rx_ground_m: npt.ArrayLike,
    tx_height_m: float,
    rx_height_m: float,
    step_m: float,
    freq_mhz: float,
    k_factor: float = DEFAULT_K_FACTOR,
) -> npt.NDArray[np.float64]:
    """Bullington diffraction loss (dB) of a receiver at every sample of one profile."""
    obstacle = np.ascontiguousarray(obstacle_m, dtype=np.float64)
    ground = np.ascontiguousarray(rx_ground_m, dtype=np.float64)
    n = len(obstacle)
    u = np.empty(n)
    hull_x, hull_y = np.empty(n), np.empty(n)
    bullington_sweep(
        obstacle, ground, tx_height_m, rx_height_m, step_m, curvature_per_m(k_factor), 1,
        hull_x, hull_y, u,
    )  # fmt: skip
    inv_sqrt_lambda = 1.0 / math.sqrt(float(wavelength_m(freq_mhz)))
    return np.array([knife_edge_loss_db(float(x) * inv_sqrt_lambda) for x in u])


def wavelength_m(freq_mhz: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Free-space wavelength of carriers."""
    return C_M_S / (np.asarray(freq_mhz, dtype=np.float64) * 1e6)
