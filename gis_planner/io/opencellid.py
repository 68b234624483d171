"""The public OpenCelliD export: cells of MCC 452 as cells, grouped into sites.

OpenCelliD gives, per cell, its network (MCC, MNC), area and cell codes and a position averaged
from measurements; it says nothing of antennas, so the cells layer's radio fields are filled from
``CellAssumptions`` (per technology, stated in each row's ``source``). Cells of one operator
within ``site_tolerance_m`` of each other are one site, placed at their mean position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.catalogue import PROBLEM_COLUMNS
from gis_planner.crs import WGS84, lonlat_to_metric, metric_crs_of, metric_to_lonlat
from gis_planner.io.tabular import SourceTable
from gis_planner.operators import operator_from_mnc
from gis_planner.sharing import cluster_positions

COLUMNS = (
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averageSignal",
)
VIETNAM_MCC = 452
TECHNOLOGY = {"GSM": "2G", "UMTS": "3G", "LTE": "4G", "NR": "5G"}
SOURCE = "OpenCelliD (CC BY-SA 4.0)"


@dataclass(frozen=True)
class CellAssumptions:
    """What OpenCelliD does not say, assumed per technology (typical Vietnamese values).

    Plain mappings, not read-only proxies: options travel to import jobs in other processes,
    so they must pickle.
    """

    band_mhz: Mapping[str, float] = field(
        default_factory=lambda: dict({"2G": 900, "3G": 2100, "4G": 1800, "5G": 3500})
    )
    bandwidth_mhz: Mapping[str, float] = field(
        default_factory=lambda: dict({"2G": 0.2, "3G": 5, "4G": 20, "5G": 100})
    )
    tx_power_dbm: Mapping[str, float] = field(
        default_factory=lambda: dict({"2G": 43, "3G": 43, "4G": 46, "5G": 53})
    )
    #: Sector direction is unknown: every cell is taken as omni (360°) with an omni gain.
    antenna_gain_dbi: float = 11.0
    height_m: float = 30.0
    tower_type: str = "lattice"
    #: Cells of one operator closer than this are on one site (positions are averaged
    #: measurements, often tens of metres off the mast).
    site_tolerance_m: float = 100.0


def is_opencellid(path: Path) -> bool:
    """Whether a CSV is an OpenCelliD export (by its header, or by its first row's shape)."""
    with path.open("rb") as handle:
        first = handle.readline().decode("utf-8", errors="replace").strip().split(",")
    if [c.strip().lower() for c in first[:4]] == ["radio", "mcc", "net", "area"]:
        return True
    return len(first) == len(COLUMNS) and first[0].strip().upper() in {*TECHNOLOGY, "CDMA"}


def read_opencellid(path: Path) -> SourceTable:
    """The rows of an OpenCelliD CSV (with or without its header line) as text."""
    with path.open("rb") as handle:
        has_header = handle.readline().decode("utf-8", errors="replace").lower().startswith("radio")
    frame = pd.read_csv(
        path,
        header=None,
        names=list(COLUMNS),
        skiprows=1 if has_header else 0,
        dtype=str,
        keep_default_na=False,
        index_col=False,
        on_bad_lines="error",
    )
    rows = np.arange(len(frame), dtype=np.int64) + (2 if has_header else 1)
    return SourceTable(frame, rows, None, 1 if has_header else 0, "utf-8")


@dataclass(frozen=True)
class CellTable:
    """OpenCelliD rows in the cells layer's fields, and the rows refused before validation."""

    frame: pd.DataFrame
    problems: pd.DataFrame


def to_cells(table: SourceTable, assumptions: CellAssumptions) -> CellTable:
    """Cells-layer columns (plus ``lon``/``lat`` text) for every row; foreign and unknown
    networks and technologies are listed as problems (row labels = the frame's index)."""
    raw = table.frame
    radio = raw["radio"].str.strip().str.upper()
    technology = radio.map(TECHNOLOGY)
    mcc = pd.to_numeric(raw["mcc"], errors="coerce")
    net = pd.to_numeric(raw["net"], errors="coerce")
    whole = net.where(net == net.round()).astype("Int64")
    mnc_text = whole.astype("string").str.zfill(2)
    # A handful of distinct MNCs: resolve each once.
    operator = whole.map({int(m): operator_from_mnc(int(m)) for m in whole.dropna().unique()})
    ids = (
        "OCID-"
        + radio.fillna("")
        + "-"
        + raw["mcc"].str.strip()
        + "-"
        + raw["net"].str.strip()
        + "-"
        + raw["area"].str.strip()
        + "-"
        + raw["cell"].str.strip()
    )
    blocks = []

    def refuse(mask: pd.Series, field_name: str, values: pd.Series, reason: str, msg: str) -> None:
        if mask.any():
            blocks.append(
                pd.DataFrame(
                    {
                        "row": raw.index[mask],
                        "field": field_name,
                        "value": values[mask].to_numpy(dtype=object),
                        "reason": reason,
                        "message": msg,
                    }
                )
            )

    foreign = mcc != VIETNAM_MCC
    refuse(foreign, "mcc", raw["mcc"], "other_country", f"mcc: not {VIETNAM_MCC} (Vietnam)")
    refuse(
        ~foreign & operator.isna(),
        "net",
        raw["net"],
        "unknown_operator",
        "net: not the MNC of a Vietnamese operator (01, 02, 04, 05, 07)",
    )
    refuse(
        technology.isna(),
        "radio",
        raw["radio"],
        "not_allowed",
        "radio: not one of GSM, UMTS, LTE, NR",
    )
    tech = technology.fillna("")
    frame = pd.DataFrame(
        {
            "cell_id": ids,
            "operator": operator,
            "technology": technology,
            "band_mhz": tech.map(assumptions.band_mhz),
            "bandwidth_mhz": tech.map(assumptions.bandwidth_mhz),
            "azimuth_deg": 0.0,
            "height_m": assumptions.height_m,
            "tx_power_dbm": tech.map(assumptions.tx_power_dbm),
            "antenna_gain_dbi": assumptions.antenna_gain_dbi,
            "h_beamwidth_deg": 360.0,
            "status": "on-air",
            "source": SOURCE
            + "; MNC "
            + mnc_text.fillna("?")
            + "; band, power and antenna assumed by technology",
            "lon": raw["lon"],
            "lat": raw["lat"],
        },
        index=raw.index,
    )
    problems = (
        pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=PROBLEM_COLUMNS)
    )
    return CellTable(frame, problems)


def group_sites(
    cells: gpd.GeoDataFrame, assumptions: CellAssumptions, *, metric_crs: str | None = None
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Sites of the cells (one operator's cells within the tolerance) and each cell's site_id.

    A site's id is derived from its smallest cell id, so re-importing the same export gives
    the same ids; it stands at the mean position of its cells in ``metric_crs`` (default: the
    cells' area's), where the tolerance is measured too.
    """
    if cells.empty:
        empty = gpd.GeoDataFrame({"site_id": pd.Series(dtype=str)}, geometry=[], crs=WGS84)
        return empty, pd.Series(dtype=str, index=cells.index)
    crs = metric_crs or metric_crs_of(cells)
    keyed = cells[["cell_id", "operator"]].rename(columns={"cell_id": "site_id"})
    keyed = gpd.GeoDataFrame(keyed, geometry=cells.geometry.to_numpy(), crs=WGS84)
    label = pd.Series(-1, index=cells.index, dtype="int64")
    offset = 0
    for _, group in keyed.groupby("operator", sort=True):
        positions = cluster_positions(group, assumptions.site_tolerance_m, metric_crs=crs)
        label[group.index] = positions.to_numpy() + offset
        offset += int(positions.max()) + 1
    x, y = lonlat_to_metric(cells.geometry.x.to_numpy(), cells.geometry.y.to_numpy(), crs)
    members = pd.DataFrame(
        {"label": label, "cell_id": cells["cell_id"], "operator": cells["operator"], "x": x, "y": y}
    )
    grouped = members.groupby("label", sort=True)
    first = grouped["cell_id"].min()
    site_ids = "OCID-SITE-" + first.str.removeprefix("OCID-")
    mean_x, mean_y = grouped["x"].mean(), grouped["y"].mean()
    lon, lat = metric_to_lonlat(mean_x.to_numpy(), mean_y.to_numpy(), crs)
    sites = gpd.GeoDataFrame(
        {
            "site_id": site_ids.to_numpy(),
            "operator": grouped["operator"].first().to_numpy(),
            "tower_type": assumptions.tower_type,
            "height_m": assumptions.height_m,
            "height_assumed": True,
            "status": "on-air",
            "source": SOURCE + f"; cells within {assumptions.site_tolerance_m:g} m grouped, "
            "position their mean; tower type and height assumed",
        },
        geometry=shapely.points(lon, lat),
        crs=WGS84,
    )
    return sites, label.map(pd.Series(site_ids.to_numpy(), index=first.index))
