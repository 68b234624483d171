"""Colour maps of coverage quantities: contiguous classes, labels in both languages, tiles drawn
in the classes' colours."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from PIL import Image

from gis_planner.colormaps import COLOUR_MAPS, colour_map_for
from gis_planner.rastertiles import render_png


@pytest.mark.parametrize("name", sorted(COLOUR_MAPS))
def test_classes_tile_the_real_line(name: str) -> None:
    classes = sorted(COLOUR_MAPS[name].classes, key=lambda c: c.low)
    assert classes[0].low <= -1e9 and classes[-1].high >= 1e9
    for below, above in itertools.pairwise(classes):
        assert below.high == above.low
    assert all(c.label("vi") != c.label("en") for c in classes)


def test_colour_map_for_names() -> None:
    assert colour_map_for("coverage.viettel.rsrp") is COLOUR_MAPS["rsrp"]
    assert colour_map_for("SINR_best") is COLOUR_MAPS["sinr"]
    assert colour_map_for("population") is None


@pytest.mark.parametrize("name", ["rsrp", "best_server"])
def test_rendered_tile_draws_each_value_in_its_class_colour(name: str) -> None:
    cmap = COLOUR_MAPS[name]
    rng = np.random.default_rng(7)
    values = np.ma.masked_array(
        rng.uniform(-130, -60, (256, 256)) if name == "rsrp" else rng.integers(1, 40, (256, 256)),
        mask=rng.random((256, 256)) < 0.2,
    )
    rgba = np.asarray(Image.open(io.BytesIO(render_png(values, cmap))).convert("RGBA"))
    for (row, col), value in np.ndenumerate(values.data):
        found = cmap.class_of(value)
        if values.mask[row, col] or found is None:
            assert rgba[row, col, 3] == 0
        else:
            assert tuple(rgba[row, col]) == found.rgba
