"""Synthetic villages: thôn in rural communes, tổ dân phố in wards and townships.

There is no public village data set, so every commune is tessellated into relaxed Voronoi
cells, one per village, about one per 800 people; the commune's population is shared among its
villages unevenly (a Dirichlet draw), so some villages are large and some small.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.synthetic.common import largest_remainder, relaxed_cells, rng, sample_in_polygon

PEOPLE_PER_VILLAGE = 800
MIN_VILLAGES, MAX_VILLAGES = 5, 24
HOUSEHOLD_SIZE = (3.0, 3.7)

# Thôn names are built from two common name words; numbered ones are just as common.
FIRST_WORDS = (
    "Đông", "Tây", "Nam", "Bắc", "Thượng", "Trung", "Hạ", "Tân", "An", "Phú", "Yên", "Hòa",
    "Thịnh", "Lạc", "Nhân", "Nghĩa", "Văn", "Quang", "Hưng", "Mỹ", "Xuân", "Thọ", "Đồng",
)  # fmt: skip
SECOND_WORDS = (
    "Thái", "Lão", "Khê", "Bình", "Ninh", "Lộc", "Phúc", "Đình", "Điền", "Hòa", "Trại", "Xá",
    "Nội", "Ngoại", "Châu", "Sơn", "Lâm", "Thủy", "Mai", "Vực", "Cầu", "Bến", "Giáp",
)  # fmt: skip


def _names(unit_type: str, count: int, gen: np.random.Generator) -> list[str]:
    if unit_type in ("ward", "township"):
        return [f"Tổ dân phố {k}" for k in range(1, count + 1)]
    if gen.random() < 0.4:
        return [f"Thôn {k}" for k in range(1, count + 1)]
    pairs = [(a, b) for a in FIRST_WORDS for b in SECOND_WORDS if a != b]
    chosen = gen.choice(len(pairs), size=count, replace=False)
    return [f"Thôn {pairs[i][0]} {pairs[i][1]}" for i in chosen]


def build_villages(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per village, in the communes' CRS, populations summing to each commune's."""
    gen = rng("villages")
    frames = []
    for commune in communes.itertuples():
        count = int(
            np.clip(round(commune.population / PEOPLE_PER_VILLAGE), MIN_VILLAGES, MAX_VILLAGES)
        )
        seeds = sample_in_polygon(commune.geometry, count, gen)
        _, cells = relaxed_cells(seeds, commune.geometry)
        weights = gen.dirichlet(np.full(count, 5.0))
        population = largest_remainder(int(commune.population), weights)
        households = np.round(population / gen.uniform(*HOUSEHOLD_SIZE, count)).astype(int)
        urban = commune.unit_type in ("ward", "township")
        frames.append(
            pd.DataFrame(
                {
                    "code": [f"{commune.code}{k:03d}" for k in range(1, count + 1)],
                    "name": _names(commune.unit_type, count, gen),
                    "village_type": "to_dan_pho" if urban else "thon",
                    "commune_code": commune.code,
                    "population": population,
                    "households": households,
                    "geometry": cells,
                }
            )
        )
    return gpd.GeoDataFrame(
        pd.concat(frames, ignore_index=True), geometry="geometry", crs=communes.crs
    )
