"""Small hand-built fibre networks in UTM 48N metres, for the fibre tests."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import shapely

#: An origin inside Hà Nam, so that every coordinate is plausible once stored in WGS84, in
#: metres of Hà Nam's UTM zone.
METRIC_CRS = "EPSG:32648"
X0, Y0 = 590_000.0, 2_270_000.0

Route = tuple[str, str, Sequence[tuple[float, float]]]
Node = tuple[str, str, str, tuple[float, float]]


def routes(rows: Sequence[Route], route_class: str = "distribution") -> gpd.GeoDataFrame:
    """Routes from (route_id, operator, [(x, y), …]) with x, y relative to the origin."""
    return gpd.GeoDataFrame(
        {
            "route_id": [r[0] for r in rows],
            "operator": [r[1] for r in rows],
            "route_class": route_class,
            "cores": 48,
            "laying": "aerial",
        },
        geometry=[shapely.LineString([(X0 + x, Y0 + y) for x, y in r[2]]) for r in rows],
        crs=METRIC_CRS,
    )


def nodes(rows: Sequence[Node]) -> gpd.GeoDataFrame:
    """Nodes from (node_id, operator, node_type, (x, y))."""
    return gpd.GeoDataFrame(
        {
            "node_id": [r[0] for r in rows],
            "operator": [r[1] for r in rows],
            "node_type": [r[2] for r in rows],
        },
        geometry=[shapely.Point(X0 + r[3][0], Y0 + r[3][1]) for r in rows],
        crs=METRIC_CRS,
    )


def points(xy: Sequence[tuple[float, float]]) -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=METRIC_CRS)


def squares(
    codes: Sequence[str], centres: Sequence[tuple[float, float]], half_m: float = 50.0
) -> gpd.GeoDataFrame:
    """Square villages of side 2 × ``half_m`` around the given centres."""
    return gpd.GeoDataFrame(
        {"code": list(codes), "population": [1000] * len(codes)},
        geometry=[
            shapely.box(X0 + x - half_m, Y0 + y - half_m, X0 + x + half_m, Y0 + y + half_m)
            for x, y in centres
        ],
        crs=METRIC_CRS,
    )
