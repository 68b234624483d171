"""The fibre report: one workbook with the tables a planner reads, labelled from the catalogue."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gis_planner.catalogue import get_spec
from gis_planner.fibre.products import FibreProducts
from gis_planner.i18n import Lang
from gis_planner.tables import write_xlsx

#: (sheet, layer it is drawn from) in the order of the workbook.
SHEETS: tuple[tuple[str, str], ...] = (
    ("ftth_shares", "ftth_shares"),
    ("ftth_gaps", "ftth_villages"),
    ("extension_by_commune", "fibre_extensions"),
    ("spof_links", "fibre_spof_links"),
    ("spof_links_shared", "fibre_spof_links_shared"),
    ("spof_nodes", "fibre_spof_nodes"),
    ("redundancy", "fibre_redundancy"),
    ("rings", "fibre_rings"),
    ("backhaul", "backhaul"),
    ("backhaul_shared", "backhaul_shared"),
    ("topology_problems", "fibre_topology_problems"),
)


def extension_by_commune(extensions: pd.DataFrame) -> pd.DataFrame:
    """Length of proposed links by commune, longest first."""
    table = extensions.groupby("commune_code", dropna=False).agg(
        links=("link_id", "size"), length_m=("length_m", "sum")
    )
    return table.sort_values("length_m", ascending=False).round(1).reset_index()


def report_tables(products: FibreProducts) -> dict[str, pd.DataFrame]:
    """The report's tables, without geometry."""
    # Only the catalogued fields: the products may carry their inputs' other columns.
    layers = {
        name: pd.DataFrame(frame[[c for c in get_spec(name).field_names if c in frame.columns]])
        for name, frame in products.layers.items()
    }
    villages = layers["ftth_villages"]
    gaps = villages[~villages["covered"]].sort_values("population", ascending=False)
    tables = {}
    for sheet, layer in SHEETS:
        if sheet == "ftth_gaps":
            tables[sheet] = gaps
        elif sheet == "extension_by_commune":
            tables[sheet] = extension_by_commune(layers[layer])
        else:
            tables[sheet] = layers[layer]
    return tables


def write_report(products: FibreProducts, path: Path, lang: Lang = "vi") -> Path:
    """Write the workbook (xlsx), column headers in ``lang`` where the catalogue has labels."""
    tables = report_tables(products)
    links = {"links": "Số tuyến" if lang == "vi" else "Links"}
    tables["extension_by_commune"] = tables["extension_by_commune"].rename(columns=links)
    sheets = {sheet: (tables[sheet], layer) for sheet, layer in SHEETS}
    return write_xlsx(path, sheets, lang)
