"""Every notebook runs top to bottom on the sample, and its maps draw in a real Chromium."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from playwright.sync_api import Browser

from tests.api.test_browser import browser  # noqa: F401 (the Chromium fixture)
from tests.test_maps_browser import coloured_share, rendered

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
#: The notebooks that show a map.
WITH_MAPS = {"01_quickstart", "02_coverage_and_gaps", "05_fibre"}


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, browser: Browser) -> None:  # noqa: F811
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    # Each map the notebook shows, as a reader's browser opens its output: a live map that
    # draws (the maps once opened blank, with a script error before the map existed).
    maps = [
        output["data"]["text/html"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "leaflet" in output.get("data", {}).get("text/html", "").lower()
    ]
    assert bool(maps) == (path.stem in WITH_MAPS)
    for index, html in enumerate(maps):
        page = tmp_path / f"map_{index}.html"
        page.write_text(f"<!DOCTYPE html><html><body>{html}</body></html>", encoding="utf-8")
        errors, pixels, live = rendered(browser, page, tmp_path / f"map_{index}.png")
        assert errors == [] and live, (path.stem, index, errors)
        assert coloured_share(pixels) > 0.02, (path.stem, index)
