"""What an import did: counts, the reject report and the fixes, written as CSV."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gis_planner.catalogue import REASONS

#: Columns of the reject report, in order.
REPORT_COLUMNS = ["file", "sheet", "row", "field", "value", "reason", "message"]

#: Reasons the importer adds to the catalogue's (``catalogue.REASONS``).
IMPORT_REASONS = {
    "outside_province": "outside the province",
    "unknown_operator": "operator not in the registry",
    "unit": "a unit that does not fit the field",
    "dms": "not a coordinate in degrees or degrees-minutes-seconds",
    "other_country": "not a Vietnamese network (MCC other than 452)",
    "extra_cells": "more cells than the header has columns",
    "other_operator": "a row of another operator than the one importing",
    "site_operator": "the cell's site belongs to another operator",
    "swapped_coordinates": "latitude and longitude (or X and Y) exchanged; fixed",
    "near_miss": "close to a known value but not one; the message suggests it",
    "wkt": "not a geometry in WKT",
    "assumed": "empty in the file; the catalogue's typical value taken and the row flagged",
}


def reason_text(reason: str) -> str:
    return IMPORT_REASONS.get(reason) or REASONS.get(reason) or reason


def empty_report() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REPORT_COLUMNS})


@dataclass(frozen=True)
class ImportResult:
    """The outcome of importing (or validating) one file into one layer.

    ``read`` = ``accepted`` + ``rejected`` always holds: every row read is either accepted
    (written, or ``unchanged`` because the store already holds it) or listed in ``rejects``.
    """

    file: Path
    layer: str
    read: int
    accepted: int
    rejected: int
    unchanged: int
    written: dict[str, int]
    rejects: pd.DataFrame
    fixes: pd.DataFrame
    notes: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    report_path: Path | None = None
    fixes_path: Path | None = None
    #: The accepted rows of the layer, conformed to the catalogue (written or unchanged).
    rows: pd.DataFrame | None = field(default=None, repr=False)
    #: Accepted rows that take the place of the store's rows of the same key.
    updated: int = 0

    def __post_init__(self) -> None:
        if self.rows is not None and len(self.rows) != self.accepted:
            raise AssertionError("accepted count does not match the accepted rows")
        distinct = self.rejects[["sheet", "row"]].drop_duplicates()
        if len(distinct) != self.rejected:
            raise AssertionError("rejected count does not match the reject report")
        if self.accepted + self.rejected != self.read:
            raise AssertionError(
                f"{self.file}: {self.read} rows read but {self.accepted} accepted + "
                f"{self.rejected} rejected"
            )

    @property
    def fixed(self) -> int:
        return len(self.fixes[["sheet", "row"]].drop_duplicates())

    @property
    def ok(self) -> bool:
        return self.rejected == 0

    def fixed_by_reason(self) -> pd.Series:
        """Rows fixed or completed for each reason (swapped coordinates, assumed values)."""
        if self.fixes.empty:
            return pd.Series(dtype="int64")
        per_row = self.fixes.drop_duplicates(["sheet", "row", "reason"])
        return per_row["reason"].value_counts().sort_index()

    def rejected_by_reason(self) -> pd.Series:
        """Rows rejected for each reason (a row with two reasons counts under both)."""
        if self.rejects.empty:
            return pd.Series(dtype="int64")
        per_row = self.rejects.drop_duplicates(["sheet", "row", "reason"])
        return per_row["reason"].value_counts().sort_index()


def write_report(frame: pd.DataFrame, path: Path) -> Path:
    """Write a reject (or fixes) report as UTF-8 CSV with a BOM, so Excel shows Vietnamese."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame[REPORT_COLUMNS].to_csv(path, index=False, encoding="utf-8-sig")
    return path
