"""One layer held in memory for the HTTP layer: projected to Web Mercator, indexed, and drawn
as vector tiles.

``api.layercache`` holds these for a store and reads a layer again when it changes; the
layer's tiles are drawn by ``CachedLayer.tile`` whether they answer from memory or from rows
read from PostGIS (``api.dbtiles``), so that a tile is the same whichever answered.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from api.access import LayerView
from gis_planner.crs import WGS84, transformer
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import fold
from gis_planner.mvtpoints import PointProperties
from gis_planner.pointtiles import PointIndex, PointTiles
from gis_planner.vectortiles import (
    AGGREGATE_FIELDS,
    Category,
    buffered,
    encode_tile,
    feature_ids,
    tile_bounds,
)

WEB_MERCATOR = "EPSG:3857"
#: Web Mercator stops at ±85.0511° latitude.
MAX_LAT = 85.05112878
Indices = npt.NDArray[np.intp]
#: Point tiles (an index and its counts) a layer keeps for views and filters of its rows.
MAX_POINT_TILES = 16


@dataclass
class CachedLayer:
    """One layer in memory: the frame in WGS84, its geometry in Web Mercator and an index."""

    name: str
    #: Changes with every commit that writes the layer (see ``_version``).
    version: str
    frame: pd.DataFrame
    fids: npt.NDArray[np.object_]
    mercator: npt.NDArray[np.object_] | None
    tree: shapely.STRtree | None
    _folded: dict[str, pd.Series] = field(default_factory=dict)
    _records: dict[str, npt.NDArray[np.object_]] = field(default_factory=dict)
    _columns: dict[str, pd.Series] = field(default_factory=dict)
    _categories: dict[str, Category] = field(default_factory=dict)
    _points_xy: npt.NDArray[np.float64] | None = None
    _point_index: PointIndex | None = None
    _point_properties: dict[str, PointProperties] = field(default_factory=dict)
    _point_tiles: dict[Hashable, PointTiles] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, name: str, version: str, frame: pd.DataFrame) -> CachedLayer:
        """``frame`` (rows of layer ``name`` as the store reads them) projected and indexed."""
        frame = frame.reset_index(drop=True)
        mercator = tree = None
        if isinstance(frame, gpd.GeoDataFrame):
            lat = shapely.get_coordinates(frame.geometry.to_numpy())[:, 1]
            if len(lat) and np.abs(lat).max() > MAX_LAT:
                raise GisPlannerError(f"layer {name!r} reaches beyond ±{MAX_LAT}° latitude")
            mercator = frame.geometry.to_crs(WEB_MERCATOR).to_numpy()
            tree = shapely.STRtree(mercator)
        return cls(name, version, frame, feature_ids(frame, name), mercator, tree)

    @cached_property
    def fields(self) -> tuple[str, ...]:
        # Asked on every request (each caller's view): the frame's columns, walked once.
        return tuple(c for c in self.frame.columns if c != "geometry")

    @property
    def is_spatial(self) -> bool:
        return self.tree is not None

    def query_mercator(self, bounds: tuple[float, float, float, float]) -> Indices:
        """Rows whose geometry intersects a Web Mercator rectangle, in row order."""
        if self.tree is None:
            return np.arange(len(self.frame))
        if self.points_xy is not None:
            return self.point_index().query(bounds)
        found = self.tree.query(shapely.box(*bounds), predicate="intersects")
        return np.sort(found)

    def query_lonlat(self, bbox: tuple[float, float, float, float]) -> Indices:
        """Rows intersecting a lon/lat box (a box in lon/lat is a box in Web Mercator too)."""
        minx, miny, maxx, maxy = bbox
        lat = np.clip([miny, maxy], -MAX_LAT, MAX_LAT)
        xs, ys = transformer(WGS84, WEB_MERCATOR).transform([minx, maxx], lat)
        return self.query_mercator((xs[0], ys[0], xs[1], ys[1]))

    def nearest_lonlat(self, lon: float, lat: float, radius_m: float) -> Indices:
        """Rows within ``radius_m`` ground metres of a point, nearest first."""
        if self.mercator is None or self.tree is None:
            return np.arange(0)
        xs, ys = transformer(WGS84, WEB_MERCATOR).transform(
            [lon], [np.clip(lat, -MAX_LAT, MAX_LAT)]
        )
        point = shapely.Point(xs[0], ys[0])
        # Web Mercator stretches ground distances by 1 / cos(latitude).
        reach = radius_m / np.cos(np.radians(lat))
        found = self.tree.query(point, predicate="dwithin", distance=reach)
        distance = shapely.distance(self.mercator[found], point)
        return found[np.argsort(distance, kind="stable")]

    def select(
        self, rows: Indices, view: LayerView, filters: Mapping[str, list[Any]] | None = None
    ) -> Indices:
        """``rows`` kept by the view's row rule and the attribute filters (AND of fields)."""
        keep = np.ones(len(rows), dtype=bool)
        if view.only_operator is not None:
            operators = self.column("operator").to_numpy(dtype=object)[rows]
            keep &= (operators == view.only_operator) | (operators == view.also_operator)
        for name, values in (filters or {}).items():
            column = self.column(name).iloc[rows]
            keep &= column.isin(values).fillna(False).to_numpy(dtype=bool)
        return rows[keep]

    def column(self, name: str) -> pd.Series:
        """One attribute column (taking it from a GeoDataFrame each time is slow)."""
        if name not in self._columns:
            self._columns[name] = self.frame[name]
        return self._columns[name]

    def records(self, rows: Indices, view: LayerView) -> list[dict[str, Any]]:
        """The view's fields of ``rows`` as dicts, masked fields emptied on other operators'
        rows, missing values as None. Each row's dict is built once per view, when a request
        first asks for it: after an edit reloads the layer, a page of 50 builds 50 dicts, not
        the whole layer's."""
        made = self._records.get(view.scope)
        if made is None:
            with self._lock:
                made = self._records.setdefault(
                    view.scope, np.full(len(self.frame), None, dtype=object)
                )
        missing = rows[pd.isna(made[rows])]
        if len(missing):
            columns = [self._objects(name, missing) for name in view.fields]
            if view.masked:
                others = self._objects("operator", missing) != view.mask_except
                for i, name in enumerate(view.fields):
                    if name in view.masked:
                        columns[i] = columns[i].copy()
                        columns[i][others] = None
            built = np.empty(len(missing), dtype=object)
            rows_values = zip(*columns, strict=True)
            built[:] = [dict(zip(view.fields, values, strict=True)) for values in rows_values]
            # Requests at once may build the same rows: equal dicts, any one of them stands.
            made[missing] = built
        found: list[dict[str, Any]] = made[rows].tolist()
        return found

    def _objects(self, name: str, rows: Indices) -> npt.NDArray[np.object_]:
        """One attribute column's ``rows`` as Python values, missing ones None."""
        found: npt.NDArray[np.object_] = (
            self.column(name).array[rows].to_numpy(dtype=object, na_value=None)
        )
        # A float64 column keeps its NaN whatever ``na_value`` says (and json writes NaN, which
        # no JSON parser reads).
        missing = pd.isna(found)
        if missing.any():
            found[missing] = None
        return found

    def geometries(self, rows: Indices) -> npt.NDArray[np.object_] | None:
        """The geometries (WGS84) of ``rows``; None for a layer without geometry."""
        if not self.is_spatial:
            return None
        found: npt.NDArray[np.object_] = self.frame.geometry.to_numpy()[rows]
        return found

    def _values(self, view: LayerView) -> pd.DataFrame:
        """The view's fields as Python objects, missing and masked values as None."""
        values = self.frame[list(view.fields)]
        out = values.astype(object).where(values.notna(), None)
        if view.masked:
            others = self.frame["operator"].to_numpy(dtype=object) != view.mask_except
            out.loc[others, list(view.masked)] = None
        return out

    def point_properties(self, view: LayerView) -> PointProperties:
        """What ``records`` holds (the id as ``fid``, then the view's fields), coded for
        ``encode_points``, once per view."""
        found = self._point_properties.get(view.scope)
        if found is None:
            with self._lock:
                found = self._point_properties.get(view.scope)
                if found is None:
                    values = self._values(view)
                    found = PointProperties.of({"fid": self.fids, **values.to_dict("series")})
                    self._point_properties[view.scope] = found
        return found

    def point_index(self) -> PointIndex:
        """The Z-order index of a point layer's features, made on first use."""
        assert self.points_xy is not None
        if self._point_index is None:
            with self._lock:
                if self._point_index is None:
                    self._point_index = PointIndex(self.points_xy)
        return self._point_index

    def point_tiles(self, view: LayerView, filters: Mapping[str, list[Any]]) -> PointTiles:
        """The tiles of a point layer's rows the view and the filters keep, counted by the
        categories every row shows the caller (none masked on some rows); made on first use,
        kept for the layer's revision (``MAX_POINT_TILES`` of them)."""
        key = _point_tiles_key(view, filters)
        found = self._point_tiles.get(key)
        if found is None:
            index = self.point_index()
            with self._lock:
                found = self._point_tiles.get(key)
                if found is None:
                    if view.only_operator is not None or filters:
                        index = index.subset(self.select(np.arange(len(self.frame)), view, filters))
                    fields = [name for name in AGGREGATE_FIELDS if name in view.filterable]
                    categories = {name: self.category(name) for name in fields}
                    found = PointTiles(index, categories)
                    if len(self._point_tiles) >= MAX_POINT_TILES:
                        self._point_tiles.clear()
                    self._point_tiles[key] = found
        return found

    def ready_point_tiles(
        self, view: LayerView, filters: Mapping[str, list[Any]]
    ) -> PointTiles | None:
        """``point_tiles`` if made already with the view's properties, else None."""
        if view.scope not in self._point_properties:
            return None
        return self._point_tiles.get(_point_tiles_key(view, filters))

    @property
    def points_xy(self) -> npt.NDArray[np.float64] | None:
        """The Web Mercator coordinates of a point layer's features (None for other layers)."""
        if self._points_xy is None and self.mercator is not None and len(self.mercator):
            types = shapely.get_type_id(self.mercator)
            if (types == shapely.GeometryType.POINT).all():
                self._points_xy = shapely.get_coordinates(self.mercator)
        return self._points_xy

    def tile(self, view: LayerView, filters: dict[str, list[Any]], z: int, x: int, y: int) -> bytes:
        """Tile z/x/y of the view's rows that the filters keep."""
        if self.points_xy is not None:
            points = self.point_tiles(view, filters)
            return points.draw(self.name, z, x, y, lambda: self.point_properties(view))
        assert self.mercator is not None
        bounds = tile_bounds(z, x, y)
        rows = self.select(self.query_mercator(buffered(bounds)), view, filters)
        properties = [
            {"fid": f, **r} for f, r in zip(self.fids[rows], self.records(rows, view), strict=True)
        ]
        return encode_tile(self.name, self.mercator[rows], properties, bounds)

    def category(self, name: str) -> Category:
        """Field ``name`` coded for counting (see ``Category``), computed once."""
        if name not in self._categories:
            self._categories[name] = Category.of(self.column(name))
        return self._categories[name]

    def folded(self, name: str) -> pd.Series:
        """``fold`` of a text field, computed once, for accent-insensitive search."""
        if name not in self._folded:
            self._folded[name] = self.frame[name].astype(str).map(fold)
        return self._folded[name]


def _point_tiles_key(view: LayerView, filters: Mapping[str, list[Any]]) -> Hashable:
    return view.scope, tuple(sorted((name, tuple(values)) for name, values in filters.items()))
