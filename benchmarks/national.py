"""A national synthetic network on the real 2025 provinces, generated on demand (never committed).

Settlements are the commune centroids of the ``vietnamadminunits`` package (3,321 communes of
July 2025); positions gather around them, each inside its own province's real outline, with the
Hà Nam sample's rules (``layers.synthetic.radio``): the operators' shares, the towers by urban
or rural commune and their capacities, the tenants of a shared position, the carriers and their
sectors. The communes have no public polygons, so ``national_admin_units`` makes approximate
ones: the Voronoi cells of the centroids inside each province.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gis_planner.crs import WGS84, lonlat_to_metric, metric_crs
from layers.synthetic.common import SOURCES, largest_remainder, sample_in_polygon, voronoi_cells
from layers.synthetic.radio import (
    CARRIERS,
    NR35,
    NR_OPERATORS,
    OPERATOR_SHARE,
    SITE_PREFIX,
    TENANTS,
    TOWER_MIX,
    TOWERS,
    URBAN_WEIGHT,
)

#: The 34 provinces of July 2025 (see ``layers/SOURCES.md``).
PROVINCES = SOURCES / "vietnam_provinces_2025-07.geojson"
ADMIN_VERSION = "2025-07"
SOURCE = "synthetic (gis-planner national benchmark)"
#: The plan's target is 25–30 % of positions shared; the generator aims at the middle.
SHARED_SHARE = 0.27
#: Positions closer than this are redrawn: the sample's urban spacing is 300 m, and two
#: unrelated positions within the 30 m tolerance would merge into a shared one.
MIN_SPACING_M = 150.0
#: Positions drawn per position wanted, for those the spacing drops.
OVERDRAW = 1.15
#: Tenants of a shared position stand this far at most from its centre (under the tolerance).
TENANT_OFFSET_M = 12.0
#: Share of shared positions whose tenants record one structure id.
STRUCTURE_SHARE = 0.5
#: 5G on this share of the on-air sites of the NR operators in wards (phường).
NR_URBAN_SHARE = 0.15
#: One metre in degrees of latitude (offsets of a few km: an equirectangular step is enough).
DEG_PER_M = 1 / 110_574.0


def provinces(path: Path = PROVINCES) -> gpd.GeoDataFrame:
    """The province outlines, ``code`` and ``name``, in WGS84."""
    frame = gpd.read_file(path)
    return frame[["code", "name", "geometry"]].to_crs(WGS84)


def commune_seeds() -> pd.DataFrame:
    """The communes of July 2025 from ``vietnamadminunits``: code, province, centroid, ward."""
    from vietnamadminunits.database import get_data

    fields = ["wardCode", "ward", "provinceCode", "wardType", "wardLon", "wardLat", "wardAreaKm2"]
    raw = pd.DataFrame(get_data(fields))
    return pd.DataFrame(
        {
            "code": raw["wardCode"].astype(str),
            "name": raw["ward"].astype(str),
            "province_code": raw["provinceCode"].astype(str),
            "urban": (raw["wardType"] == "Phường").to_numpy(),
            "lon": raw["wardLon"].astype(float),
            "lat": raw["wardLat"].astype(float),
            "area_km2": raw["wardAreaKm2"].astype(float),
        }
    ).sort_values("code", ignore_index=True)


def national_admin_units(outlines: gpd.GeoDataFrame, seeds: pd.DataFrame) -> gpd.GeoDataFrame:
    """Provinces and approximate communes (Voronoi cells of the centroids in their province),
    as an ``admin_units`` layer of version 2025-07 (a commune's parent is its province)."""
    parts = []
    for outline in outlines.itertuples():
        of = seeds[seeds["province_code"] == outline.code]
        if of.empty:
            continue
        crs = metric_crs(outline.geometry.bounds)
        x, y = lonlat_to_metric(of["lon"], of["lat"], crs)
        clip = gpd.GeoSeries([outline.geometry], crs=WGS84).to_crs(crs).iloc[0]
        cells = gpd.GeoSeries(voronoi_cells(np.column_stack([x, y]), clip), crs=crs).to_crs(WGS84)
        columns = {
            "code": of["code"].to_numpy(),
            "name": of["name"].to_numpy(),
            "unit_type": np.where(of["urban"], "ward", "rural_commune"),
        }
        part = gpd.GeoDataFrame(columns, geometry=cells.to_numpy(), crs=WGS84)
        parts.append(part.assign(level="commune", parent_code=outline.code))
    top = outlines.assign(level="province", parent_code=None)
    frame = pd.concat([top, *parts], ignore_index=True).assign(admin_version=ADMIN_VERSION)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=WGS84)


def national_network(
    n_positions: int = 100_000,
    *,
    outlines: gpd.GeoDataFrame | None = None,
    seeds: pd.DataFrame | None = None,
    seed: int = 0,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(sites, cells) of about ``n_positions`` positions over Vietnam, deterministic in ``seed``.

    Positions are split between communes by their weight (wards count ``URBAN_WEIGHT`` times a
    rural commune) and drawn around each centroid over the commune's radius, redrawn until
    they lie in the commune's province and ``MIN_SPACING_M`` from any other. ``SHARED_SHARE``
    of them host 2–4 operators (the sample's ``TENANTS``), the rest one.
    """
    rng = np.random.default_rng(seed)
    outlines = provinces() if outlines is None else outlines
    seeds = commune_seeds() if seeds is None else seeds
    seeds = seeds[seeds["province_code"].isin(outlines["code"])].reset_index(drop=True)
    weight = np.where(seeds["urban"], URBAN_WEIGHT, 1.0)
    # Drawn with a margin for the points dropped by the spacing, then thinned to the count.
    per_commune = largest_remainder(int(n_positions * OVERDRAW), weight)
    commune = np.repeat(np.arange(len(seeds)), per_commune)
    lon, lat = _place(seeds, commune, outlines, rng)
    lon, lat, commune = _spaced(lon, lat, commune)
    kept = np.sort(rng.choice(len(lon), min(n_positions, len(lon)), replace=False))
    positions = pd.DataFrame({"commune": commune[kept], "lon": lon[kept], "lat": lat[kept]})
    sites = _sites(positions, seeds, outlines.set_index("code").geometry, rng)
    return sites, _cells(sites, rng)


def _place(
    seeds: pd.DataFrame,
    commune: npt.NDArray[np.int64],
    outlines: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Points around their commune's centroid, each inside its province's outline."""
    # The package's areas are sometimes far too large: a commune's radius is capped at 8 km.
    radius_m = np.clip(np.sqrt(seeds["area_km2"].to_numpy() * 1e6 / np.pi), 500, 8_000)
    lon0, lat0 = seeds["lon"].to_numpy(), seeds["lat"].to_numpy()
    by_code = outlines.set_index("code").geometry
    province = seeds["province_code"].to_numpy()[commune]
    lon, lat = np.full(len(commune), np.nan), np.full(len(commune), np.nan)
    todo = np.arange(len(commune))
    for attempt in range(8):
        # Each retry draws closer to the centroid: a coastal commune's points fall in the sea.
        spread = radius_m[commune[todo]] / 2 / (attempt + 1)
        dy, dx = rng.normal(0, 1, (2, len(todo))) * spread
        c = commune[todo]
        lat[todo] = lat0[c] + dy * DEG_PER_M
        lon[todo] = lon0[c] + dx * DEG_PER_M / np.cos(np.radians(lat0[c]))
        todo = todo[~_inside(by_code, province[todo], lon[todo], lat[todo])]
        if not len(todo):
            break
    # Centroids geocoded outside their (simplified) province: anywhere inside it.
    for code in np.unique(province[todo]):
        rows = todo[province[todo] == code]
        xy = sample_in_polygon(by_code[code], len(rows), rng)
        lon[rows], lat[rows] = xy[:, 0], xy[:, 1]
    return lon, lat


def _inside(
    outlines: gpd.GeoSeries,
    province: npt.NDArray[np.str_],
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    inside = np.zeros(len(lon), dtype=bool)
    for code in np.unique(province):
        rows = province == code
        inside[rows] = shapely.contains_xy(outlines[code], lon[rows], lat[rows])
    return inside


def _spaced(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], commune: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The points with the later of each pair closer than ``MIN_SPACING_M`` dropped."""
    crs = metric_crs((lon.min(), lat.min(), lon.max(), lat.max()))
    x, y = lonlat_to_metric(lon, lat, crs)
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(MIN_SPACING_M, output_type="ndarray")
    keep = np.ones(len(lon), dtype=bool)
    keep[pairs.max(axis=1)] = False
    return lon[keep], lat[keep], commune[keep]


def _choose(rng: np.random.Generator, log_weight: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Per row, the columns ordered by a draw without replacement (Gumbel top-k)."""
    keys = log_weight + rng.gumbel(size=log_weight.shape)
    return np.argsort(-keys, axis=1, kind="stable")


def _sites(
    positions: pd.DataFrame,
    seeds: pd.DataFrame,
    outlines: gpd.GeoSeries,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    n = len(positions)
    urban = seeds["urban"].to_numpy()[positions["commune"].to_numpy()]
    counts, probs = zip(*TENANTS, strict=True)
    tenants = np.where(
        rng.random(n) < SHARED_SHARE, rng.choice(np.array(counts), n, p=np.array(probs)), 1
    )
    # Towers able to carry the tenants, in the urban or rural mix.
    names = list(TOWERS)
    capacity = np.array([TOWERS[t][0] for t in names])
    mix = np.array([[TOWER_MIX[u].get(t, 0.0) for t in names] for u in (False, True)])
    with np.errstate(divide="ignore"):
        log_mix = np.log(mix[urban.astype(int)])
    log_mix[capacity[None, :] < tenants[:, None]] = -np.inf
    tower = _choose(rng, log_mix)[:, 0]
    low = np.array([TOWERS[t][1][0] for t in names])[tower]
    high = np.array([TOWERS[t][1][1] for t in names])[tower]
    height = np.round(rng.uniform(low, high), 0)

    operators = np.array(list(OPERATOR_SHARE))
    share = np.array(list(OPERATOR_SHARE.values()))
    order = _choose(rng, np.broadcast_to(np.log(share), (n, len(share))))
    position = np.repeat(np.arange(n), tenants)
    rank = np.arange(len(position)) - np.repeat(np.cumsum(tenants) - tenants, tenants)
    operator = operators[order[position, rank]]
    shared = tenants[position] > 1
    angle = rng.uniform(0, 2 * np.pi, len(position))
    offset = np.where(shared, rng.uniform(0, TENANT_OFFSET_M, len(position)), 0.0)
    lat = positions["lat"].to_numpy()[position] + offset * np.sin(angle) * DEG_PER_M
    lon = positions["lon"].to_numpy()[position] + offset * np.cos(angle) * DEG_PER_M / np.cos(
        np.radians(lat)
    )
    commune = positions["commune"].to_numpy()[position]
    province = seeds["province_code"].to_numpy()[commune]
    # A tenant the offset put over the province's border stands at the position's centre.
    over = ~_inside(outlines, province, lon, lat)
    lon[over] = positions["lon"].to_numpy()[position[over]]
    lat[over] = positions["lat"].to_numpy()[position[over]]
    on_structure = (tenants > 1) & (rng.random(n) < STRUCTURE_SHARE)
    structure = pd.Series(np.char.add("S-", position.astype(str))).where(on_structure[position])
    seq = pd.Series(operator).groupby(operator).cumcount().to_numpy() + 1
    prefix = pd.Series(operator).map(SITE_PREFIX).to_numpy(dtype=str)
    site_id = np.char.add(np.char.add(np.char.add(prefix, "-"), province), "-")
    site_id = np.char.add(site_id, np.char.zfill(seq.astype(str), 6))
    return gpd.GeoDataFrame(
        {
            "site_id": site_id,
            "operator": operator,
            "tower_type": np.array(names)[tower][position],
            "height_m": height[position],
            "structure_id": structure.to_numpy(dtype=object),
            "max_tenants": capacity[tower][position],
            "commune_code": seeds["code"].to_numpy()[commune],
            "province_code": province,
            "urban": urban[position],
            "status": "on-air",
            "source": SOURCE,
        },
        geometry=shapely.points(lon, lat),
        crs=WGS84,
    )


def _cells(sites: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Sectors of every site: 3 per carrier (1 omni on street poles), sharing azimuths.

    2G and 3G are being switched off nationally: 3G is left out, 2G kept as the sample has it.
    """
    rows = [
        (op, carrier) for op, carriers in CARRIERS.items() for carrier in carriers
        if carrier.technology != "3G"
    ]  # fmt: skip
    rows += [(op, NR35) for op in NR_OPERATORS]
    table = pd.DataFrame(
        {
            "operator": [op for op, _ in rows],
            "carrier": np.arange(len(rows)),
            "share_urban": [NR_URBAN_SHARE if c is NR35 else c.share[0] for _, c in rows],
            "share_rural": [0.0 if c is NR35 else c.share[1] for _, c in rows],
        }
    )
    carriers = [c for _, c in rows]
    pairs = pd.DataFrame({"site": np.arange(len(sites)), "operator": sites["operator"].to_numpy()})
    pairs = pairs.merge(table, on="operator").sort_values(["site", "carrier"], ignore_index=True)
    urban = sites["urban"].to_numpy()[pairs["site"].to_numpy()]
    share = np.where(urban, pairs["share_urban"], pairs["share_rural"])
    pairs = pairs[rng.random(len(pairs)) < share].reset_index(drop=True)

    site = pairs["site"].to_numpy()
    omni = sites["tower_type"].to_numpy()[site] == "street_pole"
    sectors = np.where(omni, 1, 3)
    base_azimuth = rng.uniform(0, 120, len(sites))
    cell_site = np.repeat(site, sectors)
    carrier = np.repeat(pairs["carrier"].to_numpy(), sectors)
    k = np.arange(len(cell_site)) - np.repeat(np.cumsum(sectors) - sectors, sectors)
    omni = np.repeat(omni, sectors)
    azimuth = np.round(base_azimuth[cell_site] + 120 * k + rng.normal(0, 8, len(k))) % 360

    def of_carrier(field: str) -> npt.NDArray[np.float64]:
        return np.array([getattr(c, field) for c in carriers], dtype=float)[carrier]

    technology = np.array([c.technology for c in carriers])[carrier]
    code = np.array([c.code for c in carriers])[carrier]
    site_id = sites["site_id"].to_numpy(dtype=str)[cell_site]
    height = sites["height_m"].to_numpy()[cell_site] - rng.uniform(1, 5, len(k))
    height = np.maximum(8.0, height - np.where(technology == "2G", 2.0, 0.0))
    cell_id = np.char.add(np.char.add(np.char.add(site_id, "-"), code), "-")
    return gpd.GeoDataFrame(
        {
            "cell_id": np.char.add(cell_id, (k + 1).astype(str)),
            "site_id": site_id,
            "operator": sites["operator"].to_numpy(dtype=str)[cell_site],
            "technology": technology,
            "band_mhz": of_carrier("band_mhz"),
            "bandwidth_mhz": of_carrier("bandwidth_mhz"),
            "azimuth_deg": azimuth,
            "mech_tilt_deg": np.round(rng.uniform(0, 2, len(k)) * 2) / 2,
            "elec_tilt_deg": rng.integers(2, 9, len(k)).astype(float),
            "height_m": np.round(height, 1),
            "tx_power_dbm": of_carrier("tx_power_dbm"),
            "antenna_gain_dbi": np.where(omni, 9.0, of_carrier("gain_dbi")),
            "feeder_loss_db": of_carrier("feeder_loss_db"),
            "h_beamwidth_deg": np.where(omni, 360.0, 65.0),
            "v_beamwidth_deg": of_carrier("v_beamwidth_deg"),
            "status": "on-air",
            "source": SOURCE,
        },
        geometry=sites.geometry.to_numpy()[cell_site],
        crs=WGS84,
    )
