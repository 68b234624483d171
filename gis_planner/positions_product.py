"""The positions product: the ``positions`` layer ``gis-planner sharing`` writes, with its record.

Every consumer (the sharing and host-candidate commands, site planning, the API) reads this one
product instead of clustering the sites again, so they all count the same positions at the same
tolerance. The layer's record says how it was made: ``tolerance_m``, ``method``, the revision
of the ``sites`` layer it was computed from and ``made_at``. When the sites have changed since,
the product is **stale** and consumers say so.

When a store has no product (or one written before products carried their record), consumers
compute the positions once, in memory, at the default tolerance, and say so: they never write
it (only ``gis-planner sharing`` does), and the API answers such a read from a store it does
not write to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd

from gis_planner.products import is_stale
from gis_planner.sharing import (
    DEFAULT_TOLERANCE_M,
    POSITION_METHOD,
    place_positions,
    positions,
)
from gis_planner.store import LayerStore

#: The command that makes the product, named by every message about it.
PRODUCER = "gis-planner sharing"
#: The job that makes the product, and the layers it registers with it.
JOB = "sharing"


def product_id(layer: str) -> str:
    """The registry's id of a layer the sharing job writes: ``sharing.positions``…"""
    return f"{JOB}.{layer}"


@dataclass(frozen=True)
class PositionsProduct:
    """Positions placed in the pre-2025 units, and how they were made."""

    table: gpd.GeoDataFrame
    tolerance_m: float
    method: str
    #: Revision of the ``sites`` layer the positions were computed from.
    sites_revision: int
    made_at: str | None
    #: The sites changed since the product was made.
    stale: bool
    #: False when the store has no product and these positions were computed for this read.
    stored: bool

    def notice(self) -> str | None:
        """What a consumer must tell its user about these positions (None if nothing)."""
        if not self.stored:
            return (
                f"the store has no positions product: positions computed now at the default "
                f"{self.tolerance_m:g} m; run `{PRODUCER}` to make it"
            )
        if self.stale:
            return (
                f"the positions product is stale: the sites changed since it was made "
                f"({self.made_at}); run `{PRODUCER} --tolerance-m {self.tolerance_m:g}` again"
            )
        return None


def positions_record(
    tolerance_m: float, sites_revision: int, admin_version: str = "pre2025"
) -> dict[str, Any]:
    """The record ``gis-planner sharing`` writes with the positions layer (``admin_version``:
    the units its commune and district codes are of)."""
    return {
        "job": JOB,
        "tolerance_m": float(tolerance_m),
        "method": POSITION_METHOD,
        "admin_version": admin_version,
        "sites_revision": int(sites_revision),
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def layer_revision(store: LayerStore, name: str) -> int:
    """The store revision that last wrote layer ``name`` (0 if the store has no such layer)."""
    return next((info.revision for info in store.list_layers() if info.name == name), 0)


def read_positions(store: LayerStore) -> PositionsProduct:
    """The store's positions product, or positions computed now at the default tolerance."""
    sites_revision = layer_revision(store, "sites")
    if store.has_layer("positions"):
        record = store.metadata("positions")
        if "tolerance_m" in record:
            table = store.read("positions")
            assert isinstance(table, gpd.GeoDataFrame)
            made_from = int(record["sites_revision"])
            wanted = product_id("positions")
            registered = next((r for r in store.products() if r.id == wanted), None)
            # The registry's record knows every input (the admin units place the positions);
            # a store written before it was kept has the sites' revision only.
            stale = (
                is_stale(registered, store.layer_revisions())
                if registered is not None
                else made_from != sites_revision
            )
            return PositionsProduct(
                table=table,
                tolerance_m=float(record["tolerance_m"]),
                method=str(record["method"]),
                sites_revision=made_from,
                made_at=record.get("made_at"),
                stale=stale,
                stored=True,
            )
    sites, admin = store.read("sites"), store.read("admin_units")
    assert isinstance(sites, gpd.GeoDataFrame) and isinstance(admin, gpd.GeoDataFrame)
    return PositionsProduct(
        table=place_positions(positions(sites, DEFAULT_TOLERANCE_M), admin),
        tolerance_m=DEFAULT_TOLERANCE_M,
        method=POSITION_METHOD,
        sites_revision=sites_revision,
        made_at=None,
        stale=False,
        stored=False,
    )
