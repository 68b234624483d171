"""Positions of a national layout computed province by province: those of the whole country.

Sites within the tolerance of each other are one position, and a chain of such sites, or a
structure id, can cross a province's border: the positions of each province's partition alone
would cut a position standing on a border in two. Here each province's task reads its own
partition and, by bbox, the sites of the other partitions within the tolerance of it, and
finds the pairs within the tolerance that one of its own sites is in; the positions are then
the connected components of every pair and structure id together (``sharing.positions`` with
those pairs), numbered and placed as a run over the whole layer places them: the same table.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from gis_planner.crs import grown_bounds, lonlat_to_metric, metric_crs
from gis_planner.errors import GisPlannerError
from gis_planner.layout import LAYERS_DIR, OUTSIDE, PARTITION
from gis_planner.layout.vectors import layer_bounds, read_layer
from gis_planner.sharing import DEFAULT_TOLERANCE_M, KEY_SEPARATOR, close_pairs, positions

#: The layer positions are made of.
SITES = "sites"


def _keys(sites: pd.DataFrame) -> npt.NDArray[np.object_]:
    return (sites["operator"].astype(str) + KEY_SEPARATOR + sites["site_id"].astype(str)).to_numpy(
        dtype=object
    )


def province_pairs(
    layer: Path, code: str | None, tolerance_m: float, crs: str
) -> tuple[gpd.GeoDataFrame, npt.NDArray[np.object_]]:
    """One province's task: its sites (the partition ``code`` of the sites ``layer``) and the
    site keys of the pairs within ``tolerance_m`` (metres in ``crs``) one of them is in,
    neighbours' sites read by bbox from their partitions."""
    own = read_layer(layer, [code])
    if own.empty:
        return own, np.empty((0, 2), dtype=object)
    west, south, east, north = (float(v) for v in own.total_bounds)
    box = grown_bounds((west, south, east, north), tolerance_m)
    near = read_layer(layer, bbox=box)
    others = (near[PARTITION].fillna(OUTSIDE) != (code or OUTSIDE)).to_numpy(dtype=bool)
    both = pd.concat([own, near[others]], ignore_index=True)
    x, y = lonlat_to_metric(both.geometry.x, both.geometry.y, crs)
    pairs = close_pairs(np.column_stack([x, y]), tolerance_m)
    # Own rows come first, and a pair is (i, j) with i < j: one of its own sites is i.
    pairs = pairs[pairs[:, 0] < len(own)]
    return own, _keys(both)[pairs].reshape(-1, 2)


def positions_by_province(
    root: Path,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    *,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """The positions of the sites of the layout at ``root``, computed province by province
    (``province_pairs``), distances in ``crs`` (default the metric CRS of the whole layer,
    as ``sharing.positions`` takes it): the table ``positions`` gives for the whole layer."""
    layer = root / LAYERS_DIR / SITES
    bounds = layer_bounds(layer)
    if bounds is None:
        raise GisPlannerError(f"{layer}: the layout has no sites")
    crs = crs or metric_crs(bounds)
    codes = sorted(p.name.split("=", 1)[1] for p in layer.glob(f"{PARTITION}=*"))
    parts, found = [], []
    for code in codes:
        own, pairs = province_pairs(layer, None if code == OUTSIDE else code, tolerance_m, crs)
        parts.append(own)
        found.append(pairs)
    sites = pd.concat(parts, ignore_index=True).drop(columns=[PARTITION])
    row_of = pd.Series(np.arange(len(sites)), index=_keys(sites))
    if not row_of.index.is_unique:
        raise GisPlannerError("two sites of the layout have one operator and site id")
    keys = np.concatenate(found) if found else np.empty((0, 2), dtype=object)
    rows = row_of.loc[keys.ravel()].to_numpy(dtype=np.int64).reshape(-1, 2)
    rows = np.unique(np.sort(rows, axis=1), axis=0)
    return positions(gpd.GeoDataFrame(sites), tolerance_m, metric_crs=crs, pairs=rows)
