"""Command-line slips: each answered with a message, a hint and a non-zero exit, in Vietnamese
with ``--lang vi`` or ``LANG=vi_VN``; outputs beside the store, never in the package's tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from gis_planner import __version__
from gis_planner.cli import app
from gis_planner.i18n import cli_texts, env_lang
from gis_planner.settings import REPOSITORY
from gis_planner.store import GeoPackageStore
from tests.conftest import SiteFactory

runner = CliRunner()
ENGLISH: dict[str, str | None] = {
    "COLUMNS": "200",
    "LANG": "C.UTF-8",
    "LC_ALL": None,
    "LC_MESSAGES": None,
    "GIS_PLANNER_LANG": None,
    "GIS_PLANNER_OUTPUT_DIR": None,
}


def invoke(*args: str, **env: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={**ENGLISH, **env})
    return result.exit_code, result.output


def test_missing_store_is_an_error_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.gpkg"
    code, out = invoke("layers", "--store", str(missing))
    assert code == 2
    assert "no such store" in out and "gis-planner init --store" in out
    assert not missing.exists()


def test_empty_store_hints_at_init(tmp_path: Path, make_sites: SiteFactory) -> None:
    # What the issue met: coverage on a store that is not there said "unknown layer".
    code, out = invoke("coverage", "--store", str(tmp_path / "new.gpkg"))
    assert code == 2 and "no such store" in out and "gis-planner init --store" in out
    # A GeoPackage that holds no layer.
    path = tmp_path / "empty.gpkg"
    store = GeoPackageStore(path)
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    store.delete("sites")
    code, out = invoke("coverage", "--store", str(path))
    assert code == 2
    assert "is empty" in out and "gis-planner init --store" in out
    assert "Traceback" not in out


def test_unknown_layer_from_a_job_hints_too(tmp_path: Path, make_sites: SiteFactory) -> None:
    # The group turns any library error into one line, with a hint where it knows one.
    path = tmp_path / "sites_only.gpkg"
    GeoPackageStore(path).write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    code, out = invoke("fibre", "--store", str(path))
    assert code == 2 and "error:" in out and "Traceback" not in out
    assert "hint:" in out and "gis-planner import" in out


@pytest.mark.parametrize(
    ("lon", "lat", "expected", "hint"),
    [
        ("20.541", "105.913", "look exchanged", "try --lon 105.913 --lat 20.541"),
        ("107.5", "21.5", "outside the province", "the province spans longitude"),
    ],
)
def test_candidates_outside_the_province(
    sample_store: GeoPackageStore, tmp_path: Path, lon: str, lat: str, expected: str, hint: str
) -> None:
    code, out = invoke(
        "candidates", "--store", str(sample_store.path), "--operator", "vnpt",
        "--lon", lon, "--lat", lat, "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 2, out
    assert expected in out and hint in out
    assert not (tmp_path / "host_candidates.csv").exists()


def test_unknown_crs_is_a_message(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    code, out = invoke(
        "candidates", "--store", str(sample_store.path), "--operator", "vnpt",
        "--x", "2270000", "--y", "590000", "--crs", "EPSG:99999", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 2 and "unknown CRS" in out and "EPSG:5897" in out
    assert "Traceback" not in out and "CRSError" not in out
    code, out = invoke("coverage", "--store", str(sample_store.path), "--crs", "EPSG:99999")
    assert code == 2 and "unknown CRS" in out


def test_unknown_crs_through_the_entry_point(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from gis_planner.cli import main; main()", "import", "sites",
         str(tmp_path / "x.csv"), "--crs", "EPSG:99999", "--store", str(tmp_path / "s.gpkg")],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "unknown CRS" in proc.stderr and "Traceback" not in proc.stderr


def test_version_through_the_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from gis_planner.cli import main; main()", "--version"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.strip() == __version__


@pytest.mark.parametrize("command", ["candidates", "plan-sites"])
def test_misspelt_operator_is_refused_with_a_suggestion(
    sample_store: GeoPackageStore, tmp_path: Path, command: str
) -> None:
    code, out = invoke(
        command, "--store", str(sample_store.path), "--operator", "viettell",
        "--lon", "105.913", "--lat", "20.541", "--out", str(tmp_path),
    ) if command == "candidates" else invoke(
        command, "--store", str(sample_store.path), "--operator", "viettell", "--out",
        str(tmp_path),
    )  # fmt: skip
    assert code == 2
    assert "unknown operator" in out and "did you mean Viettel?" in out


def test_known_spellings_are_still_taken(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    store = tmp_path / "hanam.gpkg"  # candidates writes its layer: a copy, not the shared store
    shutil.copy(sample_store.path, store)
    code, out = invoke(
        "candidates", "--store", str(store), "--operator", "VinaPhone",
        "--lon", "105.913", "--lat", "20.541", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, out
    assert "vnpt@" in out


def test_vietnamese_help_and_messages(tmp_path: Path) -> None:
    code, out = invoke("--lang", "vi", "--help")
    assert code == 0 and "Hệ thống GIS quy hoạch hạ tầng viễn thông" in out
    code, out = invoke("layers", "--help", "--lang", "vi")
    assert code == 0 and "Liệt kê các lớp" in out
    code, out = invoke("coverage", "--help", LANG="vi_VN.UTF-8")
    assert code == 0 and "Tính raster vùng phủ" in out
    code, out = invoke("layers", "--store", str(tmp_path / "no.gpkg"), "--lang", "vi")
    assert code == 2 and "lỗi:" in out and "không có kho dữ liệu" in out and "gợi ý:" in out
    code, out = invoke("layers", "--store", str(tmp_path / "no.gpkg"), LANG="vi_VN.UTF-8")
    assert "không có kho dữ liệu" in out
    code, out = invoke("layers", "--store", str(tmp_path / "no.gpkg"))
    assert "no such store" in out


def test_vietnamese_tables(sample_store: GeoPackageStore) -> None:
    code, out = invoke("layers", "--store", str(sample_store.path), "--lang", "vi")
    assert code == 0
    assert "lớp" in out and "số lượng" in out and "hình học" in out
    code, out = invoke("layers", "--store", str(sample_store.path), "--lang", "en")
    assert "layer" in out and "count" in out and "số lượng" not in out


def test_every_command_has_its_vietnamese_help() -> None:
    texts = cli_texts()

    def walk(command: object) -> list[str]:
        found = [command.help] if getattr(command, "help", None) else []  # type: ignore[attr-defined]
        for sub in getattr(command, "commands", {}).values():
            found.extend(walk(sub))
        return found

    helps = walk(get_command(app))
    missing = [h for h in helps if h not in texts]
    assert not missing, missing


def test_lang_after_any_command(tmp_path: Path) -> None:
    """``--lang`` after a command without a language of its own (template, import) is taken
    for the whole line, not refused as an unknown option."""
    workbook = tmp_path / "mau.xlsx"
    code, out = invoke("template", "sites", "-o", str(workbook), "--lang", "en")
    assert code == 0, out
    assert workbook.exists()
    code, out = invoke("template", "--help", "--lang=vi")
    assert code == 0 and "Ghi mẫu Excel" in out, out


def test_env_lang() -> None:
    assert env_lang({"LANG": "vi_VN.UTF-8"}) == "vi"
    assert env_lang({"LANG": "en_US.UTF-8"}) is None
    assert env_lang({"GIS_PLANNER_LANG": "en", "LANG": "vi_VN"}) == "en"
    assert env_lang({"LC_ALL": "C", "LANG": "vi_VN"}) is None
    assert env_lang({}) is None


def test_outputs_go_beside_the_store(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    store = tmp_path / "elsewhere" / "province.gpkg"
    store.parent.mkdir()
    shutil.copy(sample_store.path, store)
    before = _tree(REPOSITORY / "output")
    code, out = invoke("report", "--store", str(store), "--lang", "en")
    assert code == 0, out
    assert list(store.parent.glob("*.html")) and list(store.parent.glob("*.xlsx"))
    assert _tree(REPOSITORY / "output") == before
    code, out = invoke("export", "sites", "--store", str(store), "--format", "kmz")
    assert code == 0, out
    assert (store.parent / "sites.kmz").exists()


def test_output_dir_setting_still_wins(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    out_dir = tmp_path / "chosen"
    code, out = invoke(
        "export", "villages", "--store", str(sample_store.path), "--format", "kml",
        GIS_PLANNER_OUTPUT_DIR=str(out_dir),
    )  # fmt: skip
    assert code == 0, out
    assert (out_dir / "villages.kml").exists()


def _tree(folder: Path) -> set[tuple[str, int]]:
    if not folder.exists():
        return set()
    return {(str(p), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}
