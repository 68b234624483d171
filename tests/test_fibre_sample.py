"""The fibre analysis on the bundled Hà Nam sample, and the ``fibre`` command."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from typer.testing import CliRunner

from gis_planner.catalogue import CATALOGUE, validate
from gis_planner.cli import app
from gis_planner.crs import metric_crs_of
from gis_planner.fibre.graph import build_graph, nearest_vertices
from gis_planner.fibre.products import FibreProducts, analyse_fibre
from gis_planner.fibre.report import SHEETS
from gis_planner.fibre.resilience import analyse
from gis_planner.store import GeoPackageStore

LAYERS = ("fibre_routes", "fibre_nodes", "villages", "sites", "admin_units")


@pytest.fixture(scope="module")
def sample(sample_store: GeoPackageStore) -> dict[str, pd.DataFrame]:
    return {name: sample_store.read(name) for name in LAYERS}


@pytest.fixture(scope="module")
def products(sample: dict[str, pd.DataFrame]) -> FibreProducts:
    return analyse_fibre(*(sample[name] for name in LAYERS))


def test_every_output_layer_is_valid_against_the_catalogue(products: FibreProducts) -> None:
    for name, frame in products.layers.items():
        result = validate(frame, CATALOGUE[name])
        assert result.problems.empty, (name, result.problems.head())
        assert len(frame) > 0, name


def test_topology_report_finds_the_sample_imperfections(products: FibreProducts) -> None:
    problems = products.layers["fibre_topology_problems"]
    counts = problems["problem_type"].value_counts().to_dict()
    # The sample stops 20 route ends 2–4 m short of their node (snapped), 3 ends 10–20 m short
    # (near-misses) and lays 2 routes twice; one extra VNPT link repeats a tree link too.
    snapped = problems[problems["problem_type"] == "snapped_end"]
    assert len(snapped) == 20 and snapped["dist_m"].between(2, 4).all()
    # Some OLTs stand under 5 m from their POP: merged with it, and reported.
    merged = problems[problems["problem_type"] == "merged_node"]
    assert merged["dist_m"].le(5).all()
    assert (
        merged.loc[merged["feature_id"].str.contains("-OLT-"), "other_id"]
        .str.contains("-POP-")
        .all()
    )
    assert counts["near_miss"] == 3
    assert problems.loc[problems["problem_type"] == "near_miss", "dist_m"].le(20).all()
    assert counts["duplicate_route"] == 3
    assert "dangling_end" not in counts


def test_ftth_shares_by_district_and_the_gap_list(
    products: FibreProducts, sample: dict[str, pd.DataFrame]
) -> None:
    villages = products.layers["ftth_villages"]
    shares = products.layers["ftth_shares"]
    districts = shares[shares["level"] == "district"]
    assert sorted(districts["code"]) == ["347", "349", "350", "351", "352", "353"]
    assert districts["villages"].sum() == len(villages) == 1091
    province = shares[shares["level"] == "province"].iloc[0]
    assert province["covered_villages"] == villages["covered"].sum()
    assert province["village_share_pct"] == pytest.approx(100 * villages["covered"].mean(), 0.01)
    assert (districts["target_pct"] == 100).all()

    # The gap list checked independently: distance from each village to the nearest
    # splitter, ODF or route, by geopandas.
    nodes = sample["fibre_nodes"]
    crs = metric_crs_of(sample["admin_units"])
    fibre = pd.concat(
        [sample["fibre_routes"][["geometry"]],
         nodes.loc[nodes["node_type"].isin(["splitter", "odf"]), ["geometry"]]],
        ignore_index=True,
    ).to_crs(crs)  # fmt: skip
    nearest = (
        sample["villages"][["code", "geometry"]]
        .to_crs(crs)
        .sjoin_nearest(fibre, distance_col="d")
        .groupby("code")["d"]
        .min()
    )
    expected_gaps = set(nearest[nearest > 300].index)
    gaps = set(villages.loc[~villages["covered"], "code"])
    assert gaps == expected_gaps and 5 <= len(gaps) <= 20
    gap_rows = villages[~villages["covered"]]
    assert (gap_rows["fibre_dist_m"] > 300).all() and (gap_rows["operators"] == "").all()


@pytest.mark.parametrize("operator", [None, "viettel", "vnpt"])
def test_top_single_point_of_failure_cuts_exactly_its_listed_villages(
    products: FibreProducts, sample: dict[str, pd.DataFrame], operator: str | None
) -> None:
    """The department's (``operator`` None: every operator's fibre) and each operator's own."""
    routes, nodes = sample["fibre_routes"], sample["fibre_nodes"]
    if operator is None:
        links = products.layers["fibre_spof_links_shared"]
    else:
        links = products.layers["fibre_spof_links"]
        links = links[links["operator"] == operator]
        assert links["spof_id"].str.startswith(f"SPOF-L-{operator}-").all()
        routes, nodes = routes[routes["operator"] == operator], nodes[nodes["operator"] == operator]
    assert links["cut_population"].is_monotonic_decreasing
    top = links.iloc[0]
    # Remove every edge of that route and see which POP-less parts remain, with scipy alone.
    graph = build_graph(routes, nodes)
    res = analyse(graph)
    g = res.graph
    route = g.routes["route_id"].to_numpy()[g.edge_route]
    keep = route != top["route_id"]
    n = g.n_vertices
    _, labels = connected_components(
        coo_array((np.ones(keep.sum()), (g.edge_u[keep], g.edge_v[keep])), shape=(n, n)),
        directed=False,
    )
    with_pop = np.isin(labels, labels[g.sources()])
    before = res.reaches_source()
    # A village is cut off when every operator network serving it loses its POP there.
    villages = products.layers["ftth_villages"]
    attachments = (
        villages[["code", "operators"]]
        .assign(operator=villages["operators"].str.split(","))
        .explode("operator")
    )
    served = attachments["operator"].fillna("") != ""
    if operator is not None:
        served &= attachments["operator"] == operator
    attachments = attachments[served].copy()
    attachments["vertex"] = -1
    for op, rows in attachments.groupby("operator").groups.items():
        geometry = villages.set_index("code").geometry.loc[attachments.loc[rows, "code"]]
        attachments.loc[rows, "vertex"] = nearest_vertices(g.for_operator(str(op)), geometry)[0]
    attachments = attachments[before[attachments["vertex"].to_numpy()]]
    lost = ~with_pop[attachments["vertex"].to_numpy()]
    cut = set(attachments.assign(lost=lost).groupby("code")["lost"].all().loc[lambda x: x].index)
    listed = set(str(top["village_codes"]).split(","))
    assert listed == cut and top["cut_villages"] == len(cut) > 0
    people = villages.set_index("code").loc[sorted(cut), "population"].sum()
    assert people == top["cut_population"]


def test_backhaul_for_every_site(products: FibreProducts, sample: dict[str, pd.DataFrame]) -> None:
    shared = products.layers["backhaul_shared"]
    sites = sample["sites"]
    assert len(shared) == len(sites)
    kinds = shared.set_index("site_id")["kind"]
    planned = sites.set_index("site_id")["status"] == "planned"
    assert (kinds[planned.index[planned]] == "proposed").all()
    assert shared["path_m"].notna().all()
    assert (shared["total_m"] >= shared["path_m"]).all()
    # The operator's own fibre is never nearer than anyone's; MobiFone has none in the sample.
    own = products.layers["backhaul"]
    assert own[["site_id", "kind"]].equals(shared[["site_id", "kind"]])
    both = own["gap_m"].notna()
    assert (own.loc[both, "gap_m"] >= shared.loc[both, "gap_m"]).all()
    assert own.loc[own["operator"] == "mobifone", "path_m"].isna().all()
    assert own.loc[own["operator"] == "vnpt", "path_m"].notna().all()


def test_rings_and_redundancy(products: FibreProducts) -> None:
    rings = products.layers["fibre_rings"]
    # VNPT and Viettel close a trunk ring through the six district POPs; FPT's trunk is a line.
    assert set(rings["operator"]) == {"vnpt", "viettel"}
    assert sorted(rings["ring_id"]) == ["RING-viettel-001", "RING-vnpt-001"]
    assert (rings["pops"] >= 6).all()
    redundancy = products.layers["fibre_redundancy"]
    assert redundancy["redundancy_pct"].between(0, 100).all()
    assert (redundancy["redundant_villages"] <= redundancy["villages"]).all()


def test_fibre_command_writes_layers_and_report(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    path = tmp_path / "hanam.gpkg"
    shutil.copy(sample_store.path, path)
    report = tmp_path / "fibre.xlsx"
    # Two proposals of the siting analysis, one candidate shared by two operators.
    proposals = gpd.GeoDataFrame(
        {
            "operator": ["viettel", "vnpt"], "candidate_id": ["C1", "C1"],
            "kind": "new_build", "height_m": 30.0, "cost": 1.0, "host_operators": "",
            "environment": "rural", "range_m": 2000.0, "villages_covered": 3,
            "population_in_range": 1000,
        },
        geometry=[shapely.Point(105.95, 20.45)] * 2,
        crs="EPSG:4326",
    )  # fmt: skip
    GeoPackageStore(path).write("site_proposals", proposals)
    result = CliRunner().invoke(
        app,
        ["fibre", "--store", str(path), "--drop-m", "300", "--report", str(report)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "Thành phố Phủ Lý" in result.output
    assert "villages without FTTH: 12" in result.output
    assert "Villages without FTTH (the 10 most populous)" in result.output
    assert "single points of failure" in result.output
    assert "trunk rings: viettel 1, vnpt 1" in " ".join(result.output.split())
    store = GeoPackageStore(path)
    assert store.read("ftth_villages")["covered"].sum() > 1000
    assert store.metadata("fibre_extensions")["drop_m"] == 300
    proposed = store.read("backhaul_shared", filters={"kind": "proposed"}).set_index("site_id")
    assert {"viettel:C1", "vnpt:C1"} <= set(proposed.index)
    assert proposed.loc["vnpt:C1", "path_m"] == proposed.loc["viettel:C1", "path_m"] > 0
    book = openpyxl.load_workbook(report, read_only=True)
    assert book.sheetnames == [sheet for sheet, _ in SHEETS]
    book.close()
    wider = CliRunner().invoke(app, ["fibre", "--store", str(path), "--drop-m", "1000"])
    assert wider.exit_code == 0, wider.output
    # A 1 km drop reaches every sample village: no gaps, no extension, still a full report.
    assert store.read("ftth_villages")["covered"].all()
    assert store.read("fibre_extensions").empty
