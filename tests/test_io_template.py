"""The Excel templates and the README's columns, both from the catalogue: a filled template
imports as it is, and the README says what the catalogue says."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from gis_planner.catalogue import get_spec
from gis_planner.cli import app
from gis_planner.io import check_file
from gis_planner.io.template import (
    README_END,
    README_START,
    TEMPLATE_LAYERS,
    columns_markdown,
    template_columns,
    write_template,
)
from gis_planner.settings import REPOSITORY

runner = CliRunner()


@pytest.mark.parametrize("layer", TEMPLATE_LAYERS)
def test_a_template_imports_back(tmp_path: Path, layer: str) -> None:
    path = tmp_path / f"mau_{layer}.xlsx"
    result = runner.invoke(app, ["template", layer, "--output", str(path)])
    assert result.exit_code == 0, result.output
    book = load_workbook(path)
    data, notes = book["Dữ liệu"], book["Giải thích"]
    assert book["Danh mục"].sheet_state == "hidden"
    columns = template_columns(get_spec(layer))
    vietnamese = [c.value for c in data[1]]
    english = [c.value for c in data[2]]
    assert vietnamese == [c.header("vi") for c in columns]
    assert english == [c.header("en") for c in columns]
    listed = {c.name for c in columns if c.choices}
    assert len(data.data_validations.dataValidation) == len(listed) > 0
    explained = {row[2]: row[3] or "" for row in notes.iter_rows(min_row=2, values_only=True)}
    assert explained == {c.name: c.unit or "" for c in columns}
    checked = check_file(path, layer)
    assert (checked.result.read, checked.result.accepted, checked.result.rejected) == (1, 1, 0)


def test_a_filled_in_template_imports_as_it_is(tmp_path: Path) -> None:
    path = write_template("sites", tmp_path / "mau.xlsx")
    book = load_workbook(path)
    data = book["Dữ liệu"]
    names = [c.name for c in template_columns(get_spec("sites"))]
    rows = [
        {"site_id": "HNM-0002", "operator": "MobiFone", "tower_type": "Cột trên nóc nhà",
         "lon": 105.9712, "lat": 20.6301},
        {"site_id": "HNM-0003", "operator": "Vietnamobile", "tower_type": "Cột dây co",
         "height_m": 45, "status": "Quy hoạch", "lon": 105.8521, "lat": 20.5702},
    ]  # fmt: skip
    for row in rows:
        data.append([row.get(name) for name in names])
    book.save(path)
    checked = check_file(path, "sites")
    assert (checked.result.accepted, checked.result.rejected) == (3, 0)
    sites = checked.to_write["sites"].set_index("site_id")
    assert sites.loc["HNM-0002", ["tower_type", "height_m", "height_assumed"]].tolist() == [
        "rooftop", 21.0, True,
    ]  # fmt: skip
    assert sites.loc["HNM-0003", ["operator", "status"]].tolist() == ["vietnamobile", "planned"]
    # Data rows start below the two header rows.
    assert checked.result.fixes.iloc[0]["row"] == 4


def test_no_template_for_other_layers(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", "villages", "--output", str(tmp_path / "x.xlsx")])
    assert result.exit_code != 0


def test_the_readme_lists_the_catalogues_columns() -> None:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    section = readme.split(README_START, 1)[1].split(README_END, 1)[0]
    assert section == "\n" + columns_markdown(), (
        "README.md is out of date: run `gis-planner columns --readme README.md`"
    )
    assert "Cột tự đứng" in section
    assert "| Độ cao cột | Structure height | `height_m` | m |" in section
