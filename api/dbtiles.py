"""A layer's vector tiles from PostGIS while the cached layer is stale.

Every edit moves the layer's revision, and the cached layer is then read again whole on its
next use (the cells: thousands of rows; national sites: 150,000). While it is stale (read
before, at an older revision), a tile is drawn from its own rows instead: PostGIS finds the
rows near the tile through its GiST index, acting for the caller (row-level security), and
the code that draws the cache's tiles draws them, selecting in Web Mercator as the cache does,
so a tile is the cache's to the byte whatever answered it. The rows are those whose bounding
box meets the tile and its buffer (``PostGISStore.read_near``): the cache joins a line's
vertices straight in Web Mercator and PostgreSQL in lon/lat, two lines apart by kilometres on
a long edge, but a bounding box in lon/lat is one in Web Mercator too. A tile that would read
more than ``MAX_ROWS`` rows, or ``MAX_SHARE`` of the layer (a low zoom), waits for the layer,
read once for all; and a layer stale for a while is read again in the background
(``LayerCache.used_stale``). A layer never read is read on its first tile: the tiles after
come from memory, quicker than any query.

Not ``ST_AsMVT``: it writes other tiles than the cache's (values typed by PostgreSQL, no counts
of crowded tiles, no size cap), and a tile must not change with what answered it.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.access import Principal, layer_view
from api.cachedlayer import WEB_MERCATOR, CachedLayer
from api.featurepages import same_in_sql
from api.layercache import LayerCache, parse_filters
from gis_planner.catalogue import CATALOGUE
from gis_planner.crs import WGS84, transformer
from gis_planner.store import PostGISStore
from gis_planner.vectortiles import MAX_DETAIL_POINTS, buffered, tile_bounds

#: Rows a tile reads from PostGIS at most: a tile showing its points holds at most
#: ``MAX_DETAIL_POINTS`` in its rectangle, and its buffer and the rows whose bounding box only
#: meets it a few times that.
MAX_ROWS = 4 * MAX_DETAIL_POINTS
#: Degrees read around a tile's box: what the projection's round trip may move an edge by.
MARGIN_DEG = 1e-6
#: A tile reading more than this share of the layer's rows waits for the layer instead.
MAX_SHARE = 0.25


def database_tile(
    layers: LayerCache, name: str, who: Principal, params: Sequence[tuple[str, str]], z: int,
    x: int, y: int,
) -> bytes | None:  # fmt: skip
    """Tile z/x/y of layer ``name`` for ``who`` from PostGIS, or None for the cache to
    answer: another store, a layer it does not hold stale (current, or never read), a table,
    a filter SQL would match otherwise, or more than ``MAX_ROWS`` rows. The caller is known
    to see the layer (``check_visible``) and the tile to exist."""
    store, spec = layers.store, CATALOGUE.get(name)
    if not isinstance(store, PostGISStore) or spec is None or spec.geometry_type is None:
        return None
    if not layers.is_stale(name):
        return None  # current, or never read: its first tile reads it, for the tiles after
    view = layer_view(name, spec.field_names, who)
    assert view is not None
    filters = parse_filters(params, name, view.filterable)
    if not same_in_sql(spec, None, filters):
        return None
    minx, miny, maxx, maxy = buffered(tile_bounds(z, x, y))
    lons, lats = transformer(WEB_MERCATOR, WGS84).transform([minx, maxx], [miny, maxy])
    box = (lons[0] - MARGIN_DEG, lats[0] - MARGIN_DEG, lons[1] + MARGIN_DEG, lats[1] + MARGIN_DEG)
    max_rows = min(MAX_ROWS, int(layers.info(name).count * MAX_SHARE))
    rows = store.acting_for(who).read_near(name, box, filters=filters, max_rows=max_rows)
    if rows is None:
        return None
    layers.used_stale(name)
    part = CachedLayer.of(name, "", rows)
    part_view = layer_view(name, part.fields, who)
    assert part_view is not None
    return part.tile(part_view, filters, z, x, y)
