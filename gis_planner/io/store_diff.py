"""Rows of an import against the rows a store already holds: same, changed or new."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow.compute as pc
import shapely

from gis_planner.catalogue import LayerSpec
from gis_planner.catalogue.validate import key_texts

#: Positions equal within this many degrees (about 1 mm) are the same position.
GEOMETRY_TOLERANCE_DEG = 1e-8


@dataclass(frozen=True)
class Diff:
    """Per imported row: the store has its id with the same content, or different content."""

    same: npt.NDArray[np.bool_]
    changed: npt.NDArray[np.bool_]

    def subset(self, keep: npt.NDArray[np.bool_]) -> Diff:
        return Diff(self.same[keep], self.changed[keep])


def _comparable(frame: pd.DataFrame, spec: LayerSpec) -> pd.DataFrame:
    """Field values as text (missing as one marker), the way the catalogue types them."""
    out = pd.DataFrame(index=frame.index)
    for fs in spec.fields:
        column = frame[fs.name] if fs.name in frame else pd.Series(pd.NA, index=frame.index)
        out[fs.name] = column.astype("string").fillna("\x00")
    return out


def compare_with_store(rows: pd.DataFrame, existing: pd.DataFrame | None, spec: LayerSpec) -> Diff:
    """Which ``rows`` the store holds already, unchanged or with other content (by the key;
    the first of the store's rows of a key). Keys are matched first, hashed in Arrow: only the
    rows whose key the store holds are compared field by field."""
    n = len(rows)
    none = np.zeros(n, dtype=bool)
    if existing is None or existing.empty or n == 0:
        return Diff(none, none.copy())
    key = list(spec.key)
    found = pc.index_in(key_texts(rows, key), value_set=key_texts(existing, key))
    matched = found.is_valid().to_numpy(zero_copy_only=False)
    if not matched.any():
        return Diff(none, none.copy())
    where = found.drop_null().to_numpy()
    new = _comparable(rows[matched], spec).reset_index(drop=True)
    old = _comparable(existing.iloc[where], spec).reset_index(drop=True)
    fields = [c for c in new.columns if c not in key]
    equal = np.ones(int(matched.sum()), dtype=bool)
    if fields:
        equal = (new[fields].to_numpy() == old[fields].to_numpy()).all(axis=1)
    if spec.geometry_type is not None and isinstance(rows, gpd.GeoDataFrame):
        old_geoms = existing.geometry.to_numpy()[where]
        equal &= shapely.equals_exact(
            rows.geometry.to_numpy()[matched], old_geoms, tolerance=GEOMETRY_TOLERANCE_DEG
        )
    same = none.copy()
    same[matched] = equal
    changed = none.copy()
    changed[matched] = ~equal
    return Diff(same, changed)
