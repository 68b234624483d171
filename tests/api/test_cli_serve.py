"""``gis-planner serve`` and ``gis-planner hash-key``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.settings import ApiKey
from gis_planner.apikeys import verify_key
from gis_planner.cli import app

runner = CliRunner()


def test_serve_prints_the_viewer_url(served: tuple[str, Path]) -> None:
    url, log = served
    assert f"viewer {url}/" in log.read_text()


def test_serve_refuses_an_empty_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--store", str(tmp_path / "empty.gpkg")])
    assert result.exit_code == 2
    assert "gis-planner init" in result.output


def test_hash_key() -> None:
    given = runner.invoke(
        app, ["hash-key", "gp_vtl1_an-operator-key-of-some-length", "--role=admin"]
    )
    assert given.exit_code == 0
    hashed = given.output.split("hash: ")[1].split()[0]
    assert verify_key("gp_vtl1_an-operator-key-of-some-length", hashed)
    fresh = runner.invoke(app, ["hash-key", "--role=operator", "--operator=vnpt", "--name=VNPT"])
    key = fresh.output.split("key:")[1].split()[0]
    entry = json.loads(fresh.output.split("GIS_PLANNER_API_KEYS entry: ")[1])
    assert entry["key_id"] == key.split("_")[1] and entry["operator"] == "vnpt"
    assert ApiKey(**entry).name == "VNPT" and verify_key(key, entry["hash"])
    short = runner.invoke(app, ["hash-key", "short", "--role=admin"])
    assert short.exit_code != 0
    assert runner.invoke(app, ["hash-key", "--role=operator"]).exit_code != 0


def test_serve_reports_bad_key_settings() -> None:
    result = runner.invoke(app, ["serve"], env={"GIS_PLANNER_API_KEYS": '[{"role": "root"}]'})
    assert result.exit_code == 2
    assert "GIS_PLANNER_" in result.output and "role" in result.output
