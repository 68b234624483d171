"""Synthetic BTS positions, operators' sites on them, and their cells.

Each former province gets its own number of positions, drawn where people live (villages
weighted by population, wards 1.8 times more), with a minimum spacing of 300 m in wards and
townships and 750 m elsewhere. About 19 % of them are shared by two to four operators, below the
plan's 25–30 % so that the sharing analyses have work. Tenants of a shared structure stand 0–4 m
apart with a common structure id, or up to 14 m apart without one, or in a chain 22 m + 22 m;
twelve "near-miss" pairs of different operators stand 35–60 m apart (two positions at the
default 30 m tolerance); six structures carry two site ids of the same operator. 5G NR starts in
each former province's zones (its ``Part.nr_zones``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.synthetic.common import rng, sample_in_polygon
from layers.synthetic.part import NrZone, Part

NEAR_MISS_PAIRS = 12
SAME_OPERATOR_TWICE = 6
SHARED_SHARE = 0.19
OPERATOR_SHARE = {"viettel": 0.40, "vnpt": 0.28, "mobifone": 0.22, "vietnamobile": 0.10}
SITE_PREFIX = {"viettel": "VTL", "vnpt": "VNP", "mobifone": "MBF", "vietnamobile": "VNM"}
SPACING_M = {True: 300.0, False: 750.0}
URBAN_WEIGHT = 1.8
TENANTS = ((2, 0.78), (3, 0.18), (4, 0.04))
PLANNED_SHARE = 0.03

#: tower type → (capacity in tenants, height range in m); probabilities urban / rural.
TOWERS = {
    "lattice": (4, (30, 60)),
    "guyed": (3, (27, 45)),
    "monopole": (2, (21, 36)),
    "rooftop": (3, (15, 30)),
    "street_pole": (1, (9, 15)),
}
TOWER_MIX = {
    True: {"rooftop": 0.42, "monopole": 0.33, "lattice": 0.20, "street_pole": 0.05},
    False: {"lattice": 0.55, "monopole": 0.25, "guyed": 0.20},
}


@dataclass(frozen=True)
class Carrier:
    """One radio layer an operator deploys: technology, band, bandwidth, power, antenna."""

    code: str
    technology: str
    band_mhz: float
    bandwidth_mhz: float
    tx_power_dbm: float
    gain_dbi: float
    feeder_loss_db: float
    v_beamwidth_deg: float
    #: probability that a site carries it: (in wards/townships, elsewhere)
    share: tuple[float, float]


G9 = ("G9", "2G", 900.0, 0.2, 43.0, 15.5, 2.0, 12.0)
U21 = ("U21", "3G", 2100.0, 5.0, 43.0, 17.5, 2.0, 7.0)
CARRIERS: dict[str, tuple[Carrier, ...]] = {
    "viettel": (
        Carrier(*G9, share=(0.7, 0.7)),
        Carrier(*U21, share=(0.35, 0.35)),
        Carrier("L18", "4G", 1800.0, 20.0, 46.0, 17.5, 0.5, 7.0, share=(1.0, 1.0)),
        Carrier("L26", "4G", 2600.0, 20.0, 46.0, 18.0, 0.5, 6.5, share=(0.6, 0.1)),
    ),
    "vnpt": (
        Carrier(*G9, share=(0.5, 0.5)),
        Carrier(*U21, share=(0.4, 0.4)),
        Carrier("L18", "4G", 1800.0, 20.0, 46.0, 17.5, 0.5, 7.0, share=(1.0, 1.0)),
        Carrier("L21", "4G", 2100.0, 15.0, 44.8, 17.5, 0.5, 7.0, share=(0.5, 0.1)),
    ),
    "mobifone": (
        Carrier(*G9, share=(0.5, 0.5)),
        Carrier(*U21, share=(0.4, 0.4)),
        Carrier("L18", "4G", 1800.0, 15.0, 44.8, 17.5, 0.5, 7.0, share=(1.0, 1.0)),
        Carrier("L21", "4G", 2100.0, 10.0, 43.0, 17.5, 0.5, 7.0, share=(0.5, 0.1)),
    ),
    "vietnamobile": (
        Carrier(*G9, share=(0.3, 0.3)),
        Carrier(*U21, share=(0.3, 0.3)),
        Carrier("L18", "4G", 1800.0, 15.0, 44.8, 17.5, 0.5, 7.0, share=(1.0, 1.0)),
    ),
}
NR35 = Carrier("N35", "5G", 3500.0, 100.0, 53.0, 24.0, 0.0, 10.0, share=(0.0, 0.0))
NR_OPERATORS = ("viettel", "vnpt", "mobifone")


def _pick(gen: np.random.Generator, mix: dict[str, float]) -> str:
    keys = list(mix)
    weights = np.array([mix[k] for k in keys])
    return keys[int(gen.choice(len(keys), p=weights / weights.sum()))]


def _positions(villages: gpd.GeoDataFrame, count: int, gen: np.random.Generator) -> pd.DataFrame:
    """Greedy spaced sampling of candidate points, in population-weighted random order."""
    urban = (villages["village_type"] == "to_dan_pho").to_numpy()
    weight = villages["population"].to_numpy(float) * np.where(urban, URBAN_WEIGHT, 1.0)
    per_village = 8
    points, owner = [], []
    for i, poly in enumerate(villages.geometry):
        points.append(sample_in_polygon(poly, per_village, gen))
        owner.append(np.full(per_village, i))
    xy = np.concatenate(points)
    village = np.concatenate(owner)
    # Weighted random order without replacement (Gumbel-max keys).
    keys = np.log(weight[village]) + gen.gumbel(size=len(xy))
    accepted: list[int] = []
    for idx in np.argsort(-keys, kind="stable"):
        spacing = SPACING_M[bool(urban[village[idx]])]
        if accepted:
            d = np.hypot(*(xy[accepted] - xy[idx]).T)
            if d.min() < spacing:
                continue
        accepted.append(int(idx))
        if len(accepted) == count:
            break
    chosen = np.array(accepted)
    return pd.DataFrame(
        {
            "x": xy[chosen, 0],
            "y": xy[chosen, 1],
            "village": villages.index[village[chosen]],
            "urban": urban[village[chosen]],
        }
    )


def _tenancy(positions: pd.DataFrame, gen: np.random.Generator) -> list[list[str]]:
    ops = list(OPERATOR_SHARE)
    share = np.array([OPERATOR_SHARE[o] for o in ops])
    n_shared = round(SHARED_SHARE * (len(positions) + NEAR_MISS_PAIRS))
    shared = set(gen.choice(len(positions), size=n_shared, replace=False).tolist())
    sizes, probs = zip(*TENANTS, strict=True)
    tenants = []
    for i in range(len(positions)):
        k = int(gen.choice(sizes, p=probs)) if i in shared else 1
        picked = gen.choice(len(ops), size=k, replace=False, p=share)
        tenants.append([ops[j] for j in sorted(picked)])
    return tenants


def _structure(gen: np.random.Generator, urban: bool, tenants: int) -> tuple[str, float, int]:
    mix = {t: p for t, p in TOWER_MIX[urban].items() if TOWERS[t][0] >= tenants}
    tower = _pick(gen, mix)
    capacity, (low, high) = TOWERS[tower]
    return tower, float(round(gen.uniform(low, high))), capacity


def build_sites(
    villages: gpd.GeoDataFrame, parts: Sequence[Part], part_of: pd.Series
) -> gpd.GeoDataFrame:
    """Sites in the villages' CRS with a ``position`` column (the ground truth of the sample's
    positions) and the row label of their ``village``; ``part_of`` gives each village's part."""
    gen = rng("sites")
    frames, first = [], 0
    for part in parts:
        frame = _part_sites(villages[part_of == part.code], part, gen, first)
        frames.append(frame)
        first = int(frame["position"].max()) + 1
    sites = pd.concat(frames, ignore_index=True)
    geometry = shapely.points(sites["x"].to_numpy(), sites["y"].to_numpy())
    return gpd.GeoDataFrame(sites, geometry=geometry, crs=villages.crs)


def _part_sites(
    villages: gpd.GeoDataFrame, part: Part, gen: np.random.Generator, first: int
) -> pd.DataFrame:
    """The sites of one former province, positions numbered from ``first``."""
    positions = _positions(villages, part.positions, gen)
    tenancy = _tenancy(positions, gen)
    rows: list[dict[str, object]] = []
    structure_seq = 0

    def new_structure_id() -> str:
        nonlocal structure_seq
        structure_seq += 1
        return f"{part.tag}-CT-{structure_seq:04d}"

    n_chains = 0
    for pos, ops in zip(positions.itertuples(), tenancy, strict=True):
        urban = bool(pos.urban)
        tower, height, capacity = _structure(gen, urban, len(ops))
        planned = len(ops) == 1 and gen.random() < PLANNED_SHARE
        if len(ops) == 1:
            structure = new_structure_id() if gen.random() < 0.3 else None
            offsets = np.zeros((1, 2))
        else:
            mode = gen.random()
            if n_chains < 3 and len(ops) == 3:
                mode, n_chains = 1.0, n_chains + 1
            if mode < 0.60:
                structure = new_structure_id()
                offsets = gen.uniform(-2.8, 2.8, (len(ops), 2))
            elif mode < 0.97:
                structure = None
                angle = gen.uniform(0, 2 * np.pi, len(ops))
                radius = gen.uniform(2, 14, len(ops))
                offsets = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
            else:
                structure = None
                heading = gen.uniform(0, 2 * np.pi)
                steps = np.arange(len(ops)) * 22.0
                offsets = np.column_stack([steps * np.cos(heading), steps * np.sin(heading)])
        for op, (dx, dy) in zip(ops, offsets, strict=True):
            rows.append(
                {"position": first + pos.Index, "operator": op, "x": pos.x + dx, "y": pos.y + dy,
                 "village": pos.village, "urban": urban, "tower_type": tower, "height_m": height,
                 "max_tenants": capacity, "structure_id": structure,
                 "status": "planned" if planned else "on-air"}
            )  # fmt: skip

    sites = pd.DataFrame(rows)
    singles = sites.groupby("position")["operator"].transform("size").eq(1) & sites["status"].eq(
        "on-air"
    )
    single_idx = np.flatnonzero(singles.to_numpy())
    extra = gen.choice(single_idx, size=NEAR_MISS_PAIRS + SAME_OPERATOR_TWICE, replace=False)
    additions = []
    for n, i in enumerate(extra):
        base = sites.iloc[i].to_dict()
        if n < NEAR_MISS_PAIRS:
            others = [o for o in OPERATOR_SHARE if o != base["operator"]]
            heading, dist = gen.uniform(0, 2 * np.pi), gen.uniform(35, 60)
            tower, height, capacity = _structure(gen, bool(base["urban"]), 1)
            base.update(
                position=first + len(positions) + n,
                operator=others[int(gen.integers(len(others)))],
                x=base["x"] + dist * np.cos(heading), y=base["y"] + dist * np.sin(heading),
                tower_type=tower, height_m=height, max_tenants=capacity, structure_id=None,
            )  # fmt: skip
        else:
            # The same operator registered twice on one structure (e.g. a 2G and a 4G site id).
            base.update(x=base["x"] + gen.uniform(-1, 1), y=base["y"] + gen.uniform(-1, 1))
        additions.append(base)
    sites = pd.concat([sites, pd.DataFrame(additions)], ignore_index=True)
    sites = sites.sort_values(["position", "operator"], kind="stable", ignore_index=True)
    seq = sites.groupby("operator").cumcount() + 1
    prefix = sites["operator"].map(SITE_PREFIX) + f"-{part.tag}-"
    sites["site_id"] = prefix + seq.map("{:04d}".format)
    return sites


def _nr_sites(
    sites: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    zones: Sequence[NrZone],
    gen: np.random.Generator,
) -> np.ndarray:
    """Which sites carry 5G NR n78: a share of the able sites in each zone."""
    by_code = communes.set_index("code")
    district = sites["commune_code"].map(by_code["parent_code"])
    unit_type = sites["commune_code"].map(by_code["unit_type"])
    able = sites["operator"].isin(NR_OPERATORS) & sites["status"].eq("on-air")
    draw = gen.random(len(sites))
    chosen = np.zeros(len(sites), dtype=bool)
    for zone in zones:
        if zone.seat is None:
            inside = (district == zone.district) & (unit_type == "ward")
        else:
            seat = by_code.geometry[zone.seat].centroid
            inside = (district == zone.district) & (sites.distance(seat) <= zone.radius_m)
        chosen |= (inside & (draw < zone.share)).to_numpy()
    return able.to_numpy() & chosen


def build_cells(
    sites: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, nr_zones: Sequence[NrZone]
) -> gpd.GeoDataFrame:
    """Sectors of every site: 3 per carrier (1 omni on street poles), sharing azimuths."""
    gen = rng("cells")
    has_nr = _nr_sites(sites, communes, nr_zones, gen)
    rows: list[dict[str, object]] = []
    for site, nr in zip(sites.itertuples(), has_nr, strict=True):
        urban = bool(site.urban)
        carriers = [c for c in CARRIERS[site.operator] if gen.random() < c.share[0 if urban else 1]]
        if site.status == "planned":  # new sites are built without the 2G/3G being switched off
            carriers = [c for c in carriers if c.technology in ("4G", "5G")]
        if nr:
            carriers.append(NR35)
        omni = site.tower_type == "street_pole"
        base_azimuth = gen.uniform(0, 120)
        sectors = 1 if omni else 3
        azimuths = (base_azimuth + 120 * np.arange(sectors) + gen.normal(0, 8, sectors)) % 360
        top = site.height_m - (
            gen.uniform(0.5, 2) if site.tower_type == "rooftop" else gen.uniform(1, 5)
        )
        mech = np.round(gen.uniform(0, 4 if urban else 2) * 2) / 2
        for carrier in carriers:
            height = max(8.0, top - (2.0 if carrier.technology == "2G" else 0.0))
            if carrier.technology == "5G":
                elec = float(gen.integers(3, 10))
            elif carrier.technology == "2G":
                elec = float(gen.integers(2, 5))
            else:
                elec = float(gen.integers(4, 9) if urban else gen.integers(2, 6))
            for k, azimuth in enumerate(azimuths, start=1):
                rows.append(
                    {"cell_id": f"{site.site_id}-{carrier.code}-{k}", "site_id": site.site_id,
                     "operator": site.operator, "technology": carrier.technology,
                     "band_mhz": carrier.band_mhz, "bandwidth_mhz": carrier.bandwidth_mhz,
                     "azimuth_deg": float(round(azimuth)) % 360, "mech_tilt_deg": float(mech),
                     "elec_tilt_deg": elec, "height_m": float(round(height, 1)),
                     "tx_power_dbm": carrier.tx_power_dbm,
                     "antenna_gain_dbi": 9.0 if omni else carrier.gain_dbi,
                     "feeder_loss_db": carrier.feeder_loss_db,
                     "h_beamwidth_deg": 360.0 if omni else 65.0,
                     "v_beamwidth_deg": carrier.v_beamwidth_deg, "status": site.status,
                     "geometry": site.geometry}
                )  # fmt: skip
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=sites.crs)
