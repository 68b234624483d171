"""References between the source layers, and the rows a replaced layer would leave dangling."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Reference:
    """Rows of ``layer`` name a row of ``target`` by ``fields`` (the target's ``target_fields``)."""

    layer: str
    fields: tuple[str, ...]
    target: str
    target_fields: tuple[str, ...]


#: What the catalogue's source layers refer to. A cell names its site among its own
#: operator's sites: another operator's site with the same id is not its site.
REFERENCES: tuple[Reference, ...] = (
    Reference("cells", ("site_id", "operator"), "sites", ("site_id", "operator")),
    Reference("sites", ("commune_code",), "admin_units", ("code",)),
    Reference("villages", ("commune_code",), "admin_units", ("code",)),
    Reference("priority_areas", ("commune_code",), "admin_units", ("code",)),
)


def referring_layers(target: str) -> tuple[str, ...]:
    """Layers whose rows refer to rows of ``target``."""
    return tuple(dict.fromkeys(r.layer for r in REFERENCES if r.target == target))


def _keys(frame: pd.DataFrame, fields: tuple[str, ...]) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(frame[list(fields)].astype("string"))


def dangling(
    target: str, new_rows: pd.DataFrame, existing: Mapping[str, pd.DataFrame]
) -> dict[str, int]:
    """Rows of other layers (in ``existing``) that name a row of ``target`` the store holds
    now and ``new_rows``, replacing the layer, would not: their count by layer.

    References that dangle already are not counted: a replacement is not blamed for them.
    """
    counts: dict[str, int] = {}
    current = existing.get(target)
    for ref in REFERENCES:
        rows = existing.get(ref.layer)
        if ref.target != target or ref.layer == target or rows is None or current is None:
            continue
        if not set(ref.fields) <= set(rows.columns):
            continue
        named = rows[rows[list(ref.fields)].notna().all(axis=1)]
        keys = _keys(named, ref.fields)
        lost = keys.isin(_keys(current, ref.target_fields)) & ~keys.isin(
            _keys(new_rows, ref.target_fields)
        )
        if lost.any():
            counts[ref.layer] = counts.get(ref.layer, 0) + int(lost.sum())
    return counts
