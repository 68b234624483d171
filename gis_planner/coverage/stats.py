"""Coverage statistics: villages, communes, districts and priority areas against the targets.

Pixels are labelled with the village whose polygon contains their centre (a village too small
to hold a pixel centre takes the pixel of its representative point); shares then come from
``numpy.bincount`` over the labels, with no loop over villages. The counts are sums
(``LevelSums``) that add up across the tiles of the grid, so that the statistics of a streamed
computation are those of the whole grid without ever holding it. A village's population is taken
as spread evenly over its polygon, so its population share above a threshold equals its area
share; communes, districts and the province weight their villages by population. A village is
covered when that share reaches the target (default 95 %, DOMAIN.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numba
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from rasterio.features import rasterize

from gis_planner.admin import ancestor
from gis_planner.coverage.grid import Grid, Window

#: The operator value of the any-operator rows.
ANY_OPERATOR = "any"


@dataclass(frozen=True)
class TargetParams:
    """What counts as covered (DOMAIN.md defaults)."""

    #: Share of a village's population (= area, population spread evenly) above the threshold.
    target_share: float = 0.95


class AreaLabeller:
    """Labels pixels with the area holding their centre, one window at a time.

    The labels of any window are those ``label_pixels`` gives on the whole grid: an area too
    small to hold a pixel centre anywhere on the grid (found by a first pass over the windows)
    takes the pixel of its representative point, in whichever window that falls.
    """

    def __init__(self, areas: gpd.GeoDataFrame, grid: Grid, tile_px: int) -> None:
        self.grid = grid
        self.n = len(areas)
        geometries = areas.to_crs(grid.crs).geometry.to_numpy()
        valid = ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))
        self._index = np.flatnonzero(valid)
        self._geometries = geometries[valid]
        self._tree = shapely.STRtree(self._geometries)
        present = np.zeros(self.n + 1, dtype=bool)
        for window in grid.windows(tile_px):
            present |= np.bincount(self._burn(window).ravel(), minlength=self.n + 1) > 0
        missing = self._index[~present[self._index + 1]]
        points = shapely.point_on_surface(geometries[missing])
        cols = np.floor((shapely.get_x(points) - grid.x_min) / grid.resolution_m).astype(int)
        rows = np.floor((grid.y_max - shapely.get_y(points)) / grid.resolution_m).astype(int)
        inside = (rows >= 0) & (rows < grid.height) & (cols >= 0) & (cols < grid.width)
        self._missing = (missing[inside] + 1, rows[inside], cols[inside])

    def _burn(self, window: Window) -> npt.NDArray[np.int32]:
        shape = (window.height, window.width)
        hits = self._tree.query(shapely.box(*self.grid.window_bounds(window)))
        if not len(hits):
            return np.zeros(shape, dtype=np.int32)
        hits.sort()  # rasterize burns in order: the last area wins a shared pixel, as before
        shapes = zip(self._geometries[hits], self._index[hits] + 1, strict=True)
        transform = self.grid.sub(window).transform
        return rasterize(shapes, out_shape=shape, transform=transform, dtype="int32")

    def labels(self, window: Window) -> npt.NDArray[np.int32]:
        """Row position + 1 of the area holding each pixel centre of ``window`` (0 = none)."""
        labels = self._burn(window)
        label, rows, cols = self._missing
        here = (
            (rows >= window.row0) & (rows < window.row0 + window.height)
            & (cols >= window.col0) & (cols < window.col0 + window.width)
        )  # fmt: skip
        labels[rows[here] - window.row0, cols[here] - window.col0] = label[here]
        return labels


def label_pixels(areas: gpd.GeoDataFrame, grid: Grid) -> npt.NDArray[np.int32]:
    """Row position + 1 of the area holding each pixel centre (0 = none); areas in any CRS."""
    whole = Window(0, 0, grid.height, grid.width)
    return AreaLabeller(areas, grid, max(grid.shape)).labels(whole)


@dataclass
class LevelSums:
    """Per-area pixel sums of one technology, that add up across tiles.

    ``pixels`` counts each area's labelled pixels; per layer (operator or ``any``), ``covered``
    counts those at or above the threshold and ``best_dbm`` keeps the highest level. Index 0
    collects the unlabelled pixels and is dropped by the tables.
    """

    n: int
    threshold_dbm: float
    pixels: npt.NDArray[np.int64]
    covered: dict[str, npt.NDArray[np.int64]]
    best_dbm: dict[str, npt.NDArray[np.float64]]

    @classmethod
    def empty(cls, n: int, threshold_dbm: float) -> LevelSums:
        return cls(n, threshold_dbm, np.zeros(n + 1, dtype=np.int64), {}, {})

    def add(
        self, labels: npt.NDArray[np.int32], rsrp_by_layer: Mapping[str, npt.NDArray[np.float32]]
    ) -> None:
        """Add a tile: its labels and a best-server RSRP raster per layer on the same pixels."""
        flat = labels.ravel()
        labelled = flat > 0
        lab = flat[labelled]
        self.pixels += np.bincount(lab, minlength=self.n + 1)
        for layer, rsrp in rsrp_by_layer.items():
            values = rsrp.ravel()[labelled]
            covered = np.bincount(lab[values >= self.threshold_dbm], minlength=self.n + 1)
            best = self.best_dbm.setdefault(layer, np.full(self.n + 1, -np.inf))
            _maximum_at(best, lab, values)
            if layer in self.covered:
                self.covered[layer] += covered
            else:
                self.covered[layer] = covered.astype(np.int64)

    def share(self, layer: str) -> npt.NDArray[np.float64]:
        """Share of each area's pixels at or above the threshold in ``layer``."""
        pixels = self.pixels[1:]
        covered = self.covered.get(layer, np.zeros(self.n + 1, dtype=np.int64))[1:]
        return np.divide(covered, pixels, out=np.zeros(self.n), where=pixels > 0)


@numba.njit(cache=True, nogil=True)
def _maximum_at(
    best: npt.NDArray[np.float64], labels: npt.NDArray[np.int32], values: npt.NDArray[np.float32]
) -> None:
    # np.maximum.at, compiled: the ufunc's unbuffered loop cost more than the tile's kernel
    for k in range(labels.shape[0]):
        if values[k] > best[labels[k]]:
            best[labels[k]] = values[k]


def with_any(
    rsrp_by_operator: Mapping[str, npt.NDArray[np.float32]],
) -> dict[str, npt.NDArray[np.float32]]:
    """The operators' rasters and ``any``, the best over them."""
    layers = dict(rsrp_by_operator)
    if layers:
        layers[ANY_OPERATOR] = np.maximum.reduce(list(rsrp_by_operator.values()))
    return layers


def village_coverage(
    villages: gpd.GeoDataFrame,
    labels: npt.NDArray[np.int32],
    rsrp_by_operator: Mapping[str, npt.NDArray[np.float32]],
    technology: str,
    threshold_dbm: float,
    targets: TargetParams | None = None,
) -> pd.DataFrame:
    """One row per village × operator (plus ``any``): shares above ``threshold_dbm``.

    ``rsrp_by_operator`` maps operator → best-server RSRP raster on the grid of ``labels``
    (nodata below any real level); ``any`` is the best over the operators given.
    """
    sums = LevelSums.empty(len(villages), threshold_dbm)
    sums.add(labels, with_any(rsrp_by_operator))
    return village_table(villages, sums, technology, targets)


def village_table(
    villages: gpd.GeoDataFrame,
    sums: LevelSums,
    technology: str,
    targets: TargetParams | None = None,
) -> pd.DataFrame:
    """The rows of ``village_coverage`` from sums gathered over every tile of the grid."""
    targets = targets or TargetParams()
    if not sums.covered:
        raise ValueError("village coverage needs at least one operator's raster")
    pixels = sums.pixels[1:]
    population = villages["population"].fillna(0).to_numpy(dtype=np.float64)
    frames = []
    for operator, best in sums.best_dbm.items():
        share = sums.share(operator)
        frames.append(
            pd.DataFrame(
                {
                    "village_code": villages["code"].to_numpy(),
                    "commune_code": villages["commune_code"].to_numpy(),
                    "technology": technology,
                    "operator": operator,
                    "threshold_dbm": sums.threshold_dbm,
                    "pixels": pixels,
                    "population": population,
                    "area_share": share,
                    "covered_population": population * share,
                    "covered": (share >= targets.target_share) & (pixels > 0),
                    "max_rsrp_dbm": np.where(best[1:] > -900.0, best[1:], np.nan),
                }
            )
        )
    rows = pd.concat(frames, ignore_index=True)
    # A village with no pixel in the run's area (outside its bbox) is not in this product:
    # counting it would call it uncovered.
    return rows[rows["pixels"] > 0].reset_index(drop=True)


def area_coverage(village_rows: pd.DataFrame, admin_units: pd.DataFrame) -> pd.DataFrame:
    """Communes, districts and the province from village rows (population-weighted).

    ``admin_units`` holds the units of the villages' administrative version (``code``,
    ``name``, ``level``, ``parent_code``); villages reach districts through their commune.
    """
    by_code = admin_units.set_index("code")
    communes = village_rows["commune_code"]
    rows = village_rows.assign(
        district_code=ancestor(admin_units, communes, "district"),
        covered_pixels=village_rows["pixels"] * village_rows["area_share"],
        # Each village's own province: a store may hold several.
        province_code=ancestor(admin_units, communes, "province"),
    )
    keys = ["technology", "operator", "threshold_dbm"]
    parts = []
    for level, column in (("commune", "commune_code"), ("district", "district_code"),
                          ("province", "province_code")):  # fmt: skip
        grouped = (
            rows.groupby([column, *keys], dropna=True)
            .agg(
                pixels=("pixels", "sum"),
                covered_pixels=("covered_pixels", "sum"),
                population=("population", "sum"),
                covered_population=("covered_population", "sum"),
                villages=("village_code", "size"),
                villages_covered=("covered", "sum"),
            )
            .astype({"villages_covered": "int64"})
        )
        grouped = grouped.reset_index().rename(columns={column: "code"})
        grouped.insert(0, "level", level)
        parts.append(grouped)
    table = pd.concat(parts, ignore_index=True)
    table["area_share"] = np.divide(
        table["covered_pixels"], table["pixels"], out=np.zeros(len(table)),
        where=table["pixels"].to_numpy() > 0,
    )  # fmt: skip
    table["population_share"] = np.divide(
        table["covered_population"], table["population"], out=np.zeros(len(table)),
        where=table["population"].to_numpy() > 0,
    )  # fmt: skip
    table["name"] = table["code"].map(by_code["name"])
    return table.drop(columns=["covered_pixels"])


def five_g_figures(areas: pd.DataFrame, first_units: Sequence[str] = ()) -> pd.DataFrame:
    """5G (any operator) for the units the plans name for 5G first (``first_units``, codes of
    any level), the provinces and the priority areas."""
    five_g = areas[(areas["technology"] == "5G") & (areas["operator"] == ANY_OPERATOR)]
    wanted = (
        (five_g["level"].isin(["commune", "district"]) & five_g["code"].isin(list(first_units)))
        | five_g["level"].isin(["province", "priority_area"])
    )  # fmt: skip
    return five_g[wanted].reset_index(drop=True)


def priority_coverage(
    areas: gpd.GeoDataFrame,
    grid: Grid,
    rsrp_dbm: npt.NDArray[np.float32],
    technology: str,
    threshold_dbm: float,
) -> pd.DataFrame:
    """Share of each priority area's pixels at or above ``threshold_dbm`` (any operator)."""
    sums = LevelSums.empty(len(areas), threshold_dbm)
    sums.add(label_pixels(areas, grid), {ANY_OPERATOR: rsrp_dbm})
    return priority_table(areas, sums, technology)


def priority_table(areas: gpd.GeoDataFrame, sums: LevelSums, technology: str) -> pd.DataFrame:
    """The rows of ``priority_coverage`` from sums gathered over every tile of the grid."""
    return pd.DataFrame(
        {
            "level": "priority_area",
            "code": areas["area_id"].to_numpy(),
            "name": areas["name"].to_numpy(),
            "technology": technology,
            "operator": ANY_OPERATOR,
            "threshold_dbm": sums.threshold_dbm,
            "pixels": sums.pixels[1:],
            "area_share": sums.share(ANY_OPERATOR),
        }
    )


def gap_list(village_rows: pd.DataFrame, villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Villages below target for every operator together, with population and best RSRP."""
    any_rows = village_rows[(village_rows["operator"] == ANY_OPERATOR) & ~village_rows["covered"]]
    per_operator = village_rows[village_rows["operator"] != ANY_OPERATOR]
    # Only an operator with a level in the village can be its best; none where nobody reaches.
    heard = per_operator[per_operator["max_rsrp_dbm"].notna()]
    best = heard.sort_values("max_rsrp_dbm", ascending=False)
    best = best.drop_duplicates(["village_code", "technology"])[
        ["village_code", "technology", "operator"]
    ].rename(columns={"operator": "best_operator"})
    gaps = any_rows.merge(best, on=["village_code", "technology"], how="left")
    geometry = villages.set_index("code")[["name", "geometry"]]
    gaps = gaps.join(geometry, on="village_code")
    gaps = gaps.rename(columns={"area_share": "population_share"})
    columns = [
        "village_code", "name", "commune_code", "technology", "threshold_dbm", "population",
        "population_share", "max_rsrp_dbm", "best_operator", "geometry",
    ]  # fmt: skip
    frame = gpd.GeoDataFrame(gaps[columns], geometry="geometry", crs=villages.crs)
    return frame.sort_values(
        ["technology", "population"], ascending=[True, False], ignore_index=True
    )
