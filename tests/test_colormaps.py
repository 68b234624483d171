"""Colour maps of coverage quantities: contiguous classes, labels in both languages."""

from __future__ import annotations

import itertools

import pytest

from gis_planner.colormaps import COLOUR_MAPS, colour_map_for


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
