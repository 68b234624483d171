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
lower bound of its path loss and antenna attenuation allows that level (``reach.py``),
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
from gis_planner.coverage.reach import directional_reach, pattern_tables, reach_extent
from gis_planner.coverage.terrain import TerrainInputs
from gis_planner.crs import metric_crs_of
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
    #: How workers run tiles: threads (shared memory) or spawned processes (tasks pickled).
    parallel: Literal["threads", "processes"] = "threads"
    #: One environment for every cell; None derives it from the admin unit of each cell.
    environment: Environment | None = None
    include_planned: bool = False
    #: Elevation and clutter: the terrain's diffraction and clutter losses are added to the
    #: models' (``coverage.terrain``); None computes over level ground, the models alone.
    terrain: TerrainInputs | None = None

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
    #: Antenna height above the ground.
    height_m: F64
    #: Reference-signal EIRP at boresight (transmit power share + gain − feeder loss).
    ref_eirp_dbm: F64
    sin_az: F64
    cos_az: F64
    mech_tilt_deg: F64
    elec_tilt_deg: F64
    range_m: F64
    #: Reach per direction: (cell, side, bin of cos φ) → metres (see ``directional_reach``).
    reach_m: F32
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
    #: Each cell's value in the best-server raster (1-based; ``coverage_servers.server_index``):
    #: its rank among the cells of the operator and technology in the whole cells layer, so
    #: that runs over parts of a network (provinces) give a cell the same value.
    server_index: I32

    @property
    def n_cells(self) -> int:
        return len(self.cell_ids)


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


def with_default_patterns(
    cells: pd.DataFrame, problems: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``cells`` with each ``pattern_ref`` named in ``problems`` (names that have no pattern,
    and why: see ``radio.antenna.load_patterns``) cleared, so that those cells take the
    default pattern of their beamwidths; and those cells (id, operator, reference, reason).

    One operator's bad reference must not stop a run for everyone: its cells are computed
    with the default pattern and the run lists them.
    """
    if "pattern_ref" not in cells:
        return cells, pd.DataFrame(columns=["cell_id", "operator", "pattern_ref", "reason"])
    bad = cells["pattern_ref"].isin(list(problems)).to_numpy(dtype=bool)
    flagged = cells.loc[bad, ["cell_id", "operator", "pattern_ref"]].reset_index(drop=True)
    flagged["reason"] = flagged["pattern_ref"].map(problems)
    cleared = cells.assign(pattern_ref=cells["pattern_ref"].mask(bad))
    return cleared, flagged


def build_scene(
    cells: pd.DataFrame,
    x_m: F64,
    y_m: F64,
    environments: npt.NDArray[np.object_],
    params: CoverageParams,
    operator: str,
    technology: str,
    antennas: Mapping[str, AntennaPattern] | None = None,
    server_index: I32 | None = None,
) -> Scene:
    """The scene of ``cells`` (one operator and technology; catalogue ``cells`` columns).

    ``x_m``/``y_m`` are the cells' coordinates in the grid's metric CRS and ``environments``
    their propagation environments, aligned with the rows of ``cells``; ``antennas`` holds the
    patterns named by the cells' ``pattern_ref`` (read from MSI files by the caller);
    ``server_index`` the cells' values in the best-server raster (default 1, 2, 3… in row order).
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
    range_m = reach.max(axis=(1, 2)).astype(np.float64)
    path_loss_table, depression_table, offsets = _cut_to_reach(
        path_loss_table, depression_table, offsets, codes, step, range_m
    )
    return Scene(
        operator=operator,
        technology=technology,
        threshold_dbm=threshold,
        floor_dbm=floor_dbm,
        cell_ids=cells["cell_id"].to_numpy(dtype=object),
        x_m=np.ascontiguousarray(x_m, dtype=np.float64),
        y_m=np.ascontiguousarray(y_m, dtype=np.float64),
        height_m=heights,
        ref_eirp_dbm=ref_eirp,
        sin_az=np.sin(az),
        cos_az=np.cos(az),
        mech_tilt_deg=mech,
        elec_tilt_deg=elec,
        range_m=range_m,
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
        server_index=(
            np.arange(1, len(cells) + 1, dtype=np.int32)
            if server_index is None
            else np.asarray(server_index, dtype=np.int32)
        ),
    )


def cell_environments(
    cells_x_m: F64, cells_y_m: F64, communes: gpd.GeoDataFrame, crs: str
) -> npt.NDArray[np.object_]:
    """Each cell's environment from the type of the commune it stands in (rural outside all);
    the cells' coordinates are in the metric ``crs``."""
    points = gpd.GeoSeries(gpd.points_from_xy(cells_x_m, cells_y_m), crs=crs)
    unit_type = locate(points, communes.to_crs(crs), key="unit_type")
    return unit_type.map(ENVIRONMENT_BY_UNIT_TYPE).fillna("rural").to_numpy(dtype=object)


def _selected(
    cells: pd.DataFrame,
    params: CoverageParams,
    operators: Sequence[str] | None,
    technologies: Sequence[str] | None,
) -> pd.DataFrame:
    """The cells a run computes (on air unless planned ones are included), by ``cell_id``."""
    selected = cells
    if not params.include_planned and "status" in cells:
        selected = selected[selected["status"].fillna("on-air") == "on-air"]
    if operators:
        selected = selected[selected["operator"].isin(list(operators))]
    if technologies:
        selected = selected[selected["technology"].isin(list(technologies))]
    return selected.sort_values("cell_id", ignore_index=True)


def server_indices(
    cell_ids: npt.NDArray[np.object_], every_cell_id: npt.NDArray[np.object_]
) -> I32:
    """The 1-based rank of each of ``cell_ids`` among ``every_cell_id`` (sorted, unique)."""
    rank = np.searchsorted(every_cell_id, cell_ids)
    found = rank < len(every_cell_id)
    found[found] = every_cell_id[rank[found]] == cell_ids[found]
    if not found.all():
        missing = cell_ids[~found][0]
        raise GisPlannerError(f"cell {missing!r} is not among the cells numbering the servers")
    return (rank + 1).astype(np.int32)


def _cut_to_reach(
    path_loss: F32,
    depression: F32,
    offsets: I64,
    codes: npt.NDArray[np.intp],
    step_m: float,
    range_m: F64,
) -> tuple[F32, F32, I64]:
    """The tables (concatenated in the order of their ``offsets``) cut after the last sample the
    kernel reads: the one past the farthest reach of the cells sharing each table.

    Tables run to the model's limit, which most cells' floors are far short of: the new
    province's tables held 9.8 million samples of each kind where the kernel reads 6.8.
    """
    lengths = np.diff(np.append(offsets, len(path_loss)))
    needed = np.zeros(len(offsets), dtype=np.int64)
    # the kernel interpolates between the samples either side of a distance
    np.maximum.at(needed, codes, np.floor(range_m / step_m).astype(np.int64) + 2)
    needed = np.minimum(needed, lengths)
    cut_offsets = np.cumsum(needed) - needed
    take = np.repeat(offsets - cut_offsets, needed) + np.arange(needed.sum())
    return path_loss[take], depression[take], cut_offsets


def build_scenes(
    cells: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame | None,
    params: CoverageParams,
    operators: Sequence[str] | None = None,
    technologies: Sequence[str] | None = None,
    antennas: Mapping[str, AntennaPattern] | None = None,
    crs: str | None = None,
    every_cell: pd.DataFrame | None = None,
) -> list[Scene]:
    """One scene per operator × technology of ``cells`` (the catalogue layer, WGS84), placed in
    the metric ``crs`` of the run's grid (default: the cells' UTM zone).

    Environments come from ``communes`` (admin units of commune level) unless
    ``params.environment`` fixes one; planned cells are left out unless ``params.include_planned``.
    A cell's value in the best-server raster is its rank among the cells of its operator and
    technology in ``every_cell`` (``cell_id``, ``operator``, ``technology``, ``status``: the
    whole cells layer, of which ``cells`` holds those within reach of a run's area), so that the
    runs of two provinces number a cell alike; default its rank in ``cells``.
    """
    selected = _selected(cells, params, operators, technologies)
    numbered = (
        {
            (str(operator), str(technology)): rows["cell_id"].to_numpy(dtype=object)
            for (operator, technology), rows in _selected(
                every_cell, params, operators, technologies
            ).groupby(["operator", "technology"])
        }
        if every_cell is not None
        else None
    )
    crs = crs or metric_crs_of(cells)
    metric = selected.geometry.to_crs(crs)
    x, y = metric.x.to_numpy(), metric.y.to_numpy()
    if params.environment is not None or communes is None or communes.empty:
        environments = np.full(len(selected), params.environment or "rural", dtype=object)
    else:
        environments = cell_environments(x, y, communes, crs)
    scenes = []
    for (operator, technology), rows in selected.groupby(
        ["operator", "technology"]
    ).indices.items():
        of_scene = selected.iloc[rows]
        index = None
        if numbered is not None:
            every_id = numbered.get((str(operator), str(technology)), np.empty(0, dtype=object))
            index = server_indices(of_scene["cell_id"].to_numpy(dtype=object), every_id)
        scenes.append(
            build_scene(
                of_scene,
                x[rows],
                y[rows],
                environments[rows],
                params,
                str(operator),
                str(technology),
                antennas,
                index,
            )
        )
    return scenes
