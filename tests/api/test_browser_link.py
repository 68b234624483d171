"""The microwave link tool in a real Chromium: two sites clicked on the map, the hop's profile
drawn over the server's terrain (a ridge across the hop), the hop on the map in the colour of
its verdict."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Locator, Page

from api.settings import ApiSettings
from gis_planner.store import GeoPackageStore
from tests.api.conftest import serving
from tests.api.test_browser import DESKTOP, browser  # noqa: F401 (the fixture)
from tests.test_link import SITE_A, SITE_B, write_dem

pytestmark = pytest.mark.browser

TERRAIN = np.array([0x8C, 0x6D, 0x46])
LINE_OF_SIGHT = np.array([0x1F, 0x78, 0xB4])
OBSTRUCTED = np.array([0xD7, 0x30, 0x1F])


@pytest.fixture(scope="module")
def terrain_server(
    sample_store: GeoPackageStore,
    api_settings: ApiSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A server on the sample with a DEM holding a 40 m ridge across the hop's middle."""
    folder = tmp_path_factory.mktemp("link_browser")
    dem = write_dem(folder / "ridge.tif", sample_store, ridge_m=40.0)
    env = {"GIS_PLANNER_TERRAIN": str(dem)}
    with serving(sample_store, api_settings, folder / "serve.log", env) as url:
        yield url


def _pixels_like(element: Locator, colour: np.ndarray, tolerance: int = 40) -> int:
    shot = Image.open(io.BytesIO(element.screenshot())).convert("RGB")
    pixels = np.asarray(shot, dtype=np.int32)
    return int((((pixels - colour) ** 2).sum(axis=2) < tolerance**2).sum())


def _site_point(page: Page, store: GeoPackageStore, site_id: str) -> dict[str, float]:
    sites = store.read("sites")
    point = sites.geometry[sites["site_id"] == site_id].iloc[0]
    return page.evaluate(
        "([lat, lon]) => gisPlanner.map.latLngToContainerPoint([lat, lon])", [point.y, point.x]
    )


def _open(page: Page, url: str, store: GeoPackageStore) -> None:
    sites = store.read("sites")
    both = sites[sites["site_id"].isin([SITE_A, SITE_B])]
    west, south, east, north = both.total_bounds
    page.goto(url, wait_until="networkidle")
    page.locator("#layers fieldset.group").first.wait_for(state="attached", timeout=30_000)
    page.evaluate(
        "(b) => gisPlanner.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], "
        "{padding: [120, 120], animate: false})",
        [west, south, east, north],
    )
    page.wait_for_timeout(300)


def test_two_sites_clicked_give_the_hop_profile(
    browser,  # noqa: F811
    terrain_server: str,
    sample_store: GeoPackageStore,
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _open(page, terrain_server, sample_store)
    panel = page.locator("#link-panel")
    assert panel.is_hidden()
    before = _pixels_like(page.locator("#map"), OBSTRUCTED)

    page.locator("#link-profile").click()
    assert "Bấm vào trạm đầu A" in page.locator("#link-hint").inner_text()
    a = _site_point(page, sample_store, SITE_A)
    page.locator("#map").click(position={"x": a["x"], "y": a["y"]})
    page.get_by_text("Bấm vào trạm đầu B").wait_for(timeout=30_000)
    b = _site_point(page, sample_store, SITE_B)
    page.locator("#map").click(position={"x": b["x"], "y": b["y"]})
    summary = page.locator("#link-summary")
    summary.get_by_text("Bị che chắn").wait_for(timeout=60_000)

    # Nothing of the map (its scale bar, its attribution) over the verdict.
    page.locator("#link-summary strong").click(trial=True, timeout=5_000)
    assert SITE_A in page.locator("#link-title").inner_text()
    assert SITE_B in page.locator("#link-title").inner_text()
    text = summary.inner_text()
    assert "Chiều dài 12" in text and "Vật cản 1" in text, text
    chart = page.locator("#link-chart")
    # The ridge drawn as terrain, the line of sight across it, the obstacle marked.
    assert _pixels_like(chart, TERRAIN) > 2_000
    assert _pixels_like(chart, LINE_OF_SIGHT) > 500
    assert page.locator("#link-chart .link-obstacle").count() == 1
    # The hop on the map in the obstructed colour.
    assert _pixels_like(page.locator("#map"), OBSTRUCTED) > before + 300

    page.locator("#link-close").click()
    assert panel.is_hidden()
    assert errors == []
    page.close()


def test_a_click_away_from_sites_says_so(
    browser,  # noqa: F811
    terrain_server: str,
    sample_store: GeoPackageStore,
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    _open(page, terrain_server, sample_store)
    page.locator("#link-profile").click()
    a = _site_point(page, sample_store, SITE_A)
    # 150 px from the site: far more than the tool's reach of a click
    page.locator("#map").click(position={"x": a["x"] + 150, "y": a["y"] + 150})
    page.get_by_text("Không có trạm nào tại điểm bấm").wait_for(timeout=30_000)
    page.close()


def test_without_terrain_there_is_no_link_tool(
    browser,  # noqa: F811
    live_server: str,
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(live_server, wait_until="networkidle")
    page.locator("#layers fieldset.group").first.wait_for(state="attached", timeout=30_000)
    assert page.locator("#link-profile").is_hidden()
    page.close()
