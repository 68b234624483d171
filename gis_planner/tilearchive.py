"""Tile archives: a whole pyramid of vector tiles in one file, PMTiles or MBTiles.

A static web server (PMTiles over HTTP range requests), QGIS and MapLibre read them without this
project's server. Each tile holds one MVT layer per store layer, drawn by the same rules as the
server's tiles (``gis_planner.vectortiles``), with every field of the layers: export only what
may be published. MBTiles follows the 1.3 specification (TMS rows, gzip-compressed tiles);
PMTiles is version 3, written by the ``pmtiles`` package.
"""

from __future__ import annotations

import gzip
import json
import math
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.mvtpoints import PointProperties
from gis_planner.pointtiles import PointIndex, PointTiles
from gis_planner.vectortiles import (
    AGGREGATE_FIELDS,
    MAX_ZOOM,
    Category,
    buffered,
    encode_tile,
    feature_ids,
    tile_bounds,
)

ArchiveFormat = Literal["pmtiles", "mbtiles"]
WEB_MERCATOR = "EPSG:3857"
#: Web Mercator stops at ±85.0511° latitude.
MAX_LAT = 85.05112878


@dataclass(frozen=True, eq=False)
class LayerTiles:
    """One layer ready to be cut into tiles: Web Mercator geometry, an index, and each feature's
    properties (its id as ``fid`` and every field, missing values left out)."""

    name: str
    mercator: npt.NDArray[np.object_]
    tree: shapely.STRtree
    properties: list[dict[str, Any]]
    #: A point layer's tiles and its properties coded for them; None for other layers.
    points: PointTiles | None
    point_properties: PointProperties | None
    #: (west, south, east, north) in degrees.
    bounds: tuple[float, float, float, float]

    @classmethod
    def of(cls, name: str, frame: gpd.GeoDataFrame) -> LayerTiles:
        frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)].reset_index(drop=True)
        if frame.empty:
            raise GisPlannerError(f"layer {name!r} has no geometry to tile")
        west, south, east, north = (float(v) for v in frame.to_crs(WGS84).total_bounds)
        if max(abs(south), abs(north)) > MAX_LAT:
            raise GisPlannerError(f"layer {name!r} reaches beyond ±{MAX_LAT}° latitude")
        mercator = frame.geometry.to_crs(WEB_MERCATOR).to_numpy()
        values = frame.drop(columns=frame.geometry.name)
        values = values.astype(object).where(values.notna(), None)
        fids = feature_ids(frame, name)
        types = shapely.get_type_id(mercator)
        points = point_properties = None
        if (types == shapely.GeometryType.POINT).all():
            categories = {f: Category.of(frame[f]) for f in AGGREGATE_FIELDS if f in frame}
            points = PointTiles(PointIndex(shapely.get_coordinates(mercator)), categories)
            point_properties = PointProperties.of({"fid": fids, **values.to_dict("series")})
        records = values.to_dict("records")
        return cls(
            name=name,
            mercator=mercator,
            tree=shapely.STRtree(mercator),
            properties=[{"fid": f, **r} for f, r in zip(fids, records, strict=True)],
            points=points,
            point_properties=point_properties,
            bounds=(west, south, east, north),
        )

    def tile(self, z: int, x: int, y: int) -> bytes:
        if self.points is not None and self.point_properties is not None:
            properties = self.point_properties
            return self.points.draw(self.name, z, x, y, lambda: properties)
        bounds = tile_bounds(z, x, y)
        rows = np.sort(self.tree.query(shapely.box(*buffered(bounds)), predicate="intersects"))
        return encode_tile(
            self.name, self.mercator[rows], [self.properties[i] for i in rows.tolist()], bounds
        )


def tiles_over(bounds: tuple[float, float, float, float], z: int) -> Iterator[tuple[int, int]]:
    """(x, y) of every tile of zoom ``z`` meeting a lon/lat box."""
    n = 1 << z

    def row(lat: float) -> int:
        lat = min(max(lat, -MAX_LAT), MAX_LAT)
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    west, south, east, north = bounds
    x0, x1 = (min(n - 1, int((lon + 180) / 360 * n)) for lon in (west, east))
    for x in range(x0, x1 + 1):
        for y in range(row(north), min(n - 1, row(south)) + 1):
            yield x, y


@dataclass(frozen=True)
class ArchiveSummary:
    path: Path
    tiles: int
    bytes: int
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float]


def write_archive(
    path: Path,
    layers: Mapping[str, gpd.GeoDataFrame],
    fmt: ArchiveFormat = "pmtiles",
    minzoom: int = 0,
    maxzoom: int = 14,
    description: str = "",
) -> ArchiveSummary:
    """Every tile of zooms ``minzoom``–``maxzoom`` holding a feature of ``layers``, in one file
    (written aside, then moved into place)."""
    if not 0 <= minzoom <= maxzoom <= MAX_ZOOM:
        raise GisPlannerError(f"zooms {minzoom}–{maxzoom}: expected 0 ≤ min ≤ max ≤ {MAX_ZOOM}")
    if not layers:
        raise GisPlannerError("no layer to export")
    sources = [LayerTiles.of(name, frame) for name, frame in layers.items()]
    bounds = (
        min(s.bounds[0] for s in sources), min(s.bounds[1] for s in sources),
        max(s.bounds[2] for s in sources), max(s.bounds[3] for s in sources),
    )  # fmt: skip
    metadata = {
        "name": path.stem,
        "description": description,
        "format": "pbf",
        "type": "overlay",
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": ",".join(f"{v:.6f}" for v in bounds),
        "vector_layers": [
            {"id": s.name, "fields": dict.fromkeys(s.properties[0], "")} for s in sources
        ],
    }
    tiles = _pyramid(sources, minzoom, maxzoom)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        count = (_write_pmtiles if fmt == "pmtiles" else _write_mbtiles)(
            partial, tiles, metadata, bounds, minzoom, maxzoom
        )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return ArchiveSummary(path, count, path.stat().st_size, minzoom, maxzoom, bounds)


def _pyramid(
    sources: Sequence[LayerTiles], minzoom: int, maxzoom: int
) -> Iterator[tuple[int, int, int, bytes]]:
    """(z, x, y, MVT) of every non-empty tile, each layer of it encoded on its own (an MVT
    of several layers is the concatenation of their encodings)."""
    for z in range(minzoom, maxzoom + 1):
        wanted: set[tuple[int, int]] = set()
        for source in sources:
            wanted.update(tiles_over(source.bounds, z))
        for x, y in sorted(wanted):
            data = b"".join(s.tile(z, x, y) for s in sources)
            if data:
                yield z, x, y, data


def _write_pmtiles(
    path: Path,
    tiles: Iterator[tuple[int, int, int, bytes]],
    metadata: dict[str, Any],
    bounds: tuple[float, float, float, float],
    minzoom: int,
    maxzoom: int,
) -> int:
    # PMTiles wants tiles in the order of their Hilbert ids to be "clustered".
    ordered = sorted(
        ((zxy_to_tileid(z, x, y), gzip.compress(data, mtime=0)) for z, x, y, data in tiles)
    )
    if not ordered:
        raise GisPlannerError("the layers give no tile at these zooms")
    west, south, east, north = bounds
    with path.open("wb") as out:
        writer = Writer(out)
        for tile_id, data in ordered:
            writer.write_tile(tile_id, data)
        header = {
            "tile_type": TileType.MVT,
            "tile_compression": Compression.GZIP,
            "min_zoom": minzoom,
            "max_zoom": maxzoom,
            "min_lon_e7": int(west * 1e7),
            "min_lat_e7": int(south * 1e7),
            "max_lon_e7": int(east * 1e7),
            "max_lat_e7": int(north * 1e7),
            "center_zoom": minzoom,
            "center_lon_e7": int((west + east) / 2 * 1e7),
            "center_lat_e7": int((south + north) / 2 * 1e7),
        }
        writer.finalize(header, metadata)
    return len(ordered)


def _write_mbtiles(
    path: Path,
    tiles: Iterator[tuple[int, int, int, bytes]],
    metadata: dict[str, Any],
    bounds: tuple[float, float, float, float],
    minzoom: int,
    maxzoom: int,
) -> int:
    path.unlink(missing_ok=True)
    fields = {k: v for k, v in metadata.items() if k != "vector_layers"}
    fields["json"] = json.dumps({"vector_layers": metadata["vector_layers"]})
    centre = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    fields["center"] = f"{centre[0]:.6f},{centre[1]:.6f},{minzoom}"
    count = 0
    with closing(sqlite3.connect(path)) as con, con:
        con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        con.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
            "tile_data BLOB)"
        )
        con.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        rows = [(k, str(v)) for k, v in fields.items()]
        con.executemany("INSERT INTO metadata VALUES (?, ?)", rows)
        for z, x, y, data in tiles:
            # MBTiles rows count from the south (TMS).
            con.execute(
                "INSERT INTO tiles VALUES (?, ?, ?, ?)",
                (z, x, (1 << z) - 1 - y, gzip.compress(data, mtime=0)),
            )
            count += 1
    if not count:
        raise GisPlannerError("the layers give no tile at these zooms")
    return count
