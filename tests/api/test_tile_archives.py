"""Tile archives: ``tiles export`` writes PMTiles and MBTiles whose tiles, read back with the
``pmtiles`` reader and SQLite, hold the same features as the server's tiles."""

from __future__ import annotations

import gzip
import sqlite3
from contextlib import closing
from pathlib import Path

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from pmtiles.reader import MmapSource, Reader
from typer.testing import CliRunner

from gis_planner.cli import app as cli
from gis_planner.store import GeoPackageStore
from tests.api.conftest import key, tile_of

PHU_LY = (105.913, 20.541)
LAYERS = ("sites", "admin_units")
ZOOMS = (8, 10, 12, 14)


def _export(store: GeoPackageStore, out: Path, fmt: str) -> None:
    args = ["tiles", "export", *LAYERS, "--store", str(store.path), "--format", fmt,
            "--minzoom", "6", "--maxzoom", "14", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output


def _features(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    """Per layer, its features as comparable tuples (properties and geometry)."""
    decoded = mapbox_vector_tile.decode(data) if data else {}
    return {
        name: sorted(
            (repr(sorted(f["properties"].items())), repr(f["geometry"])) for f in layer["features"]
        )
        for name, layer in decoded.items()
    }


def _live(client: TestClient, z: int, x: int, y: int) -> dict[str, list[tuple[object, ...]]]:
    live = {}
    for layer in LAYERS:
        response = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt", headers=key("admin"))
        assert response.status_code == 200
        live.update(_features(response.content))
    return live


@pytest.fixture(scope="module")
def archives(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("archives")
    paths = {"pmtiles": folder / "hanam.pmtiles", "mbtiles": folder / "hanam.mbtiles"}
    for fmt, path in paths.items():
        _export(sample_store, path, fmt)
    return paths


def test_pmtiles_hold_the_servers_features(archives: dict[str, Path], client: TestClient) -> None:
    with archives["pmtiles"].open("rb") as file:
        reader = Reader(MmapSource(file))
        header = reader.header()
        assert (header["min_zoom"], header["max_zoom"]) == (6, 14)
        assert {layer["id"] for layer in reader.metadata()["vector_layers"]} == set(LAYERS)
        for z in ZOOMS:
            x, y = tile_of(*PHU_LY, z)
            stored = reader.get(z, x, y)
            assert stored, (z, x, y)
            assert _features(gzip.decompress(stored)) == _live(client, z, x, y)


def test_mbtiles_hold_the_servers_features(archives: dict[str, Path], client: TestClient) -> None:
    with closing(sqlite3.connect(archives["mbtiles"])) as con:
        metadata = dict(con.execute("SELECT name, value FROM metadata").fetchall())
        assert metadata["format"] == "pbf" and metadata["minzoom"] == "6"
        for z in ZOOMS:
            x, y = tile_of(*PHU_LY, z)
            (data,) = con.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                "AND tile_row = ?",
                (z, x, (1 << z) - 1 - y),  # rows count from the south
            ).fetchone()
            assert _features(gzip.decompress(data)) == _live(client, z, x, y)


def test_a_table_or_a_bad_zoom_is_refused(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    for args in (["admin_crosswalk"], ["sites", "--minzoom", "9", "--maxzoom", "3"]):
        full = ["tiles", "export", *args, "--store", str(sample_store.path),
                "--out", str(tmp_path / "x.pmtiles")]  # fmt: skip
        result = CliRunner().invoke(cli, full, env={"COLUMNS": "200"})
        assert result.exit_code != 0
    assert not (tmp_path / "x.pmtiles").exists()
