"""The coverage what-if of a planned site, on the bundled sample."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from gis_planner.cli import app
from gis_planner.jobs import whatif
from gis_planner.jobs.whatif import OutOfProvince, WhatIfSpec
from gis_planner.store import GeoPackageStore

#: Thôn 5 of Xã An Lão, more than 5 km from any on-air Vietnamobile 4G cell of the sample.
GAP_VILLAGE = "13561005"
GAP_POINT = (105.99530, 20.41303)
#: A Viettel 4G site of the sample (VTL-HNM-0220, 27.4 m) in a well-covered area.
VIETTEL_SITE = (105.9516529, 20.644534, 27.4)


def test_a_site_in_a_gap_village_gains_it(sample_store: GeoPackageStore) -> None:
    result = whatif.run(WhatIfSpec(*GAP_POINT, "vietnamobile", "4G"), sample_store)
    gained = result.villages.set_index("code")
    assert GAP_VILLAGE in gained.index
    row = gained.loc[GAP_VILLAGE]
    assert row["name"] == "Thôn 5" and row["commune_name"] == "Xã An Lão"
    assert row["share_before"] < 0.95 <= row["share_after"]
    assert result.people_gained == int(result.villages["population"].sum()) > 0
    assert result.area_gained_km2 > 1.0
    # the outline, in WGS84, holds the site and has the area the pixels say
    (outline,) = result.gained.geometry
    assert result.gained.crs.to_epsg() == 4326
    assert outline.contains(shapely.Point(*GAP_POINT))
    metric = gpd.GeoSeries([outline], crs=4326).to_crs(result.grid.crs).area.iloc[0] / 1e6
    assert metric == pytest.approx(result.area_gained_km2, rel=0.05)
    assert result.existing_cells > 0
    assert result.grid.width * result.grid.height <= whatif.MAX_GRID_PIXELS


def test_a_site_on_an_existing_one_gains_almost_nothing(sample_store: GeoPackageStore) -> None:
    lon, lat, height_m = VIETTEL_SITE
    result = whatif.run(WhatIfSpec(lon, lat, "viettel", "4G", height_m), sample_store)
    assert result.villages.empty
    assert result.people_gained == 0
    assert result.area_gained_km2 < 0.1


def test_outside_the_province_and_too_large_grids_are_refused(
    sample_store: GeoPackageStore,
) -> None:
    with pytest.raises(OutOfProvince, match="outside the province"):
        whatif.run(WhatIfSpec(106.6, 10.8, "viettel"), sample_store)
    with pytest.raises(whatif.GridTooLarge, match="coarser resolution"):
        whatif.run(WhatIfSpec(*GAP_POINT, "viettel", resolution_m=5.0), sample_store)


def test_cli_prints_the_villages_gained(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    out = tmp_path / "gained.geojson"
    args = ["what-if", "--store", str(sample_store.path), "--operator", "vietnamobile",
            "--lon", str(GAP_POINT[0]), "--lat", str(GAP_POINT[1]), "--tech", "4G",
            "--resolution-m", "100", "--geojson", str(out), "--lang", "en"]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Thôn 5 (13561005)" in result.output and "Xã An Lão" in result.output
    assert "people gained" in result.output
    assert len(gpd.read_file(out)) == 1
    swapped = ["what-if", "--store", str(sample_store.path), "--operator", "viettel",
               "--lon", str(GAP_POINT[1]), "--lat", str(GAP_POINT[0])]  # fmt: skip
    result = CliRunner().invoke(app, swapped, env={"COLUMNS": "200"})
    assert result.exit_code != 0
    assert "exchanged" in result.output
