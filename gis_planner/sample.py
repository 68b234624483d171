"""The bundled samples: their layer files and how they load into a store.

Two samples are bundled (``layers/``): "ninhbinh", the whole new Ninh Bình province of July 2025
(the former Hà Nam, Nam Định and Ninh Bình), and "hanam", the former Hà Nam province alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyogrio

from gis_planner.catalogue import CATALOGUE
from gis_planner.catalogue.layers import CORE_LAYERS
from gis_planner.errors import GisPlannerError
from gis_planner.settings import SAMPLE_DIRS
from gis_planner.store import LayerStore


def bundled_sample_dir(name: str) -> Path:
    """The layer folder of the bundled sample ``name`` ("ninhbinh" or "hanam")."""
    if name not in SAMPLE_DIRS:
        raise GisPlannerError(f"no bundled sample {name!r}: one of {', '.join(SAMPLE_DIRS)}")
    return SAMPLE_DIRS[name]


def sample_files(sample_dir: Path) -> dict[str, Path]:
    """The file of each core layer in ``sample_dir`` (GeoJSON, or CSV for tables)."""
    files = {}
    for spec in CORE_LAYERS:
        suffix = ".geojson" if spec.geometry_type else ".csv"
        path = sample_dir / f"{spec.name}{suffix}"
        if not path.exists():
            raise GisPlannerError(f"{path}: missing layer file of the sample")
        files[spec.name] = path
    return files


def read_sample_layer(path: Path) -> pd.DataFrame:
    """One layer file of a sample, as written by ``layers/build_sample.py``."""
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    return pyogrio.read_dataframe(path, use_arrow=True)


def load_sample(
    store: LayerStore,
    sample_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Validate every sample layer and write them all into ``store`` in one transaction."""
    counts = {}
    with store.transaction() as tx:
        for name, path in sample_files(sample_dir).items():
            if progress:
                progress(name)
            frame = read_sample_layer(path)
            tx.write(
                name,
                frame,
                metadata={"source_file": path.name, "layer_label": CATALOGUE[name].label_vi},
            )
            counts[name] = len(frame)
    return counts
