"""A scene: one operator × technology's cells as the arrays the coverage kernel reads.

Everything that depends only on a cell is computed here once, vectorised: its link budget, its
propagation model (from its band and environment), its useful range and two tables over
distance — path loss and the angle below the horizon towards the UE — sampled every
``table_step_m`` and shared by the cells of one (model, band, height). Antenna patterns become
attenuation tables indexed by the cosine of the angle off boresight, so the kernel needs no
trigonometry per pixel.

Useful range: a cell serves or interferes at a pixel where its level reaches the floor,
``threshold − margin_db``, within the model's validity range and ``max_range_m``; a weaker
signal neither serves nor counts as interference. The kernel evaluates a cell only where a
lower bound of its path loss and antenna attenuation allows that level (``directional_reach``),
tabulated per direction: a sector is evaluated in the lobe-shaped area it can serve, not on the
whole disc. Closer than the model's minimum distance (1 km for Hata and COST-231, 10 m for
TR 38.901), the link is evaluated at that distance, loss and elevation angle alike:
conservative, and never an extrapolation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from gis_planner.admin import locate
from gis_planner.crs import UTM48N
from gis_planner.errors import GisPlannerError
from gis_planner.radio.antenna import AntennaPattern, sector_pattern
from gis_planner.radio.linkbudget import UE_HEIGHT_M, UE_NOISE_FIGURE_DB, Carrier, thermal_noise_dbm
from gis_planner.radio.propagation import (
    ENVIRONMENT_BY_UNIT_TYPE,
    Environment,
    PropagationModel,
    model_for,
)

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

#: Samples of the horizontal tables over cos φ ∈ [−1, 1].
N_COS = 4001
#: Bins of cos φ per side of the directional reach.
N_REACH_BINS = 100
#: Coverage thresholds per technology (dBm): RSRP / SS-RSRP per DOMAIN.md for 4G/5G; CPICH RSCP
#: for 3G and BCCH RxLev for 2G at common planning levels.
DEFAULT_THRESHOLDS_DBM: tuple[tuple[str, float], ...] = (
    ("2G", -95.0),
    ("3G", -100.0),
    ("4G", -110.0),
    ("5G", -110.0),
)

DEFAULT_MARGINS_DB: tuple[tuple[str, float], ...] = (
    ("2G", 0.0),
    ("3G", 10.0),
    ("4G", 10.0),
    ("5G", 10.0),
)


@dataclass(frozen=True)
class CoverageParams:
    """Parameters of a coverage computation (all recorded in the rasters' metadata)."""

    resolution_m: float = 25.0
    thresholds_dbm: tuple[tuple[str, float], ...] = DEFAULT_THRESHOLDS_DBM
    #: Per technology, cells count down to threshold − margin (servers and interferers). 2G
    #: gets none: its interference depends on a frequency plan the layers do not hold (2G
    #: C/I here treats every cell of a band as co-channel, a worst case), so 2G cells only
    #: matter where they could serve.
    margins_db: tuple[tuple[str, float], ...] = DEFAULT_MARGINS_DB
    #: Hard limit of a cell's reach whatever its budget and model: in a network with sites a
    #: few km apart a cell farther than this neither serves nor interferes noticeably (2G
    #: budgets would otherwise reach across the whole province).
    max_range_m: float = 10_000.0
    ue_height_m: float = UE_HEIGHT_M
    noise_figure_db: float = UE_NOISE_FIGURE_DB
    nr_subcarrier_spacing_khz: int = 30
    table_step_m: float = 5.0
    #: TR 38.901 A_m and SLA_V of the parametric sector pattern.
    front_to_back_db: float = 30.0
    side_lobe_db: float = 30.0
    tile_px: int = 256
    workers: int = 1
    #: How workers run tiles: threads (shared memory) or forked processes.
    parallel: Literal["threads", "processes"] = "threads"
    #: One environment for every cell; None derives it from the admin unit of each cell.
    environment: Environment | None = None
    include_planned: bool = False

    def margin_db(self, technology: str) -> float:
        for tech, value in self.margins_db:
            if tech == technology:
                return value
        raise GisPlannerError(f"no interference margin for technology {technology!r}")

    def threshold_dbm(self, technology: str) -> float:
        for tech, value in self.thresholds_dbm:
            if tech == technology:
                return value
        raise GisPlannerError(f"no coverage threshold for technology {technology!r}")


@dataclass(frozen=True, eq=False)
class Scene:
    """The cells of one operator × technology, ready for the kernel (see the module doc)."""

    operator: str
    technology: str
    threshold_dbm: float
    #: Levels below this neither serve nor interfere (threshold − margin).
    floor_dbm: float
    cell_ids: npt.NDArray[np.object_]
    x_m: F64
    y_m: F64
    #: Reference-signal EIRP at boresight (transmit power share + gain − feeder loss).
    ref_eirp_dbm: F64
    sin_az: F64
    cos_az: F64
    mech_tilt_deg: F64
    elec_tilt_deg: F64
    range_m: F64
    #: Reach per direction: (cell, side, bin of cos φ) → metres (see ``directional_reach``).
    reach_m: F64
    #: Extent of the reach around the cell: x_min, x_max, y_min, y_max offsets (m).
    extent_m: F64
    #: Index of the cell's carrier frequency in ``channel_bands_mhz`` (co-channel = same index).
    channel: I32
    channel_bands_mhz: F64
    noise_mw: F64
    table_offset: I64
    path_loss_table: F32
    depression_table: F32
    table_step_m: float
    pattern: I32
    h_tables: F64
    v_tables: F64
    max_att_db: F64
    #: The distinct models of the scene, and each cell's.
    models: tuple[str, ...]
    model_of_cell: npt.NDArray[np.object_]

    @property
    def n_cells(self) -> int:
        return len(self.cell_ids)


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
) -> F64:
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
    n = len(budget_db)
    # the smallest horizontal attenuation over each bin of cos φ, edges included
    edges = np.linspace(0, N_COS - 1, N_REACH_BINS + 1).round().astype(int)
    bin_min = np.minimum.reduceat(h_tables, edges[:-1], axis=2)
    bin_min = np.minimum(bin_min, h_tables[:, :, edges[1:]])
    v_angles = np.linspace(-90.0, 90.0, v_tables.shape[1])
    reach = np.zeros((n, 2, N_REACH_BINS))
    for code in range(len(offsets)):
        members = np.flatnonzero(codes == code)
        if not len(members):
            continue
        start = offsets[code]
        stop = start + round(table_range_m[code] / step_m) + 1
        loss = path_loss[start:stop].astype(np.float64)
        dep = depression[start:stop].astype(np.float64)
        # θ below the beam spans [dep − tilt_hi, dep − tilt_lo]; its smallest |θ| (0 inside)
        low = dep[None, :] - tilt_hi[members, None]
        high = dep[None, :] - tilt_lo[members, None]
        theta = np.where(low > 0.0, low, np.where(high < 0.0, high, 0.0))
        for row, cell in enumerate(members):
            pat = pattern[cell]
            a_v = np.interp(theta[row], v_angles, v_tables[pat]) if unimodal[pat] else 0.0
            # lower envelope over farther distances: non-decreasing, so searchable
            with_v = np.minimum.accumulate((loss + a_v)[::-1])[::-1]
            alone = np.minimum.accumulate(loss[::-1])[::-1]
            last = np.searchsorted(with_v, budget_db[cell] - bin_min[pat], side="right") - 1
            # beyond the cap the attenuation is the cap whatever the angles
            capped = np.searchsorted(alone, budget_db[cell] - caps[pat], side="right") - 1
            best = np.maximum(last, capped)
            reach[cell] = np.where(best >= 0, best * step_m, 0.0)
    return reach


def reach_extent(reach_m: F64, azimuth_rad: F64) -> F64:
    """Bounding offsets (x_min, x_max, y_min, y_max) of each cell's directional reach."""
    cos_grid = np.linspace(-1.0, 1.0, N_REACH_BINS + 1)
    phi = np.arccos(cos_grid)  # the edges of the bins, side 0 (clockwise)
    # each bin spans two edge angles: take the bin's reach at both
    angles = np.concatenate([phi[:-1], phi[1:], -phi[:-1], -phi[1:]])
    radius = np.concatenate([reach_m[:, 0], reach_m[:, 0], reach_m[:, 1], reach_m[:, 1]], axis=1)
    bearing = azimuth_rad[:, None] + angles[None, :]
    x = radius * np.sin(bearing)
    y = radius * np.cos(bearing)
    # the arc between sample angles bulges beyond its chord by at most r·(1 − cos(Δ/2))
    slack = reach_m.max(axis=(1, 2)) * (1.0 - np.cos(np.pi / N_REACH_BINS))
    return np.stack(
        [
            np.minimum(x.min(axis=1), 0.0) - slack,
            np.maximum(x.max(axis=1), 0.0) + slack,
            np.minimum(y.min(axis=1), 0.0) - slack,
            np.maximum(y.max(axis=1), 0.0) + slack,
        ],
        axis=1,
    )


def cell_patterns(
    cells: pd.DataFrame, params: CoverageParams, antennas: Mapping[str, AntennaPattern]
) -> tuple[list[AntennaPattern], npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """The distinct patterns of ``cells``, each cell's index among them, and which are files.

    A cell with a ``pattern_ref`` uses that pattern (its gain is taken from the cell's
    ``antenna_gain_dbi``: the table is relative); the others the 3GPP parametric pattern of
    their beamwidths.
    """
    h_bw = cells["h_beamwidth_deg"].fillna(65.0).to_numpy(dtype=np.float64)
    v_bw = cells["v_beamwidth_deg"].fillna(10.0).to_numpy(dtype=np.float64)
    refs = (
        cells["pattern_ref"].to_numpy(dtype=object)
        if "pattern_ref" in cells
        else np.full(len(cells), None, dtype=object)
    )
    from_file = np.array([isinstance(r, str) and r != "" for r in refs], dtype=bool)
    missing = sorted({str(r) for r in refs[from_file] if r not in antennas})
    if missing:
        first = cells["cell_id"].to_numpy()[from_file][0]
        raise GisPlannerError(
            f"cells refer to antenna patterns that were not provided: {missing} "
            f"(first cell {first!r})"
        )
    keys = pd.Series(
        [
            f"file:{r}" if f else f"3gpp:{a:g}/{b:g}"
            for r, f, a, b in zip(refs, from_file, h_bw, v_bw, strict=True)
        ]
    )
    codes, _ = pd.factorize(keys)
    first_rows = np.unique(codes, return_index=True)[1]
    patterns = [
        antennas[refs[i]]
        if from_file[i]
        else sector_pattern(0.0, h_bw[i], v_bw[i], params.front_to_back_db, params.side_lobe_db)
        for i in first_rows
    ]
    return patterns, codes, from_file


def build_scene(
    cells: pd.DataFrame,
    x_m: F64,
    y_m: F64,
    environments: npt.NDArray[np.object_],
    params: CoverageParams,
    operator: str,
    technology: str,
    antennas: Mapping[str, AntennaPattern] | None = None,
) -> Scene:
    """The scene of ``cells`` (one operator and technology; catalogue ``cells`` columns).

    ``x_m``/``y_m`` are the cells' UTM 48N coordinates and ``environments`` their propagation
    environments, aligned with the rows of ``cells``; ``antennas`` holds the patterns named by
    the cells' ``pattern_ref`` (read from MSI files by the caller).
    """
    threshold = params.threshold_dbm(technology)
    floor_dbm = threshold - params.margin_db(technology)
    bands = cells["band_mhz"].to_numpy(dtype=np.float64)
    heights = cells["height_m"].to_numpy(dtype=np.float64)
    share_by_bw: dict[float, float] = {}
    noise_by_band: dict[float, float] = {}
    for bw in np.unique(cells["bandwidth_mhz"].to_numpy(dtype=np.float64)):
        carrier = Carrier(technology, float(bw), params.nr_subcarrier_spacing_khz)
        share_by_bw[float(bw)] = carrier.reference_share_db
        noise = thermal_noise_dbm(carrier.noise_bandwidth_hz, params.noise_figure_db)
        for band in np.unique(bands[cells["bandwidth_mhz"].to_numpy() == bw]):
            noise_by_band[float(band)] = noise
    ref_eirp = (
        cells["tx_power_dbm"].to_numpy(dtype=np.float64)
        + cells["bandwidth_mhz"].map(share_by_bw).to_numpy(dtype=np.float64)
        + cells["antenna_gain_dbi"].to_numpy(dtype=np.float64)
        - cells["feeder_loss_db"].fillna(0.0).to_numpy(dtype=np.float64)
    )
    channel_bands = np.array(sorted(noise_by_band), dtype=np.float64)
    channel = np.searchsorted(channel_bands, bands).astype(np.int32)
    noise_mw = 10.0 ** (np.array([noise_by_band[b] for b in channel_bands]) / 10.0)

    # Path-loss tables, one per (model, band, height): cells of a site share them.
    models = [model_for(b, e) for b, e in zip(bands, environments, strict=True)]
    keys = pd.Series(
        [f"{m.describe()}|{b:g}|{h:.1f}" for m, b, h in zip(models, bands, heights, strict=True)]
    )
    codes, uniques = pd.factorize(keys)
    first_of = np.unique(codes, return_index=True)[1]
    step = params.table_step_m
    pl_parts: list[F32] = []
    dep_parts: list[F32] = []
    offsets = np.zeros(len(uniques), dtype=np.int64)
    table_range = np.zeros(len(uniques))
    position = 0
    for code, row in enumerate(first_of):
        model: PropagationModel = models[row]
        limit_m = min(model.max_dist_m, params.max_range_m)
        dist = np.arange(0.0, limit_m + step / 2, step)
        loss = model.path_loss(dist, float(bands[row]), float(heights[row]), params.ue_height_m)
        # Closer than the model's minimum distance the loss is the loss at that distance; the
        # elevation angle is taken there too, so the link is evaluated as one consistent
        # geometry and the foot of the mast does not fall into the vertical pattern's null.
        seen_at = np.maximum(dist, model.min_dist_m)
        depression = np.degrees(np.arctan2(heights[row] - params.ue_height_m, seen_at))
        # one extra sample so that interpolating at the last distance stays inside the table
        pl_parts.append(np.append(loss.loss_db, loss.loss_db[-1]).astype(np.float32))
        dep_parts.append(np.append(depression, depression[-1]).astype(np.float32))
        offsets[code] = position
        table_range[code] = dist[-1]
        position += len(dist) + 1
    path_loss_table = np.concatenate(pl_parts) if pl_parts else np.empty(0, np.float32)
    depression_table = np.concatenate(dep_parts) if dep_parts else np.empty(0, np.float32)

    patterns, pattern_codes, from_file = cell_patterns(cells, params, antennas or {})
    h_tables, v_tables, caps = pattern_tables(patterns)
    az = np.radians(cells["azimuth_deg"].fillna(0.0).to_numpy(dtype=np.float64))
    # a pattern file's vertical cut carries its electrical tilt: it is not applied again
    elec = np.where(from_file, 0.0, cells["elec_tilt_deg"].fillna(0.0).to_numpy(dtype=np.float64))
    mech = cells["mech_tilt_deg"].fillna(0.0).to_numpy(dtype=np.float64)
    # file patterns need not fall off monotonically from the beam: no vertical bound for them
    unimodal = np.zeros(len(patterns), dtype=bool)
    unimodal[pattern_codes] = ~from_file
    reach = directional_reach(
        (path_loss_table, depression_table, offsets, table_range), codes, step,
        ref_eirp - floor_dbm, (h_tables, v_tables, caps, pattern_codes),
        (elec - np.abs(mech), elec + np.abs(mech)), unimodal,
    )  # fmt: skip
    extent = reach_extent(reach, az)
    return Scene(
        operator=operator,
        technology=technology,
        threshold_dbm=threshold,
        floor_dbm=floor_dbm,
        cell_ids=cells["cell_id"].to_numpy(dtype=object),
        x_m=np.ascontiguousarray(x_m, dtype=np.float64),
        y_m=np.ascontiguousarray(y_m, dtype=np.float64),
        ref_eirp_dbm=ref_eirp,
        sin_az=np.sin(az),
        cos_az=np.cos(az),
        mech_tilt_deg=mech,
        elec_tilt_deg=elec,
        range_m=reach.max(axis=(1, 2)),
        reach_m=reach,
        extent_m=extent,
        channel=channel,
        channel_bands_mhz=channel_bands,
        noise_mw=noise_mw,
        table_offset=offsets[codes],
        path_loss_table=path_loss_table,
        depression_table=depression_table,
        table_step_m=step,
        pattern=pattern_codes.astype(np.int32),
        h_tables=h_tables,
        v_tables=v_tables,
        max_att_db=caps,
        models=tuple(sorted({m.describe() for m in models})),
        model_of_cell=np.array([m.describe() for m in models], dtype=object),
    )


def cell_environments(
    cells_utm_x: F64, cells_utm_y: F64, communes: gpd.GeoDataFrame
) -> npt.NDArray[np.object_]:
    """Each cell's environment from the type of the commune it stands in (rural outside all)."""
    points = gpd.GeoSeries(gpd.points_from_xy(cells_utm_x, cells_utm_y), crs=UTM48N)
    unit_type = locate(points, communes.to_crs(UTM48N), key="unit_type")
    return unit_type.map(ENVIRONMENT_BY_UNIT_TYPE).fillna("rural").to_numpy(dtype=object)


def build_scenes(
    cells: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame | None,
    params: CoverageParams,
    operators: Sequence[str] | None = None,
    technologies: Sequence[str] | None = None,
    antennas: Mapping[str, AntennaPattern] | None = None,
) -> list[Scene]:
    """One scene per operator × technology of ``cells`` (the catalogue layer, WGS84).

    Environments come from ``communes`` (admin units of commune level) unless
    ``params.environment`` fixes one; planned cells are left out unless ``params.include_planned``.
    """
    selected = cells
    if not params.include_planned and "status" in cells:
        selected = selected[selected["status"].fillna("on-air") == "on-air"]
    if operators:
        selected = selected[selected["operator"].isin(list(operators))]
    if technologies:
        selected = selected[selected["technology"].isin(list(technologies))]
    selected = selected.sort_values("cell_id", ignore_index=True)
    metric = selected.geometry.to_crs(UTM48N)
    x, y = metric.x.to_numpy(), metric.y.to_numpy()
    if params.environment is not None or communes is None or communes.empty:
        environments = np.full(len(selected), params.environment or "rural", dtype=object)
    else:
        environments = cell_environments(x, y, communes)
    scenes = []
    for (operator, technology), rows in selected.groupby(
        ["operator", "technology"]
    ).indices.items():
        scenes.append(
            build_scene(
                selected.iloc[rows],
                x[rows],
                y[rows],
                environments[rows],
                params,
                str(operator),
                str(technology),
                antennas,
            )
        )
    return scenes
