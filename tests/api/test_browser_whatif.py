"""The planned-site tool in a real Chromium draws the coverage the site would add."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page

from api.settings import ApiSettings
from gis_planner.store import GeoPackageStore
from tests.api.conftest import KEYS, serving
from tests.api.test_browser import DESKTOP, browser  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser

#: A VNPT 4G gap of the sample (Thôn Mỹ Mai, more than 3.5 km from VNPT's on-air 4G cells).
VNPT_GAP = (106.10591, 20.61290)
GAINED = np.array([0x62, 0x00, 0xEA])


@pytest.fixture(scope="module")
def planning_server(
    sample_store: GeoPackageStore,
    api_settings: ApiSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A server on a copy of the sample: placing a site writes its host candidates."""
    target = tmp_path_factory.mktemp("whatif") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, target)
    log = tmp_path_factory.mktemp("whatif_log") / "serve.log"
    with serving(GeoPackageStore(target), api_settings, log) as url:
        yield url


def _gained_pixels(page: Page) -> int:
    """Pixels of the map drawn in the what-if's colour (its outline; the fill is see-through)."""
    shot = Image.open(io.BytesIO(page.locator("#map").screenshot())).convert("RGB")
    pixels = np.asarray(shot, dtype=np.int32)
    return int((((pixels - GAINED) ** 2).sum(axis=2) < 40**2).sum())


def test_planned_site_draws_the_coverage_gained(browser, planning_server: str) -> None:  # noqa: F811
    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(f"sessionStorage.setItem('gis-planner-api-key', '{KEYS['vnpt']}')")
    lon, lat = VNPT_GAP
    page.goto(f"{planning_server}/#13/{lat}/{lon}", wait_until="networkidle")
    page.locator("#layers fieldset.group").first.wait_for(state="attached", timeout=10_000)
    page.wait_for_timeout(500)
    assert _gained_pixels(page) < 50
    page.locator("#planned-site").click()
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.locator("#map").click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    popup = page.locator(".leaflet-popup-content")
    popup.get_by_text("Dân số được phủ thêm").wait_for(timeout=60_000)
    text = popup.inner_text()
    assert "Dân số được phủ thêm" in text and "Thôn Mỹ Mai" in text, text
    page.keyboard.press("Escape")  # the popup closed, the area stays
    page.wait_for_timeout(500)
    assert _gained_pixels(page) > 500
    assert errors == []
    page.close()


def test_viewers_get_no_what_if(browser, planning_server: str) -> None:  # noqa: F811
    page = browser.new_page(viewport=DESKTOP)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    lon, lat = VNPT_GAP
    page.goto(f"{planning_server}/#13/{lat}/{lon}", wait_until="networkidle")
    page.locator("#layers fieldset.group").first.wait_for(state="attached", timeout=10_000)
    page.locator("#planned-site").click()
    page.locator("#map").click(position={"x": 400, "y": 300})
    page.locator(".leaflet-popup-content").get_by_text("Trạm dự kiến").wait_for(timeout=15_000)
    assert not [url for url in requests if "what-if" in url]
    page.close()
