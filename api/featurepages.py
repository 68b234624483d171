"""A page of a layer's features for one caller: from the layer cache while it holds the layer's
current revision, else, on PostGIS, from the database.

Every edit moves the store's revision, and the cached layer is then read again whole on its
next use (the cells: thousands of rows). While a layer is stale, PostGIS answers a page with
one query of its rows instead, as the caller (its row-level security and shared views), and
the cache is left for when it is faster: a layer it holds at the current revision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from api.access import LayerView, Principal, layer_view
from api.layercache import LayerCache, parse_filters
from gis_planner.catalogue import CATALOGUE
from gis_planner.catalogue.spec import LayerSpec
from gis_planner.jobs.editing import feature_id_of
from gis_planner.store import PostGISStore
from gis_planner.store.base import BBox


@dataclass(frozen=True)
class FeaturePage:
    """The features of one page: ids, geometries (WGS84; None for a layer without geometry),
    the caller's view of their properties, and how many features matched in all."""

    fids: npt.NDArray[np.object_]
    geometries: npt.NDArray[np.object_] | None
    records: list[dict[str, Any]]
    matched: int


def feature_page(
    layers: LayerCache,
    name: str,
    who: Principal,
    params: Sequence[tuple[str, str]],
    bbox: BBox | None,
    limit: int,
    offset: int,
) -> FeaturePage:
    """Features ``offset`` to ``offset + limit`` of layer ``name`` that ``who`` sees, within
    ``bbox`` and meeting the property filters of ``params`` (``BadQuery`` if one is not a
    field ``who`` may filter on), in the layer's order. The caller is known to see the layer
    (``check_visible``)."""
    store, spec = layers.store, CATALOGUE.get(name)
    if isinstance(store, PostGISStore) and spec is not None and not layers.is_current(name):
        view = layer_view(name, spec.field_names, who)
        assert view is not None
        filters = parse_filters(params, name, view.filterable)
        if same_in_sql(spec, bbox, filters):
            return _from_database(store.acting_for(who), spec, view, bbox, filters, limit, offset)
    layer = layers.layer(name)
    view = layer_view(name, layer.fields, who)
    assert view is not None
    filters = parse_filters(params, name, view.filterable)
    rows = layer.query_lonlat(bbox) if bbox is not None else np.arange(len(layer.frame))
    rows = layer.select(rows, view, filters)
    page = rows[offset : offset + limit]
    return FeaturePage(
        layer.fids[page], layer.geometries(page), layer.records(page, view), len(rows)
    )


def same_in_sql(spec: LayerSpec, bbox: BBox | None, filters: Mapping[str, list[Any]]) -> bool:
    """Whether the database's answer is the cache's.

    The cache intersects geometries with the bbox in Web Mercator, where a line's or polygon's
    edges are other lines than in lon/lat (a point is in a box in both or in neither); and
    pandas matches a NaN filter value to missing values, where SQL's ``IN`` does not.
    """
    if bbox is not None and spec.geometry_type not in (None, "Point"):
        return False
    return not any(
        isinstance(value, float) and math.isnan(value)
        for values in filters.values()
        for value in values
    )


def _from_database(
    store: PostGISStore,
    spec: LayerSpec,
    view: LayerView,
    bbox: BBox | None,
    filters: Mapping[str, list[Any]],
    limit: int,
    offset: int,
) -> FeaturePage:
    """The page read by ``store`` acting for the caller: the rows it returns are those the
    caller may see, the fields emptied that it may not see on them."""
    page = store.read_page(
        spec.name, bbox=bbox, filters=filters, columns=view.fields, limit=limit, offset=offset
    )
    fids = np.array([feature_id_of(spec, record) for record in page.records], dtype=object)
    return FeaturePage(fids, page.geometries, page.records, page.matched)
