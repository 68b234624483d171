"""The offline HTML maps in a real Chromium: a live map object, no script error, features drawn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser

from gis_planner.coverage.grid import Grid
from gis_planner.coverage.products import rsrp_map
from gis_planner.maps import OVERVIEW_LAYERS, overview_map, save_map
from gis_planner.store import GeoPackageStore
from tests.api.test_browser import browser  # noqa: F401 (the Chromium fixture)

pytestmark = pytest.mark.browser


def rendered(browser: Browser, html: Path, shot: Path) -> tuple[list[str], np.ndarray, bool]:  # noqa: F811
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(html.as_uri())
    page.wait_for_timeout(1500)
    # folium names its map map_<id>: a live Leaflet map has a size and a zoom (in the page,
    # or in the frame a notebook's output holds it in)
    live = any(
        frame.evaluate(
            "() => Object.keys(window).filter(k => k.startsWith('map_'))"
            ".some(k => window[k] && typeof window[k].getZoom === 'function'"
            " && window[k].getZoom() !== undefined)"
        )
        for frame in page.frames
    )
    page.screenshot(path=str(shot))
    page.close()
    return errors, np.asarray(Image.open(shot).convert("RGB")), bool(live)


def coloured_share(pixels: np.ndarray) -> float:
    """The share of pixels neither white, black nor grey: what a map draws."""
    spread = np.abs(pixels.astype(int) - pixels.mean(axis=2, keepdims=True))
    return float((spread > 25).any(axis=2).mean())


def test_overview_map_draws_the_layers(
    browser: Browser,  # noqa: F811
    sample_store: GeoPackageStore,
    tmp_path: Path,
) -> None:
    frames = {name: sample_store.read(name) for name in OVERVIEW_LAYERS}
    html = save_map(overview_map(frames, "vi"), tmp_path / "overview.html")
    errors, pixels, live = rendered(browser, html, tmp_path / "overview.png")
    assert errors == [] and live
    # features drawn: many pixels neither white nor the empty map's grey
    assert coloured_share(pixels) > 0.02


def test_rsrp_map_draws_the_raster(browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    grid = Grid(580_000.0, 2_290_000.0, 100.0, 200, 150, "EPSG:32648")
    rsrp = np.linspace(-125, -70, grid.width * grid.height, dtype=np.float32).reshape(grid.shape)
    html = save_map(rsrp_map(rsrp, grid, "viettel 4G"), tmp_path / "rsrp.html")
    errors, pixels, live = rendered(browser, html, tmp_path / "rsrp.png")
    assert errors == [] and live
    assert coloured_share(pixels) > 0.2
