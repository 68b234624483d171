"""KML/KMZ export (``io.kml``): read back by the project's reader and by GDAL, styled, escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from gis_planner.io.kml import kml_colour, kml_document, write_kml
from gis_planner.io.vector import read_vector
from gis_planner.operators import operator
from gis_planner.store import GeoPackageStore

NS = {"k": "http://www.opengis.net/kml/2.2"}


@pytest.mark.parametrize("suffix", [".kml", ".kmz"])
@pytest.mark.parametrize("layer", ["sites", "admin_units", "fibre_routes"])
def test_round_trip_through_the_reader_and_gdal(
    sample_store: GeoPackageStore, tmp_path: Path, layer: str, suffix: str
) -> None:
    frame = sample_store.read(layer).head(40)
    path = write_kml(frame, layer, tmp_path / f"{layer}{suffix}")

    (table,) = read_vector(path)
    back = table.frame
    assert len(back) == len(frame)
    for column in frame.columns.drop(["geometry", "name"], errors="ignore"):
        expected = frame[column].astype(object).where(frame[column].notna(), None).tolist()
        got = back[column].astype(object).where(back[column].notna(), None).tolist()
        assert got == expected, column
    if "name" in frame:  # the placemark's name (the key where it has none)
        named = frame["name"].notna().to_numpy()
        assert back["Name"][named].tolist() == frame["name"][named].tolist()
        assert back["Name"].notna().all()
    moved = shapely.hausdorff_distance(back.geometry.to_numpy(), frame.geometry.to_numpy())
    assert moved.max() < 1e-6

    source = f"/vsizip/{path}/doc.kml" if suffix == ".kmz" else str(path)
    info = pyogrio.read_info(source)
    assert info["driver"] in ("LIBKML", "KML")
    assert info["features"] == len(frame)
    assert {"operator", "site_id"} <= set(info["fields"]) or layer != "sites"


def test_sites_are_coloured_by_operator_and_labelled_in_vietnamese(
    sample_store: GeoPackageStore,
) -> None:
    sites = sample_store.read("sites").head(30)
    root = ET.fromstring(kml_document("sites", sites.geometry, _records(sites)))
    assert root.findtext("k:Document/k:Folder/k:name", namespaces=NS) == "Trạm BTS (nhà trạm)"
    styles = {s.get("id"): s for s in root.iterfind("k:Document/k:Style", NS)}
    for placemark, op in zip(root.iterfind(".//k:Placemark", NS), sites["operator"], strict=True):
        assert placemark.findtext("k:styleUrl", namespaces=NS) == f"#op-{op}"
        colour = styles[f"op-{op}"].findtext("k:IconStyle/k:color", namespaces=NS)
        assert colour == kml_colour(operator(op).colour)
    labels = {
        f.get("name"): f.findtext("k:displayName", namespaces=NS)
        for f in root.iterfind(".//k:SimpleField", NS)
    }
    assert labels["operator"] == "Nhà mạng"
    assert labels["height_m"] == "Độ cao cột (m)"


def test_kml_colour() -> None:
    assert kml_colour("#e4002b") == "ff2b00e4"
    assert kml_colour("208,209,230,60") == "3ce6d1d0"


HOSTILE = "</name><script>alert(1)</script>]]>&amp;\x00\x0b\"' Nhà mạng \ud800"


def test_hostile_values_are_text(tmp_path: Path) -> None:
    records: list[dict[str, object]] = [
        {"site_id": HOSTILE, "operator": "viettel\"><Style id='x'>", HOSTILE: "<b>bold</b>"},
        {"site_id": "b", "operator": "vnpt", HOSTILE: None},
    ]
    kml = kml_document("sites", [shapely.Point(105.9, 20.5), None], records)
    path = tmp_path / "hostile.kml"
    path.write_bytes(kml)
    root = ET.parse(path).getroot()  # well-formed
    assert root.find(".//k:script", NS) is None and root.find(".//k:b", NS) is None
    placemarks = root.findall(".//k:Placemark", NS)
    # An unknown operator is not put into a style reference.
    assert placemarks[0].findtext("k:styleUrl", namespaces=NS) == "#layer"
    assert placemarks[1].findtext("k:styleUrl", namespaces=NS) == "#op-vnpt"
    (table,) = read_vector(path)
    back = table.frame
    assert (
        back.loc[0, "site_id"] == "</name><script>alert(1)</script>]]>&amp;\"' Nhà mạng"
    )  # GDAL trims
    assert back.loc[0, "operator"] == "viettel\"><Style id='x'>"
    assert back.loc[1, "site_id"] == "b"
    assert back.geometry.isna().tolist() == [False, True] or back.geometry.is_empty[1]


def test_kmz_holds_doc_kml(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    path = write_kml(sample_store.read("villages").head(5), "villages", tmp_path / "v.kmz")
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["doc.kml"]
        ET.fromstring(archive.read("doc.kml"))


def _records(frame: gpd.GeoDataFrame) -> list[dict[str, object]]:
    values = frame.drop(columns="geometry")
    out: list[dict[str, object]] = (
        values.astype(object).where(values.notna(), None).to_dict("records")
    )
    return out


def test_cli_export_selection(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gis_planner.cli import app

    out = tmp_path / "viettel.kml"
    args = ["export", "sites", "--store", str(sample_store.path), "--format", "kml"]
    selection = ["--where", "operator=Viettel", "--bbox", "105.85,20.45,106.0,20.6"]
    result = CliRunner().invoke(app, [*args, *selection, "--out", str(out)])
    assert result.exit_code == 0, result.output
    (table,) = read_vector(out)
    assert len(table.frame) > 0 and table.frame["operator"].eq("viettel").all()
    assert table.frame.geometry.x.between(105.85, 106.0).all()
    assert table.frame.geometry.y.between(20.45, 20.6).all()

    wrong = CliRunner().invoke(app, [*args, "--where", "operator=viettell"])
    assert wrong.exit_code == 2 and "did you mean Viettel?" in wrong.output
