"""Store speed: write and read back every sample layer, and 150,000 national-scale sites.

Target (issue 2): reading 150,000 sites from the store ≤ 1 s. Baseline in the same process:
reading the same sites from a GeoJSON file, the format most such lists are exchanged in.
Run: ``python -m benchmarks.bench_store``.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import geopandas as gpd
import pyogrio

from benchmarks.harness import measure, print_table, verdict
from benchmarks.synthetic import national_sites
from gis_planner.sample import read_sample_layer, sample_files
from gis_planner.settings import get_settings
from gis_planner.store import GeoPackageStore

NATIONAL_SITES = 150_000
READ_TARGET_S = 1.0


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench_store_"))
    store = GeoPackageStore(work / "bench.gpkg")
    rows = []
    for name, path in sample_files(get_settings().sample_dir).items():
        frame = read_sample_layer(path)
        write, _ = measure(partial(store.write, name, frame), repeat=3)
        read, back = measure(partial(store.read, name), repeat=5)
        assert len(back) == len(frame)
        rows.append(
            (name, f"{len(frame):,}", f"{write.median_s * 1000:.0f}", f"{read.median_s * 1000:.0f}")
        )
    print_table("Sample layers (median ms)", ("layer", "rows", "write ms", "read ms"), rows)

    sites = national_sites(NATIONAL_SITES)
    write, _ = measure(lambda: store.write("sites", sites), repeat=3)
    read, back = measure(lambda: store.read("sites"), repeat=5)
    assert len(back) == NATIONAL_SITES
    bbox_read, subset = measure(
        lambda: store.read("sites", bbox=(105.7, 20.3, 106.3, 20.8)), repeat=5
    )

    geojson = work / "sites.geojson"
    pyogrio.write_dataframe(sites, geojson, driver="GeoJSON")
    baseline, _ = measure(lambda: gpd.read_file(geojson), repeat=3)

    print_table(
        f"{NATIONAL_SITES:,} national-scale sites (median of repeats)",
        ("operation", "seconds", "note"),
        [
            ("store write (validate + atomic commit)", f"{write.median_s:.3f}", ""),
            (
                "store read, whole layer",
                f"{read.median_s:.3f}",
                verdict(read.median_s, READ_TARGET_S) + f" (≤ {READ_TARGET_S} s)",
            ),
            (
                "store read, Hà Nam bbox",
                f"{bbox_read.median_s:.3f}",
                f"{len(subset):,} rows via the R-tree",
            ),
            (
                "baseline: geopandas.read_file(GeoJSON)",
                f"{baseline.median_s:.3f}",
                f"store read is {baseline.median_s / read.median_s:.1f}× faster",
            ),
        ],
    )


if __name__ == "__main__":
    main()
