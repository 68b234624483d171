"""Copy a whole store into another, GeoPackage and PostGIS both ways: layers, their metadata,
the product records and the file products (assets)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from gis_planner.errors import StoreError
from gis_planner.products import ProductRecord
from gis_planner.store.base import LayerStore

#: Metadata a store records itself on every write (never copied: the target records its own).
_OWN_METADATA = ("written_at", "rows", "gis_planner_version")


@dataclass(frozen=True)
class CopyResult:
    """What ``copy_store`` copied: rows by layer, product records, asset files."""

    rows: Mapping[str, int]
    products: int
    assets: int


def copy_store(
    source: LayerStore, target: LayerStore, progress: Callable[[str], None] | None = None
) -> CopyResult:
    """Copy every layer, its metadata and every product record of ``source`` into ``target``
    (which must be empty) in one transaction, and the assets directory beside it.

    A record's input revisions are the source's: they are mapped to the target's so that a
    product up to date in the source is up to date in the target, and a stale one stale.
    """
    if target.list_layers() or target.products():
        raise StoreError(f"{target.uri}: not empty; copy into an empty store")
    layers = source.list_layers()
    records = source.products()
    revisions = source.layer_revisions()
    assets = 0
    if source.assets_dir.is_dir():
        # Files first: a record committed below must never name a file not there yet.
        shutil.copytree(source.assets_dir, target.assets_dir, dirs_exist_ok=True)
        assets = sum(1 for path in target.assets_dir.rglob("*") if path.is_file())
    rows = {}
    with target.transaction() as tx:
        for info in layers:
            if progress:
                progress(info.name)
            frame = source.read(info.name)
            metadata = {
                key: value
                for key, value in source.metadata(info.name).items()
                if key not in _OWN_METADATA
            }
            tx.write(info.name, frame, metadata=metadata)
            rows[info.name] = len(frame)
        copied = tx.layer_revisions()
        for record in records:
            tx.register(_mapped(record, revisions, copied))
    return CopyResult(rows, len(records), assets)


def _mapped(
    record: ProductRecord, source: Mapping[str, int], target: Mapping[str, int]
) -> ProductRecord:
    inputs = {}
    for layer, revision in record.inputs.items():
        if layer in target and source.get(layer) == revision:
            inputs[layer] = target[layer]
        elif layer in target:
            # Stale in the source: 0 is no revision a written layer has, so stale here too.
            inputs[layer] = 0
        else:
            inputs[layer] = revision
    return replace(record, inputs=inputs)
