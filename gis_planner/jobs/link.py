"""The microwave link job: the terrain profile of a hop between two sites, one or a batch.

The two sites come from the store's ``sites`` layer (a site id is each operator's own: an id two
operators use needs the operator). The path is the straight line between them in the metric CRS
of their area, sampled at most one DEM pixel apart (``radio.linkprofile.sample_distances``);
the DEM is read by windows spanning at most ``WINDOW_PX`` of its pixels along it
(``coverage.terrain``), so a long diagonal hop never reads the whole box it spans. A batch
reads its hops from a CSV, keeps every valid hop and rejects the others with their row and
reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import rasterio

from gis_planner.coverage.grid import Grid
from gis_planner.coverage.terrain import (
    RASTER_DRIVERS,
    InputFile,
    TerrainError,
    TerrainInputs,
    check_covers,
    open_terrain,
    read_window,
)
from gis_planner.crs import WGS84, lonlat_to_metric, metric_crs, transformer
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import Lang, translate
from gis_planner.radio.linkprofile import (
    LinkParams,
    LinkProfile,
    analyse_profile,
    sample_distances,
)
from gis_planner.store import LayerStore
from gis_planner.tables import write_csv, write_xlsx

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: DEM pixels a window read at once spans along the path (at most 512 × 512 pixels a read,
#: 1 MiB of float32, whatever the DEM's resolution and the hop's length).
WINDOW_PX = 512
#: Finest DEM taken: with the bounded number of samples, a window spans at least 8 samples.
MIN_DEM_RESOLUTION_M = 0.5
#: Most hops a batch file may hold.
MAX_BATCH_ROWS = 5_000
#: Largest batch file read (bytes).
MAX_BATCH_BYTES = 5 * 1024 * 1024
#: Columns of a batch file: the two sites, then optional per-hop values.
BATCH_REQUIRED = ("site_a", "site_b")
BATCH_OPTIONAL = ("freq_ghz", "height_a_m", "height_b_m")
#: Columns of the batch's verdicts.
VERDICT_COLUMNS = (
    "row", "site_a", "operator_a", "site_b", "operator_b", "freq_ghz", "height_a_m",
    "height_b_m", "length_km", "min_clearance_f1", "min_clearance_m", "worst_distance_m",
    "obstacles", "free_space_loss_db", "bullington_loss_db", "knife_edge_loss_db",
    "itm_loss_db", "itm_warning", "verdict",
)  # fmt: skip
REJECT_COLUMNS = ("row", "site_a", "site_b", "reason")


class LinkError(GisPlannerError):
    """A hop that cannot be profiled: unknown or ambiguous site, terrain not covering it…"""


class UnknownSite(LinkError):
    """A site id (of the operator named) that the store does not hold."""


@dataclass(frozen=True)
class LinkSpec:
    site_a: str
    site_b: str
    terrain: Path
    params: LinkParams = field(default_factory=LinkParams)
    #: Antenna heights above ground; default the sites' structure heights.
    height_a_m: float | None = None
    height_b_m: float | None = None
    #: The operator whose site ids these are, where two operators use the same id.
    operator: str | None = None


@dataclass(frozen=True)
class SiteEnd:
    site_id: str
    operator: str
    lon: float
    lat: float
    antenna_m: float


@dataclass(frozen=True, eq=False)
class LinkResult:
    spec: LinkSpec
    a: SiteEnd
    b: SiteEnd
    profile: LinkProfile
    #: The DEM read, by path, size and modification time.
    dem: InputFile
    dem_resolution_m: float


@dataclass(frozen=True, eq=False)
class BatchResult:
    verdicts: pd.DataFrame
    rejects: pd.DataFrame


def _sites(store: LayerStore, ids: set[str] | None = None) -> pd.DataFrame:
    """Site id, operator, height and position of the sites ``ids`` (all without)."""
    filters = None if ids is None else {"site_id": sorted(ids)}
    frame = store.read("sites", filters=filters, columns=["site_id", "operator", "height_m"])
    return pd.DataFrame(
        {
            "site_id": frame["site_id"].astype(str),
            "operator": frame["operator"].astype(str),
            "height_m": frame["height_m"].astype(float),
            "lon": frame.geometry.x.to_numpy(),
            "lat": frame.geometry.y.to_numpy(),
        }
    )


def _site(
    sites: pd.DataFrame, site_id: str, operator: str | None, height_m: float | None
) -> SiteEnd:
    rows = sites[sites["site_id"] == site_id]
    if operator is not None:
        rows = rows[rows["operator"] == operator]
    if rows.empty:
        whose = f" of {operator}" if operator else ""
        raise UnknownSite(f"no site {site_id!r}{whose} in the store")
    if len(rows) > 1:
        raise LinkError(
            f"site {site_id!r} is used by {', '.join(sorted(rows['operator']))}: name the operator"
        )
    row = rows.iloc[0]
    antenna = float(row["height_m"]) if height_m is None else height_m
    if not math.isfinite(antenna):
        raise LinkError(f"site {site_id!r} has no height: give the antenna height")
    return SiteEnd(site_id, str(row["operator"]), float(row["lon"]), float(row["lat"]), antenna)


def dem_resolution_m(terrain: TerrainInputs, lon: float, lat: float, crs: str) -> float:
    """The DEM's pixel size in metres of ``crs`` at (lon, lat): the distances to the
    neighbouring pixel centres, whatever the DEM's own CRS (degrees for SRTM)."""
    path = Path(terrain.dem.path)
    with rasterio.open(path, driver=RASTER_DRIVERS[path.suffix.lower()]) as dataset:
        x, y = transformer(WGS84, dataset.crs.to_string()).transform(lon, lat)
        col, row = ~dataset.transform @ (x, y)
        corners = np.array(
            [dataset.transform @ (col + dc, row + dr) for dc, dr in ((0, 0), (1, 0), (0, 1))]
        )
        xs, ys = transformer(dataset.crs.to_string(), crs).transform(corners[:, 0], corners[:, 1])
    return float(min(math.hypot(xs[i] - xs[0], ys[i] - ys[0]) for i in (1, 2)))


def read_profile(terrain: TerrainInputs, a: SiteEnd, b: SiteEnd) -> tuple[F64, F64, float]:
    """Distances from A and terrain heights along the hop, and the DEM's resolution (m)."""
    box = (min(a.lon, b.lon), min(a.lat, b.lat), max(a.lon, b.lon), max(a.lat, b.lat))
    try:
        check_covers(terrain, box)
    except TerrainError:
        raise LinkError(
            f"the elevation raster does not cover the hop {a.site_id} – {b.site_id}"
        ) from None
    crs = metric_crs(box)
    (xa, xb), (ya, yb) = lonlat_to_metric([a.lon, b.lon], [a.lat, b.lat], crs)
    resolution = dem_resolution_m(terrain, (a.lon + b.lon) / 2, (a.lat + b.lat) / 2, crs)
    if resolution < MIN_DEM_RESOLUTION_M:
        raise LinkError(
            f"the elevation raster's pixels are {resolution:.3g} m: at least "
            f"{MIN_DEM_RESOLUTION_M:g} m expected"
        )
    distance, step = sample_distances(math.hypot(xb - xa, yb - ya), resolution)
    t = distance / distance[-1]
    xs, ys = xa + t * (xb - xa), ya + t * (yb - ya)
    margin = 2.0 * step
    grid = Grid.from_bounds(
        (xs.min() - margin, ys.min() - margin, xs.max() + margin, ys.max() + margin), step, crs
    )
    height = np.empty_like(distance)
    # past the bound on samples the step exceeds the DEM's pixel: fewer samples a window
    chunk = max(8, min(WINDOW_PX, math.floor(WINDOW_PX * resolution / step)))
    for start in range(0, len(distance), chunk):
        part = slice(start, start + chunk)
        x, y = xs[part], ys[part]
        bounds = (x.min() - margin, y.min() - margin, x.max() + margin, y.max() + margin)
        window = read_window(terrain, grid, bounds)
        height[part] = _bilinear(window.ground_m, window.x0, window.y1, window.resolution_m, x, y)
    return distance, height, resolution


def _bilinear(values: F32, x0: float, y1: float, res: float, x: F64, y: F64) -> F64:
    """``values`` (pixel centres at x0 + (j + ½)·res, y1 − (i + ½)·res) at the points (x, y)."""
    rows, cols = values.shape
    c = np.clip((x - x0) / res - 0.5, 0.0, cols - 1.0)
    r = np.clip((y1 - y) / res - 0.5, 0.0, rows - 1.0)
    c0 = np.minimum(c.astype(np.intp), max(cols - 2, 0))
    r0 = np.minimum(r.astype(np.intp), max(rows - 2, 0))
    c1, r1 = np.minimum(c0 + 1, cols - 1), np.minimum(r0 + 1, rows - 1)
    tc, tr = c - c0, r - r0
    top = values[r0, c0] + tc * (values[r0, c1] - values[r0, c0])
    bottom = values[r1, c0] + tc * (values[r1, c1] - values[r1, c0])
    return np.asarray(top + tr * (bottom - top), dtype=np.float64)


def _profile(spec: LinkSpec, sites: pd.DataFrame, terrain: TerrainInputs) -> LinkResult:
    if spec.site_a == spec.site_b:
        raise LinkError(f"a hop joins two sites, got {spec.site_a!r} twice")
    a = _site(sites, spec.site_a, spec.operator, spec.height_a_m)
    b = _site(sites, spec.site_b, spec.operator, spec.height_b_m)
    distance, height, resolution = read_profile(terrain, a, b)
    profile = analyse_profile(distance, height, a.antenna_m, b.antenna_m, spec.params)
    return LinkResult(spec, a, b, profile, terrain.dem, resolution)


def run(spec: LinkSpec, store: LayerStore) -> LinkResult:
    """The profile of one hop (see the module doc)."""
    terrain = open_terrain(spec.terrain, k_factor=spec.params.k_factor)
    return _profile(spec, _sites(store, {spec.site_a, spec.site_b}), terrain)


def read_hops(path: Path) -> pd.DataFrame:
    """The hops of a batch CSV as text, with their file row (the header is row 1)."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise LinkError(f"{path.name}: {error.strerror}") from None
    if size > MAX_BATCH_BYTES:
        raise LinkError(f"{path.name}: {size:,} bytes, a batch holds at most {MAX_BATCH_BYTES:,}")
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
            nrows=MAX_BATCH_ROWS + 1, skipinitialspace=True,
        )  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise LinkError(f"{path.name}: not a CSV of hops ({error})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in BATCH_REQUIRED if c not in frame.columns]
    if missing:
        raise LinkError(f"{path.name}: needs the columns {', '.join(BATCH_REQUIRED)}")
    if len(frame) > MAX_BATCH_ROWS:
        raise LinkError(f"{path.name}: more than {MAX_BATCH_ROWS:,} hops")
    for column in BATCH_OPTIONAL:
        if column not in frame.columns:
            frame[column] = ""
    frame = frame[[*BATCH_REQUIRED, *BATCH_OPTIONAL]].apply(lambda c: c.str.strip())
    frame.insert(0, "row", np.arange(2, len(frame) + 2))
    return frame


def _number(text: str, name: str) -> float | None:
    if text == "":
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise LinkError(f"{name} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise LinkError(f"{name} {text!r} is not a number")
    return value


def _verdict_row(row: int, result: LinkResult) -> dict[str, object]:
    p = result.profile
    return {
        "row": row, "site_a": result.a.site_id, "operator_a": result.a.operator,
        "site_b": result.b.site_id, "operator_b": result.b.operator,
        "freq_ghz": p.params.freq_ghz, "height_a_m": result.a.antenna_m,
        "height_b_m": result.b.antenna_m, "length_km": round(p.length_m / 1000.0, 3),
        "min_clearance_f1": round(p.min_clearance_f1, 3),
        "min_clearance_m": round(p.min_clearance_m, 2),
        "worst_distance_m": round(p.worst_distance_m, 1), "obstacles": len(p.obstacles),
        "free_space_loss_db": round(p.free_space_loss_db, 2),
        "bullington_loss_db": round(p.bullington_loss_db, 2),
        "knife_edge_loss_db": round(p.knife_edge_loss_db, 2),
        "itm_loss_db": round(p.itm.basic_loss_db, 2), "itm_warning": int(p.itm.warning),
        "verdict": p.verdict,
    }  # fmt: skip


def run_batch(
    hops: pd.DataFrame, terrain_path: Path, store: LayerStore, defaults: LinkSpec
) -> BatchResult:
    """Each hop of ``hops`` (``read_hops``) with ``defaults`` for what a row leaves empty; a
    row that cannot be profiled is rejected with its reason, the others kept."""
    terrain = open_terrain(terrain_path, k_factor=defaults.params.k_factor)
    sites = _sites(store)
    kept, rejected = [], []
    for hop in hops.itertuples(index=False):
        try:
            freq = _number(hop.freq_ghz, "freq_ghz")
            height_a = _number(hop.height_a_m, "height_a_m")
            height_b = _number(hop.height_b_m, "height_b_m")
            spec = replace(
                defaults,
                site_a=hop.site_a,
                site_b=hop.site_b,
                params=defaults.params if freq is None else replace(defaults.params, freq_ghz=freq),
                height_a_m=defaults.height_a_m if height_a is None else height_a,
                height_b_m=defaults.height_b_m if height_b is None else height_b,
            )
            if not spec.site_a or not spec.site_b:
                raise LinkError("site_a and site_b are both needed")
            kept.append(_verdict_row(int(hop.row), _profile(spec, sites, terrain)))
        except GisPlannerError as error:
            rejected.append({"row": int(hop.row), "site_a": hop.site_a, "site_b": hop.site_b,
                             "reason": str(error)})  # fmt: skip
    return BatchResult(
        pd.DataFrame(kept, columns=list(VERDICT_COLUMNS)),
        pd.DataFrame(rejected, columns=list(REJECT_COLUMNS)),
    )


def samples(result: LinkResult) -> pd.DataFrame:
    """The profile's samples: distance, terrain, bulge, line of sight, F1 and clearance."""
    p = result.profile
    return pd.DataFrame(
        {
            "distance_m": p.distance_m.round(1), "terrain_m": p.terrain_m.round(2),
            "bulge_m": p.bulge_m.round(3), "los_m": p.los_m.round(2), "f1_m": p.f1_m.round(3),
            "clearance_m": p.clearance_m.round(2), "clearance_f1": p.clearance_f1.round(3),
        }
    )  # fmt: skip


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as XLSX (by the extension ``.xlsx``) or CSV for Excel."""
    if path.suffix.lower() == ".xlsx":
        return write_xlsx(path, {"links": (frame, None)})
    return write_csv(path, frame)


def draw_profile(result: LinkResult, path: Path, lang: Lang = "vi") -> Path:
    """The hop's profile as a PNG: terrain on the earth's bulge, the masts, line of sight, the
    first Fresnel zone and its required fraction, the obstacles; labels in ``lang``."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt

    p = result.profile
    km = p.distance_m / 1000.0
    ground = p.terrain_m + p.bulge_m
    floor = float(min(ground.min(), (p.los_m - p.f1_m).min())) - 10.0
    fraction = p.params.clearance_fraction
    figure, axes = plt.subplots(figsize=(10, 4.5), layout="constrained")
    try:
        axes.fill_between(km, floor, ground, color="#b5a27a",
                          label=translate("terrain + earth bulge", lang))  # fmt: skip
        axes.plot(km, floor + p.bulge_m, color="#7a6a4a", lw=0.8, ls=":",
                  label=translate("earth bulge", lang))  # fmt: skip
        axes.fill_between(km, p.los_m - p.f1_m, p.los_m + p.f1_m, color="#9ecae1", alpha=0.4,
                          label=translate("first Fresnel zone", lang))  # fmt: skip
        axes.plot(km, p.los_m - fraction * p.f1_m, color="#3182bd", lw=0.8, ls="--",
                  label=f"{fraction:g} F1")  # fmt: skip
        axes.plot(km, p.los_m, color="#08519c", lw=1.2, label=translate("line of sight", lang))
        # the masts, from the ground to the antennas
        axes.vlines([0.0, float(km[-1])], ground[[0, -1]], p.los_m[[0, -1]], color="black", lw=2)
        for obstacle in p.obstacles:
            at = obstacle.distance_m / 1000.0
            axes.plot(at, np.interp(obstacle.distance_m, p.distance_m, ground), "v", color="red")
        # a margin, so that the masts at both ends stand clear of the frame
        margin_km = 0.01 * float(km[-1])
        axes.set_xlim(-margin_km, float(km[-1]) + margin_km)
        axes.set_ylim(bottom=floor)
        axes.set_xlabel(translate("distance from A (km)", lang))
        axes.set_ylabel(translate("height (m)", lang))
        title = "{a} – {b}: {verdict}, {freq:g} GHz, k = {k:.2f}, clearance {f1:.2f} F1"
        axes.set_title(
            translate(title, lang).format(
                a=result.a.site_id, b=result.b.site_id, verdict=translate(p.verdict, lang),
                freq=p.params.freq_ghz, k=p.params.k_factor, f1=p.min_clearance_f1,
            )
        )  # fmt: skip
        figure.legend(loc="outside lower center", fontsize="small", ncols=5)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=120)
    finally:
        plt.close(figure)
    return path
