"""The fibre report: one workbook with the tables a planner reads, labelled from the catalogue."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gis_planner.catalogue import get_spec
from gis_planner.fibre.products import FibreProducts
from gis_planner.i18n import Lang

#: (sheet, layer it is drawn from) in the order of the workbook.
SHEETS: tuple[tuple[str, str], ...] = (
    ("ftth_shares", "ftth_shares"),
    ("ftth_gaps", "ftth_villages"),
    ("extension_by_commune", "fibre_extensions"),
    ("spof_links", "fibre_spof_links"),
    ("spof_nodes", "fibre_spof_nodes"),
    ("redundancy", "fibre_redundancy"),
    ("rings", "fibre_rings"),
    ("backhaul", "backhaul"),
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
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for (sheet, layer), table in zip(SHEETS, report_tables(products).values(), strict=True):
            spec = get_spec(layer)
            labels = {f.name: f.label(lang) for f in spec.fields if f.name in table.columns}
            labels["links"] = "Số tuyến" if lang == "vi" else "Links"
            table.rename(columns=labels).to_excel(writer, sheet_name=sheet, index=False)
    return path
