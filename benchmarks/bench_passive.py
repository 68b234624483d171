"""Passive infrastructure speed: sites against the zones and exclusion buffers, and the cable
shares by commune, on the whole Ninh Bình sample.

No target is set by the issue; the figures are for the record. The sites are the sample's, and
150,000 points drawn around them (a national network's order of size) against the sample's
zones and exclusions. Baseline in the same process: the same decision taken site by site, each
zone and buffered exclusion tested with ``contains`` in a Python loop (timed on 2,000 points
and given per point). Run: ``python -m benchmarks.bench_passive``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from benchmarks.harness import measure, peak_rss_mib, print_table
from gis_planner.admin import units
from gis_planner.crs import WGS84, metric_crs_of
from gis_planner.passive import RULE_TOWER_TYPES, cable_shares, check, exclusions
from gis_planner.sample import bundled_sample_dir, read_sample_layer, sample_files

N_POINTS = 150_000
N_BASELINE = 2_000


def _layers() -> dict[str, pd.DataFrame]:
    files = sample_files(bundled_sample_dir("ninhbinh"))
    names = ("admin_units", "sites", "fibre_routes", "ducts", "planning_zones",
             "exclusion_areas", "exclusion_points", "military_areas")  # fmt: skip
    return {name: read_sample_layer(files[name]) for name in names}


def _points_around(sites: gpd.GeoDataFrame, n: int, crs: str) -> gpd.GeoSeries:
    """``n`` points within 2 km of the sample's sites (seeded)."""
    gen = np.random.default_rng(21)
    xy = shapely.get_coordinates(sites.geometry.to_crs(crs).to_numpy())
    picked = xy[gen.integers(0, len(xy), n)] + gen.uniform(-2_000, 2_000, (n, 2))
    return gpd.GeoSeries(shapely.points(picked), crs=crs).to_crs(WGS84)


def baseline(
    points: gpd.GeoSeries,
    tower_type: np.ndarray,
    height_m: np.ndarray,
    zones: gpd.GeoDataFrame,
    excluded: gpd.GeoDataFrame,
    crs: str,
) -> list[str]:
    """The outcome of each point, site by site and zone by zone."""
    metric = points.to_crs(crs).to_numpy()
    zone_shapes = zones.geometry.to_crs(crs).to_numpy()
    reach = [
        g.buffer(b, quad_segs=16) if b > 0 else g
        for g, b in zip(excluded.geometry.to_crs(crs), excluded["buffer_m"], strict=True)
    ]
    out = []
    for point, kind, height in zip(metric, tower_type, height_m, strict=True):
        status = "compliant"
        if any(area.intersects(point) for area in reach):
            out.append("forbidden")
            continue
        for zone, row in zip(zone_shapes, zones.itertuples(), strict=True):
            if not zone.intersects(point):
                continue
            listed = "" if pd.isna(row.tower_types) else str(row.tower_types).replace(" ", "")
            allowed = set(listed.split(",")) if listed else set(RULE_TOWER_TYPES["no_rule"])
            allowed &= set(RULE_TOWER_TYPES[row.zone_rule or "no_rule"])
            if kind not in allowed or height > row.max_height_m:
                status = "forbidden"
                break
            if row.permit_required:
                status = "permit_needed"
        out.append(status)
    return out


def main() -> None:
    layers = _layers()
    admin = layers["admin_units"]
    assert isinstance(admin, gpd.GeoDataFrame)
    crs = metric_crs_of(admin)
    zones, sites = layers["planning_zones"], layers["sites"]
    excluded = exclusions(
        layers["exclusion_areas"], layers["exclusion_points"], layers["military_areas"]
    )
    rows = []
    timing, found = measure(
        lambda: check(sites.geometry, sites["tower_type"], sites["height_m"], zones, excluded,
                      metric_crs=crs),
        repeat=3,
    )  # fmt: skip
    rows.append(("sample sites", f"{len(sites):,}", f"{timing.median_s * 1000:,.0f} ms",
                 f"{timing.median_s / len(sites) * 1e6:.1f} µs"))  # fmt: skip
    points = _points_around(sites, N_POINTS, crs)
    types = np.resize(sites["tower_type"].to_numpy(dtype=object), N_POINTS)
    heights = np.resize(sites["height_m"].to_numpy(dtype=np.float64), N_POINTS)
    timing, found = measure(
        lambda: check(points, types, heights, zones, excluded, metric_crs=crs), repeat=3
    )
    per_point_us = timing.median_s / N_POINTS * 1e6
    rows.append(("points around them", f"{N_POINTS:,}", f"{timing.median_s:,.2f} s",
                 f"{per_point_us:.1f} µs"))  # fmt: skip
    sub = slice(0, N_BASELINE)
    naive, decided = measure(
        lambda: baseline(points.iloc[sub], types[sub], heights[sub], zones, excluded, crs),
        repeat=1,
        warmup=0,
    )
    agree = np.mean(np.asarray(decided) == found.status[sub])
    naive_us = naive.median_s / N_BASELINE * 1e6
    rows.append(("baseline (loop)", f"{N_BASELINE:,}", f"{naive.median_s:,.2f} s",
                 f"{naive_us:.1f} µs"))  # fmt: skip
    communes = units(admin, "commune")
    timing, shares = measure(
        lambda: cable_shares(layers["fibre_routes"], communes, layers["ducts"], metric_crs=crs),
        repeat=3,
    )
    rows.append(("cable shares", f"{len(layers['fibre_routes']):,} routes",
                 f"{timing.median_s * 1000:,.0f} ms", ""))  # fmt: skip
    print_table("Passive infrastructure (Ninh Bình sample)", ("what", "n", "median", "a point"),
                rows)  # fmt: skip
    print(f"\nvectorised vs loop, per point: {naive_us / per_point_us:,.0f}× faster")
    print(f"outcomes equal to the loop's on {agree:.1%} of the baseline's points")
    share = shares.loc[shares["level"] == "province", "underground_share"].iloc[0]
    print(f"underground share of the sample's cable: {share:.1%}")
    print(f"peak memory {peak_rss_mib():,.0f} MiB; sites by outcome: "
          f"{pd.Series(found.status).value_counts().to_dict()}")  # fmt: skip


if __name__ == "__main__":
    main()
