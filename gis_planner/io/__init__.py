"""Importers of the station lists and layers people have, with reject reports.

Layered as pyogrio is: ``parse`` reads messy cells, ``columns`` maps headers to fields,
``coordinates`` handles swaps, VN-2000 and the province check, ``tabular``/``vector``/
``opencellid`` read files, and ``importer`` composes them into a checked, atomic import.
"""

from __future__ import annotations

from gis_planner.io.coordinates import Area
from gis_planner.io.importer import (
    Checked,
    Context,
    ImportOptions,
    check_file,
    context_from_store,
    import_file,
    save_reports,
)
from gis_planner.io.opencellid import CellAssumptions
from gis_planner.io.report import ImportResult

__all__ = [
    "Area",
    "CellAssumptions",
    "Checked",
    "Context",
    "ImportOptions",
    "ImportResult",
    "check_file",
    "context_from_store",
    "import_file",
    "save_reports",
]
