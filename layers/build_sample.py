"""Build the bundled Hà Nam sample into ``layers/hanam/``.

Run ``python -m layers.build_sample`` from the repository root. The build is deterministic: the
same sources and library versions give the same bytes. Every layer is validated against the
catalogue before it is written; sources and licences are in ``layers/SOURCES.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gis_planner.admin import locate
from gis_planner.catalogue import get_spec, validate
from gis_planner.crs import WGS84
from layers.hanam_sample.admin import SOURCE_BY_KIND, Admin, build_admin
from layers.hanam_sample.common import SYNTHETIC, to_wgs84
from layers.hanam_sample.fibre import build_fibre
from layers.hanam_sample.priority import build_priority_areas
from layers.hanam_sample.radio import build_cells, build_sites
from layers.hanam_sample.villages import build_villages

DEFAULT_OUT = Path(__file__).resolve().parent / "hanam"
PRIORITY_SOURCE = "real name, approximate position and outline; " + SYNTHETIC
PROVINCE_2025_SOURCE = "former Hà Nam part only; " + SOURCE_BY_KIND["commune_2025"]


def _admin_units(admin: Admin, villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    by_commune = villages.groupby("commune_code")[["population", "households"]].sum()
    communes = admin.communes.assign(
        population=admin.communes["code"].map(by_commune["population"]),
        households=admin.communes["code"].map(by_commune["households"]),
    )
    by_district = communes.groupby("parent_code")[["population", "households"]].sum()
    districts = admin.districts.assign(
        population=admin.districts["code"].map(by_district["population"]),
        households=admin.districts["code"].map(by_district["households"]),
    )
    province = admin.province.assign(
        population=int(communes["population"].sum()), households=int(communes["households"].sum())
    )
    inside = locate(villages.geometry.representative_point(), admin.communes_2025)
    by_new = villages.groupby(inside)[["population", "households"]].sum()
    new = admin.communes_2025.assign(
        population=admin.communes_2025["code"].map(by_new["population"]),
        households=admin.communes_2025["code"].map(by_new["households"]),
    )
    parts = [
        province.assign(level="province", unit_type="province", parent_code=None,
                        admin_version="pre2025", geometry_quality="real",
                        source=SOURCE_BY_KIND["outline"] + "; population " + SYNTHETIC),
        districts.assign(level="district", parent_code="35", admin_version="pre2025",
                         geometry_quality="real",
                         source=SOURCE_BY_KIND["outline"] + "; population " + SYNTHETIC),
        communes.assign(level="commune", admin_version="pre2025",
                        geometry_quality="approximate", source=SOURCE_BY_KIND["commune"]),
        admin.province_2025.assign(level="province", unit_type="province", parent_code=None,
                                   admin_version="2025-07", geometry_quality="approximate",
                                   population=None, households=None,
                                   source=PROVINCE_2025_SOURCE),
        new.assign(level="commune", parent_code="37", admin_version="2025-07",
                   geometry_quality="approximate", source=SOURCE_BY_KIND["commune_2025"]),
    ]  # fmt: skip
    frame = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=admin.province.crs)


def _sites(sites: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, admin: Admin) -> gpd.GeoDataFrame:
    commune_names = admin.communes.set_index("code")["name"]
    district_of = admin.communes.set_index("code")["parent_code"]
    district_names = admin.districts.set_index("code")["name"]
    village = villages.iloc[sites["village"].to_numpy()]
    commune = village["commune_code"].to_numpy()
    address = (
        village["name"].to_numpy()
        + ", "
        + commune_names[commune].to_numpy()
        + ", "
        + district_names[district_of[commune].to_numpy()].to_numpy()
    )
    return sites.assign(address=address, source=SYNTHETIC)


def _to_layer(frame: gpd.GeoDataFrame | pd.DataFrame, name: str) -> pd.DataFrame:
    spec = get_spec(name)
    if isinstance(frame, gpd.GeoDataFrame):
        frame = frame.set_geometry(to_wgs84(frame.geometry))
    result = validate(frame, spec)
    result.raise_if_problems(source=f"sample layer {name}")
    return result.valid.sort_values(list(spec.key), ignore_index=True)


def build_layers() -> dict[str, pd.DataFrame]:
    """Every layer of the sample, validated and in WGS84, keyed by layer name."""
    admin = build_admin()
    villages = build_villages(admin.communes)
    sites = build_sites(villages)
    sites["commune_code"] = locate(sites.geometry, admin.communes)
    cells = build_cells(sites, admin.communes)
    nodes, routes = build_fibre(admin.communes, villages, admin.province.geometry.iloc[0])
    areas = build_priority_areas(admin.communes)
    return {
        "admin_units": _to_layer(_admin_units(admin, villages), "admin_units"),
        "villages": _to_layer(villages.assign(source=SYNTHETIC), "villages"),
        "sites": _to_layer(_sites(sites, villages, admin), "sites"),
        "cells": _to_layer(cells.assign(source=SYNTHETIC), "cells"),
        "fibre_nodes": _to_layer(nodes.assign(source=SYNTHETIC), "fibre_nodes"),
        "fibre_routes": _to_layer(routes.assign(source=SYNTHETIC), "fibre_routes"),
        "priority_areas": _to_layer(
            areas.assign(geometry_quality="approximate", source=PRIORITY_SOURCE), "priority_areas"
        ),
        "admin_crosswalk": _to_layer(admin.crosswalk, "admin_crosswalk"),
    }


def write_layers(layers: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """GeoJSON for spatial layers (7 decimals, about 1 cm), CSV for tables."""
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
                layer_options={"COORDINATE_PRECISION": 7, "WRITE_BBOX": "NO", "RFC7946": "YES"},
            )
        else:
            path = out_dir / f"{name}.csv"
            frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    layers = build_layers()
    for path in write_layers(layers, args.out):
        print(f"{path}  {len(layers[path.stem]):>6} rows  {path.stat().st_size / 1024:8.0f} KiB")


if __name__ == "__main__":
    main()
