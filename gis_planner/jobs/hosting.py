"""The host-candidates job: other operators' positions that could host a planned site."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from gis_planner.admin import unit_names
from gis_planner.crs import metric_crs_of
from gis_planner.hosting import FIBRE_LAYERS, HostIndex, PlannedSite
from gis_planner.positions_product import PositionsProduct, read_positions
from gis_planner.products import input_revisions, layer_record
from gis_planner.store import LayerStore
from gis_planner.tables import write_csv

#: The layer the job writes (replaced at each run).
LAYER = "host_candidates"


@dataclass(frozen=True)
class HostingSpec:
    #: The planned site (its operator key, WGS84 point, antenna height and technology).
    site: PlannedSite
    out_dir: Path
    #: Search radius; None for the default of the area type.
    radius_m: float | None = None


@dataclass(frozen=True)
class HostingResult:
    #: ``operator@lon,lat/height/technology``, the ``query_id`` of every row.
    query: str
    #: The ranked candidates, as written to the layer.
    candidates: gpd.GeoDataFrame
    table: Path
    #: The positions the candidates were taken from (the stored product, or computed now).
    positions: PositionsProduct


def run(spec: HostingSpec, store: LayerStore) -> HostingResult:
    site = spec.site
    inputs = input_revisions(
        store.layer_revisions(), ("positions", "sites", "admin_units", *FIBRE_LAYERS)
    )
    product = read_positions(store)
    found = host_index(store, product).candidates(site, spec.radius_m)
    query = f"{site.operator}@{site.lon:.5f},{site.lat:.5f}/{site.height_m:g}m/{site.technology}"
    found.insert(0, "query_id", query)
    parameters = {"site": query, "radius_m": spec.radius_m,
                  "positions_tolerance_m": product.tolerance_m}  # fmt: skip
    with store.transaction() as tx:
        tx.write(LAYER, found)
        tx.register(
            layer_record("hosting", LAYER, parameters, inputs, operators=[site.operator],
                         technologies=[site.technology])
        )  # fmt: skip
    names = unit_names(store.read("admin_units"))
    path = write_csv(spec.out_dir / f"{LAYER}.csv", found, LAYER, names=names)
    return HostingResult(query, found, path, product)


def host_index(store: LayerStore, product: PositionsProduct | None = None) -> HostIndex:
    """The index of a store's positions product, communes and fibre routes and nodes, in the
    metric CRS of the store's admin units."""
    product = product or read_positions(store)
    fibre = [store.read(name) for name in FIBRE_LAYERS if store.has_layer(name)]
    admin = store.read("admin_units")
    return HostIndex.from_layers(product.table, admin, fibre, metric_crs=metric_crs_of(admin))
