"""National-scale synthetic layers for benchmarks (not the Hà Nam sample)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.operators import MOBILE_OPERATORS

#: Rough extent of mainland Vietnam's populated lowlands, enough for realistic spatial spread.
VIETNAM_BBOX = (102.2, 8.6, 109.4, 23.3)


def national_sites(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` sites valid against the catalogue, spread over Vietnam's extent."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = VIETNAM_BBOX
    operators = np.array(MOBILE_OPERATORS)
    towers = np.array(["lattice", "monopole", "rooftop", "guyed"])
    return gpd.GeoDataFrame(
        {
            "site_id": np.char.add("VN-", np.arange(n).astype(str)),
            "operator": operators[rng.integers(0, len(operators), n)],
            "tower_type": towers[rng.integers(0, len(towers), n)],
            "height_m": np.round(rng.uniform(15, 60, n), 1),
            "structure_id": pd.Series(np.char.add("T-", np.arange(n).astype(str))).where(
                rng.random(n) < 0.3
            ),
            "status": "on-air",
            "source": "synthetic benchmark",
        },
        geometry=shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)),
        crs="EPSG:4326",
    )


def colocate(sites: gpd.GeoDataFrame, fraction: float, seed: int = 0) -> gpd.GeoDataFrame:
    """Moves ``fraction`` of the sites to within 20 m of another site, as sharing does."""
    rng = np.random.default_rng(seed)
    n = len(sites)
    movers = rng.choice(n, int(n * fraction), replace=False)
    anchors = rng.integers(0, n, len(movers))
    x = sites.geometry.x.to_numpy().copy()
    y = sites.geometry.y.to_numpy().copy()
    # 20 m is about 0.00018° of latitude; longitude degrees are a little shorter here.
    x[movers] = x[anchors] + rng.uniform(-0.00012, 0.00012, len(movers))
    y[movers] = y[anchors] + rng.uniform(-0.00012, 0.00012, len(movers))
    return sites.set_geometry(shapely.points(x, y), crs=sites.crs)
