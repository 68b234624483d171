"""Build the bundled samples: ``layers/hanam/`` (the former Hà Nam province) and
``layers/ninhbinh/`` (the whole new Ninh Bình province of July 2025).

Run ``python -m layers.build_sample`` from the repository root to build both, or
``--area hanam`` / ``--area ninhbinh`` for one. The build is deterministic: the same sources and
library versions give the same bytes. Every layer is validated against the catalogue before it
is written; sources and licences are in ``layers/SOURCES.md``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gis_planner.admin import locate
from gis_planner.catalogue import get_spec, validate
from gis_planner.crs import WGS84
from layers.hanam_sample.admin import build_admin as build_hanam_admin
from layers.hanam_sample.part import HANAM
from layers.ninhbinh_sample.admin import build_admin as build_ninhbinh_admin
from layers.ninhbinh_sample.parts import NAM_DINH, NINH_BINH
from layers.synthetic.admin import Admin
from layers.synthetic.common import synthetic, to_wgs84
from layers.synthetic.fibre import build_fibre
from layers.synthetic.part import Part
from layers.synthetic.passive import build_passive
from layers.synthetic.priority import build_priority_areas
from layers.synthetic.radio import build_cells, build_sites
from layers.synthetic.villages import build_villages

LAYERS = Path(__file__).resolve().parent
PEOPLE = ["population", "households"]


@dataclass(frozen=True)
class Sample:
    """One bundled sample: its administrative build, its parts and where it is written."""

    label: str
    admin: Callable[[], Admin]
    parts: tuple[Part, ...]
    out_dir: Path
    #: Decimals of the written coordinates (7 ≈ 1 cm, 6 ≈ 10 cm).
    decimals: int


SAMPLES = {
    "hanam": Sample("Hà Nam", build_hanam_admin, (HANAM,), LAYERS / "hanam", 7),
    "ninhbinh": Sample(
        "Ninh Bình", build_ninhbinh_admin, (HANAM, NAM_DINH, NINH_BINH), LAYERS / "ninhbinh", 6
    ),
}


def _with_people(units: gpd.GeoDataFrame, sums: pd.DataFrame) -> gpd.GeoDataFrame:
    return units.assign(**{column: units["code"].map(sums[column]) for column in PEOPLE})


def _admin_units(admin: Admin, villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Both versions' units, with the villages' people summed up each level."""
    communes = _with_people(admin.communes, villages.groupby("commune_code")[PEOPLE].sum())
    districts = _with_people(admin.districts, communes.groupby("parent_code")[PEOPLE].sum())
    provinces = _with_people(admin.provinces, districts.groupby("parent_code")[PEOPLE].sum())
    inside = locate(villages.geometry.representative_point(), admin.communes_2025)
    new = _with_people(admin.communes_2025, villages.groupby(inside)[PEOPLE].sum())
    # The 2025 province's totals are its communes' only where they make up all of it.
    totals = {c: int(new[c].sum()) if admin.complete_2025 else None for c in PEOPLE}
    province_2025 = admin.province_2025.assign(**totals)
    parts = [
        provinces.assign(level="province", unit_type="province", parent_code=None,
                         admin_version="pre2025"),
        districts.assign(level="district", admin_version="pre2025"),
        communes.assign(level="commune", admin_version="pre2025"),
        province_2025.assign(level="province", unit_type="province", parent_code=None,
                             admin_version="2025-07"),
        new.assign(level="commune", parent_code=province_2025["code"].iloc[0],
                   admin_version="2025-07"),
    ]  # fmt: skip
    frame = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=admin.communes.crs)


def _sites(
    sites: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, admin: Admin, source: str
) -> gpd.GeoDataFrame:
    commune_names = admin.communes.set_index("code")["name"]
    district_of = admin.communes.set_index("code")["parent_code"]
    district_names = admin.districts.set_index("code")["name"]
    village = villages.loc[sites["village"].to_numpy()]
    commune = village["commune_code"].to_numpy()
    address = (
        village["name"].to_numpy()
        + ", "
        + commune_names[commune].to_numpy()
        + ", "
        + district_names[district_of[commune].to_numpy()].to_numpy()
    )
    return sites.assign(address=address, source=source)


def _to_layer(frame: gpd.GeoDataFrame | pd.DataFrame, name: str, decimals: int) -> pd.DataFrame:
    spec = get_spec(name)
    if isinstance(frame, gpd.GeoDataFrame):
        frame = frame.set_geometry(to_wgs84(frame.geometry, 10.0**-decimals))
    result = validate(frame, spec)
    result.raise_if_problems(source=f"sample layer {name}")
    return result.valid.sort_values(list(spec.key), ignore_index=True)


def build_layers(area: str = "hanam") -> dict[str, pd.DataFrame]:
    """Every layer of a sample, validated and in WGS84, keyed by layer name."""
    sample = SAMPLES[area]
    source = synthetic(sample.label)
    admin = sample.admin()
    villages = build_villages(admin.communes)
    district_of = villages["commune_code"].map(admin.communes.set_index("code")["parent_code"])
    part_of = district_of.map(admin.districts.set_index("code")["parent_code"])
    sites = build_sites(villages, sample.parts, part_of)
    sites["commune_code"] = locate(sites.geometry, admin.communes)
    nr_zones = [zone for part in sample.parts for zone in part.nr_zones]
    cells = build_cells(sites, admin.communes, nr_zones)
    outlines = admin.provinces.set_index("code").geometry
    nodes, routes = build_fibre(admin.communes, villages, sample.parts, outlines)
    named = [place for part in sample.parts for place in part.priority_areas]
    areas = build_priority_areas(admin.communes, named)
    priority_source = f"real name, approximate position and outline; {source}"
    frames = {
        "admin_units": _admin_units(admin, villages),
        "villages": villages.assign(source=source),
        "sites": _sites(sites, villages, admin, source),
        "cells": cells.assign(source=source),
        "fibre_nodes": nodes.assign(source=source),
        "fibre_routes": routes.assign(source=source),
        "priority_areas": areas.assign(geometry_quality="approximate", source=priority_source),
        "admin_crosswalk": admin.crosswalk,
    }
    passive = build_passive(admin.communes, areas, routes, area.upper())
    frames.update({name: frame.assign(source=source) for name, frame in passive.items()})
    return {name: _to_layer(frame, name, sample.decimals) for name, frame in frames.items()}


def write_layers(layers: dict[str, pd.DataFrame], out_dir: Path, decimals: int = 7) -> list[Path]:
    """GeoJSON for spatial layers (``decimals`` digits of degree), CSV for tables."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            path = out_dir / f"{name}.geojson"
            path.unlink(missing_ok=True)
            pyogrio.write_dataframe(
                frame.to_crs(WGS84),
                path,
                driver="GeoJSON",
                layer=name,
                layer_options={
                    "COORDINATE_PRECISION": decimals,
                    "WRITE_BBOX": "NO",
                    "RFC7946": "YES",
                },
            )
        else:
            path = out_dir / f"{name}.csv"
            frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--area", choices=sorted(SAMPLES), help="one sample (default: all)")
    parser.add_argument("--out", type=Path, help="output directory (with --area)")
    args = parser.parse_args(argv)
    if args.out and not args.area:
        parser.error("--out needs --area")
    for area in [args.area] if args.area else list(SAMPLES):
        sample = SAMPLES[area]
        layers = build_layers(area)
        for path in write_layers(layers, args.out or sample.out_dir, sample.decimals):
            rows, size_kib = len(layers[path.stem]), path.stat().st_size / 1024
            print(f"{path}  {rows:>6} rows  {size_kib:8.0f} KiB")


if __name__ == "__main__":
    main()
