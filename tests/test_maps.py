"""Overview map: offline, labelled in Vietnamese."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gis_planner.errors import GisPlannerError
from gis_planner.maps import OVERVIEW_LAYERS, base_map, overview_map, remote_references, save_map
from gis_planner.store import GeoPackageStore


def test_remote_references_are_found() -> None:
    html = '<script src="https://cdn.jsdelivr.net/x.js"></script><link href="//a.b/c.css">'
    assert len(remote_references(html)) == 2
    assert remote_references('<script src="data:text/javascript;base64,AA=="></script>') == []


def test_overview_map_is_offline_and_vietnamese(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    layers = {name: sample_store.read(name) for name in OVERVIEW_LAYERS}
    path = save_map(overview_map(layers), tmp_path / "map.html")
    html = path.read_text(encoding="utf-8")
    assert remote_references(html) == []
    assert "http://" not in html and "https://" not in html
    for text in ("Ranh giới tỉnh", "Trạm BTS – Viettel", "Khu vực ưu tiên 5G", "Chùa Tam Chúc"):
        # Folium writes layer names and data as ASCII-escaped JSON; the browser shows the text.
        assert text in html or json.dumps(text)[1:-1] in html, text
    assert "L.control.scale({imperial: false" in html
    english = overview_map(layers, lang="en").get_root().render()
    assert "Province boundary" in english


def test_save_map_refuses_remote_resources(tmp_path: Path) -> None:
    fmap = base_map((105.8, 20.4, 106.2, 20.7))
    fmap.default_js = [("leaflet", "https://cdn.example/leaflet.js")]
    with pytest.raises(GisPlannerError, match="remote"):
        save_map(fmap, tmp_path / "bad.html")
    assert not (tmp_path / "bad.html").exists()
