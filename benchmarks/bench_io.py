"""Import speed: a 100,000-row station list (CSV, and XLSX) into the store.

Targets: importing a 100,000-row station CSV ≤ 5 s (issue 3), and a 100,000-row XLSX station
list with Vietnamese values as operators write them ≤ 5 s (issue 14), printed as rows/s. The file is
written the way operators send lists: semicolons, a BOM, a title row, Vietnamese headers,
decimal commas, heights as "45m", operator names in many spellings. The import runs everything:
encoding and delimiter detection, column mapping, parsing, swap detection, province check,
commune lookup, catalogue validation, duplicate ids, and the atomic store write.
Baseline in the same process: ``pandas.read_csv`` of the same file + points + a plain GeoPackage
write with no parsing or validation (what a script that trusts its input would do). The XLSX
list has title rows, Vietnamese tower types and statuses, heights missing on some rows (taken
from the tower type); its baseline is plain ``pandas.read_excel`` of the same file (calamine
engine), the ratio printed. For information, also an OpenCelliD-format export of 100,000 cells,
grouped into sites.
The XLSX table gives the CPU time (every thread of the process) beside the wall time, and the
load average around it: the import reads the store on a second thread while calamine parses the
sheet, so on a machine shared with other work its wall time says more of the others than of the
import.
Run: ``python -m benchmarks.bench_io``.
"""

from __future__ import annotations

import codecs
import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from openpyxl import Workbook

from benchmarks.harness import measure, peak_rss_mib, print_table, verdict
from gis_planner.io import ImportOptions, import_file
from gis_planner.sample import load_sample
from gis_planner.settings import get_settings
from gis_planner.store import GeoPackageStore

ROWS = 100_000
TARGET_S = 5.0
HEADER = "Mã trạm;Nhà mạng;Kinh độ;Vĩ độ;Độ cao cột (m);Loại cột;Địa chỉ"
SPELLINGS = np.array(["Viettel", "VIETTEL", "Vina", "VNPT-VinaPhone", "MobiFone", "Mobi",
                      "Vietnamobile", "Gmobile"])  # fmt: skip
TOWERS = np.array(["lattice", "monopole", "rooftop", "guyed", "street_pole"])
TOWERS_VI = np.array(["Cột tự đứng", "Cột đơn thân", "Cột trên nóc nhà", "Cột dây co", "Cột cóc",
                      "Cot tu dung"])  # fmt: skip
STATUSES_VI = np.array(["Đang phát sóng", "Đã phát sóng", "Quy hoạch", "Đang hoạt động"])
XLSX_HEADER = ["STT", "Mã trạm", "Tên trạm", "Địa chỉ", "Kinh độ", "Vĩ độ", "Loại cột",
               "Độ cao cột (m)", "Trạng thái", "Nhà mạng"]  # fmt: skip


def station_csv(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` station rows inside Hà Nam as an operator would send them."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(105.85, 106.05, n)
    lat = rng.uniform(20.45, 20.62, n)
    frame = pd.DataFrame(
        {
            "id": np.char.add("HNM-", np.arange(n).astype(str)),
            "op": SPELLINGS[rng.integers(0, len(SPELLINGS), n)],
            "lon": np.char.replace(np.round(lon, 6).astype(str), ".", ","),
            "lat": np.char.replace(np.round(lat, 6).astype(str), ".", ","),
            "h": np.char.add(rng.integers(15, 60, n).astype(str), "m"),
            "tower": TOWERS[rng.integers(0, len(TOWERS), n)],
            "address": "Thôn Đồng Văn, Xã Đồng Hóa",
        }
    )
    body = frame.to_csv(sep=";", header=False, index=False)
    path.write_bytes(codecs.BOM_UTF8 + f"DANH SÁCH TRẠM BTS\n{HEADER}\n{body}".encode())
    return path


def station_xlsx(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` station rows in a workbook as operators send them: title rows, Vietnamese values,
    numbers as numbers, one height in ten "N/A"."""
    rng = np.random.default_rng(seed)
    lon = np.round(rng.uniform(105.85, 106.05, n), 6)
    lat = np.round(rng.uniform(20.45, 20.62, n), 6)
    heights = rng.integers(15, 60, n).astype(object)
    heights[rng.random(n) < 0.1] = "N/A"
    towers = TOWERS_VI[rng.integers(0, len(TOWERS_VI), n)]
    statuses = STATUSES_VI[rng.integers(0, len(STATUSES_VI), n)]
    operators = SPELLINGS[rng.integers(0, len(SPELLINGS), n)]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Trạm BTS")
    sheet.append(["DANH SÁCH TRẠM BTS TRÊN ĐỊA BÀN TỈNH HÀ NAM"])
    sheet.append([])
    sheet.append(XLSX_HEADER)
    address = "Thôn Đồng Văn, xã Đồng Hóa"
    for i in range(n):
        row = [i + 1, f"HNM-{i:06d}", f"Trạm {i}", address, lon[i], lat[i]]
        sheet.append([*row, towers[i], heights[i], statuses[i], operators[i]])
    book.save(path)
    return path


def opencellid_csv(path: Path, n_sites: int, cells_per_site: int, seed: int = 0) -> Path:
    """An OpenCelliD-format export: ``n_sites`` masts in Hà Nam, cells jittered ~30 m around."""
    rng = np.random.default_rng(seed)
    n = n_sites * cells_per_site
    mast = np.repeat(np.arange(n_sites), cells_per_site)
    lon = rng.uniform(105.85, 106.05, n_sites)[mast] + rng.normal(0, 0.0003, n)
    lat = rng.uniform(20.45, 20.62, n_sites)[mast] + rng.normal(0, 0.0003, n)
    radio = np.array(["GSM", "UMTS", "LTE", "NR"])[rng.integers(0, 4, n)]
    net = np.array([1, 2, 4, 5, 7])[mast % 5]
    frame = pd.DataFrame(
        {"radio": radio, "mcc": 452, "net": net, "area": 100 + mast // 50, "cell": np.arange(n),
         "unit": 0, "lon": np.round(lon, 6), "lat": np.round(lat, 6), "range": 500,
         "samples": 5, "changeable": 1, "created": 1600000000, "updated": 1700000000,
         "averageSignal": 0}
    )  # fmt: skip
    frame.to_csv(path, index=False)
    return path


def baseline(path: Path, out: Path) -> int:
    """Read and write with no parsing or checks (decimal commas fixed by read_csv)."""
    frame = pd.read_csv(path, sep=";", skiprows=1, decimal=",", encoding="utf-8-sig")
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["Kinh độ"], frame["Vĩ độ"]), crs="EPSG:4326"
    )
    pyogrio.write_dataframe(points, out, layer="sites", driver="GPKG", use_arrow=True)
    return len(points)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench_io_"))
    csv_path = station_csv(work / "tram_100k.csv", ROWS)
    seed_store = GeoPackageStore(work / "seed.gpkg")
    load_sample(seed_store, get_settings().sample_dir)
    store_path = work / "hanam.gpkg"

    def run_import() -> int:
        shutil.copyfile(seed_store.path, store_path)
        store = GeoPackageStore(store_path)
        result = import_file(csv_path, "sites", store, options=ImportOptions())
        assert result.accepted == ROWS and result.rejected == 0, result.rejects.head()
        return result.accepted

    def copy_only() -> None:
        shutil.copyfile(seed_store.path, store_path)

    copy, _ = measure(copy_only, repeat=3)
    timing, accepted = measure(run_import, repeat=3)
    import_s = timing.median_s - copy.median_s
    plain, count = measure(lambda: baseline(csv_path, work / "plain.gpkg"), repeat=3)
    assert count == ROWS
    print_table(
        f"Import of a {ROWS:,}-row station CSV (median of {timing.repeats})",
        ("operation", "seconds", "rows/s", "note"),
        [
            (
                "gis-planner import (checked, atomic)",
                f"{import_s:.2f}",
                f"{accepted / import_s:,.0f}",
                verdict(import_s, TARGET_S) + f" (≤ {TARGET_S:g} s)",
            ),
            (
                "baseline: read_csv + points + GPKG write",
                f"{plain.median_s:.2f}",
                f"{ROWS / plain.median_s:,.0f}",
                f"checked import costs {import_s / plain.median_s:.1f}× the unchecked one",
            ),
        ],
    )
    xlsx_path = station_xlsx(work / "tram_100k.xlsx", ROWS)

    def run_xlsx_import() -> int:
        shutil.copyfile(seed_store.path, store_path)
        store = GeoPackageStore(store_path)
        result = import_file(xlsx_path, "sites", store)
        assert result.accepted == ROWS and result.rejected == 0, result.rejects.head()
        assert result.fixed_by_reason()["assumed"] > 0
        return result.accepted

    load_before = os.getloadavg()
    xlsx_timing, xlsx_accepted = measure(run_xlsx_import, repeat=3)
    xlsx_s = xlsx_timing.median_s - copy.median_s
    xlsx_cpu_s = xlsx_timing.cpu_median_s - copy.cpu_median_s
    pandas_timing, frame = measure(
        lambda: pd.read_excel(xlsx_path, engine="calamine", skiprows=2), repeat=3
    )
    load_after = os.getloadavg()
    assert len(frame) == ROWS
    print_table(
        f"Import of a {ROWS:,}-row XLSX station list, Vietnamese values (median of "
        f"{xlsx_timing.repeats}; load average (1, 5, 15 min) before "
        f"{', '.join(f'{x:.1f}' for x in load_before)}, after "
        f"{', '.join(f'{x:.1f}' for x in load_after)})",
        ("operation", "seconds", "CPU s", "rows/s", "note"),
        [
            (
                "gis-planner import (every check, atomic)",
                f"{xlsx_s:.2f}",
                f"{xlsx_cpu_s:.2f}",
                f"{xlsx_accepted / xlsx_s:,.0f}",
                verdict(xlsx_s, TARGET_S) + f" (≤ {TARGET_S:g} s)",
            ),
            (
                "baseline: pandas.read_excel (calamine)",
                f"{pandas_timing.median_s:.2f}",
                f"{pandas_timing.cpu_median_s:.2f}",
                f"{ROWS / pandas_timing.median_s:,.0f}",
                f"checked import costs {xlsx_s / pandas_timing.median_s:.1f}× plain reading",
            ),
        ],
    )
    cells_path = opencellid_csv(work / "452.csv", ROWS // 20, 20)

    def run_opencellid() -> tuple[int, int]:
        shutil.copyfile(seed_store.path, store_path)
        result = import_file(cells_path, "cells", GeoPackageStore(store_path))
        assert result.accepted == ROWS, result.rejects.head()
        return result.written["cells"], result.written["sites"]

    cells_timing, (cells, sites) = measure(run_opencellid, repeat=1)
    print_table(
        f"OpenCelliD export, {ROWS:,} cells (no target; for information)",
        ("operation", "seconds", "rows/s", "note"),
        [
            (
                "gis-planner import cells (grouped into sites)",
                f"{cells_timing.median_s:.2f}",
                f"{cells / cells_timing.median_s:,.0f}",
                f"{sites:,} sites from {cells:,} cells",
            )
        ],
    )
    print(f"peak memory {peak_rss_mib():,.0f} MiB; store copy excluded ({copy.median_s:.2f} s)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
