"""The catalogue's rules: each one can fail, and valid rows come out conformed."""

from __future__ import annotations

import unicodedata

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gis_planner.catalogue import CATALOGUE, REASONS, get_spec, validate, validate_row
from gis_planner.catalogue.spec import FieldSpec, LayerSpec
from gis_planner.errors import GisPlannerError, LayerValidationError, UnknownLayer
from gis_planner.store import GeoPackageStore
from gis_planner.store.base import as_record, record_of, row_frame

HANAM = (105.92, 20.55)


def sites(**overrides: list[object]) -> gpd.GeoDataFrame:
    columns: dict[str, list[object]] = {
        "site_id": ["A", "B"],
        "operator": ["viettel", "vnpt"],
        "tower_type": ["lattice", "monopole"],
        "height_m": [36.0, 24.0],
    }
    geometry = overrides.pop("geometry", [shapely.Point(*HANAM), shapely.Point(105.93, 20.56)])
    columns.update(overrides)
    return gpd.GeoDataFrame(columns, geometry=geometry, crs="EPSG:4326")


def reasons(frame: gpd.GeoDataFrame, layer: str = "sites") -> set[tuple[object, str, str]]:
    result = validate(frame, get_spec(layer))
    return {(r.row, r.field, r.reason) for r in result.problems.itertuples()}


def test_valid_rows_are_conformed_and_defaults_filled() -> None:
    result = validate(sites(), get_spec("sites"))
    assert result.ok
    assert list(result.valid.columns) == [*get_spec("sites").field_names, "geometry"]
    assert result.valid["status"].tolist() == ["on-air", "on-air"]
    assert str(result.valid["max_tenants"].dtype) == "Int64"
    assert result.valid.crs.to_epsg() == 4326


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"site_id": ["A", None]}, (1, "site_id", "required")),
        ({"site_id": ["A", "   "]}, (1, "site_id", "required")),
        ({"height_m": [36.0, "tall"]}, (1, "height_m", "type")),
        ({"max_tenants": [2, 2.5]}, (1, "max_tenants", "type")),
        ({"operator": ["viettel", "orange"]}, (1, "operator", "not_allowed")),
        ({"height_m": [36.0, 1.0]}, (1, "height_m", "below_min")),
        ({"height_m": [36.0, 999.0]}, (1, "height_m", "above_max")),
        # Ids are per operator: one operator's id twice is a duplicate.
        (
            {"site_id": ["A", "A"], "operator": ["vnpt", "vnpt"]},
            (1, "site_id+operator", "duplicate_key"),
        ),
        ({"geometry": [shapely.Point(*HANAM), None]}, (1, "geometry", "geometry_missing")),
        (
            {"geometry": [shapely.Point(*HANAM), shapely.Point()]},
            (1, "geometry", "geometry_missing"),
        ),
        (
            {"geometry": [shapely.Point(*HANAM), shapely.LineString([(0, 0), (1, 1)])]},
            (1, "geometry", "geometry_type"),
        ),
        (
            {"geometry": [shapely.Point(*HANAM), shapely.Point(185, 20)]},
            (1, "geometry", "out_of_bounds"),
        ),
        ({"status": ["on-air", "retired"]}, (1, "status", "not_allowed")),
    ],
)
def test_each_rule_rejects_its_row(override: dict[str, list[object]], expected: tuple) -> None:
    found = reasons(sites(**override))
    assert expected in found
    assert all(row == 1 for row, _, _ in found), "the valid row must not be rejected"


def test_invalid_polygon_is_rejected_with_the_reason() -> None:
    bowtie = shapely.Polygon([(105.9, 20.5), (106.0, 20.6), (106.0, 20.5), (105.9, 20.6)])
    square = shapely.box(105.9, 20.5, 106.0, 20.6)
    frame = gpd.GeoDataFrame(
        {
            "area_id": ["P1", "P2"],
            "name": ["Khu công nghiệp Đồng Văn I", "Chùa Tam Chúc"],
            "category": ["industrial_zone", "tourism_heritage"],
            "geometry_quality": ["approximate", "approximate"],
        },
        geometry=[square, bowtie],
        crs="EPSG:4326",
    )
    result = validate(frame, get_spec("priority_areas"))
    assert result.problems["reason"].tolist() == ["geometry_invalid"]
    assert "Self-intersection" in result.problems["message"].iloc[0]
    # Polygons are promoted to the layer's MultiPolygon type.
    assert result.valid.geometry.iloc[0].geom_type == "MultiPolygon"


def test_row_rule_parent_code_required_below_province() -> None:
    frame = gpd.GeoDataFrame(
        {
            "code": ["35", "347"],
            "name": ["Tỉnh Hà Nam", "Thành phố Phủ Lý"],
            "level": ["province", "district"],
            "unit_type": ["province", "city"],
            "parent_code": [None, None],
            "admin_version": ["pre2025", "pre2025"],
            "geometry_quality": ["real", "real"],
        },
        geometry=[shapely.box(105.8, 20.4, 106.2, 20.7), shapely.box(105.9, 20.5, 106.0, 20.6)],
        crs="EPSG:4326",
    )
    assert reasons(frame, "admin_units") == {(1, "parent_code", "required")}


def test_rows_read_equal_valid_plus_rejected() -> None:
    frame = sites(
        site_id=["A", "B", "A", None],
        operator=["viettel", "x", "vnpt", "vnpt"],
        tower_type=["lattice"] * 4,
        height_m=[30, 30, 30, 30],
        geometry=[shapely.Point(*HANAM)] * 4,
    )
    result = validate(frame, get_spec("sites"))
    assert len(result.valid) + len(result.rejected_rows) == result.n_rows == 4


def test_spreadsheet_float_codes_keep_their_integer_text() -> None:
    frame = sites(structure_id=[13285.0, 13291.0])
    assert validate(frame, get_spec("sites")).valid["structure_id"].tolist() == ["13285", "13291"]


def test_other_crs_is_reprojected_and_missing_crs_refused() -> None:
    metric = sites().to_crs("EPSG:32648")
    result = validate(metric, get_spec("sites"))
    assert result.ok
    assert result.valid.geometry.iloc[0].x == pytest.approx(HANAM[0])
    with pytest.raises(GisPlannerError, match="no CRS"):
        validate(sites().set_crs(None, allow_override=True), get_spec("sites"))


def test_unknown_columns_are_reported_not_kept() -> None:
    result = validate(sites(comment=["x", "y"]), get_spec("sites"))
    assert result.ignored_columns == ("comment",)
    assert "comment" not in result.valid.columns


def test_error_names_row_field_and_value() -> None:
    result = validate(sites(height_m=[36.0, "45 metres"]), get_spec("sites"))
    with pytest.raises(LayerValidationError) as info:
        result.raise_if_problems(source="tram.csv")
    message = str(info.value)
    assert "tram.csv" in message and "row 1" in message and "height_m" in message
    assert "45 metres" in message


def test_every_reason_code_is_documented() -> None:
    frame = sites(site_id=["A", "A"], height_m=[1.0, "x"])
    assert set(validate(frame, get_spec("sites")).problems["reason"]) <= set(REASONS)


def test_catalogue_is_consistent() -> None:
    for spec in CATALOGUE.values():
        assert spec.label_vi and spec.label_en
        for field in spec.fields:
            assert field.label_vi and field.label_en, (spec.name, field.name)
            assert unicodedata.is_normalized("NFC", field.label_vi)
            if field.allowed:
                assert field.default is None or field.default in field.allowed


def test_unknown_layer() -> None:
    with pytest.raises(UnknownLayer, match="towers"):
        get_spec("towers")


def test_spec_refuses_undefined_key_and_duplicate_fields() -> None:
    field = FieldSpec("k", "str", "Khóa", "Key")
    with pytest.raises(ValueError, match="key fields"):
        LayerSpec("bad", "Thử", "Test", None, (field,), ("id",), "x")
    with pytest.raises(ValueError, match="duplicate"):
        LayerSpec("bad", "Thử", "Test", None, (field, field), ("k",), "x")


def test_problems_frame_is_empty_but_typed_when_ok() -> None:
    problems = validate(sites(), get_spec("sites")).problems
    assert list(problems.columns) == ["row", "field", "value", "reason", "message"]
    assert isinstance(problems, pd.DataFrame) and problems.empty


def test_a_store_takes_validated_rows_as_they_are_and_checks_any_other_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``checked``: the rows of a ``Validation`` of the layer, with the catalogue's columns and
    dtypes, are written without a second pass; a frame, or a validation's rows that are not
    conformed (a column added, a dtype changed) or of another layer, are validated."""
    from importlib import import_module

    from gis_planner.catalogue import checked, validated

    module = import_module("gis_planner.catalogue.validate")

    spec = get_spec("sites")
    frame = gpd.GeoDataFrame(
        {"site_id": ["A", "B"], "operator": ["viettel", "vnpt"], "tower_type": "lattice",
         "height_m": [30.0, 36.0], "status": "on-air"},
        geometry=[shapely.Point(105.9, 20.5), shapely.Point(105.95, 20.55)],
        crs="EPSG:4326",
    )  # fmt: skip
    valid = module.validate(frame, spec).valid
    calls: list[int] = []
    real = module.validate

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "validate", counting)
    assert checked(validated(valid, spec), spec) is valid and not calls
    assert checked(valid, spec).equals(valid) and len(calls) == 1
    extra = valid.assign(note="x")
    assert list(checked(validated(extra, spec), spec).columns) == list(valid.columns)
    assert checked(validated(valid, get_spec("cells")), spec) is not valid
    assert len(calls) == 3
    broken = valid.assign(height_m=[500.0, 36.0])
    with pytest.raises(LayerValidationError):
        checked(validated(broken.astype({"height_m": "object"}), spec), spec)


def test_keys_as_texts_tell_apart_every_two_keys() -> None:
    """Keys hashed in Arrow as one text each: two rows have the same text only when they have
    the same key, whatever their fields hold (the separator, digits, nothing)."""
    from gis_planner.catalogue.validate import key_texts

    frame = pd.DataFrame(
        {"a": ["x|1:y", "x", "x", None, "", "1", "1"],
         "b": pd.array([1, None, None, 1, 1, 11, 11], dtype="Int64")}
    )  # fmt: skip
    texts = key_texts(frame, ["a", "b"]).to_pylist()
    assert texts[1] == texts[2] and texts[5] == texts[6]
    assert len(set(texts)) == 5
    assert key_texts(frame, ["a"]).to_pylist()[:4] == ["5:x|1:y", "1:x", "1:x", "-"]


# -- one row (an edit): the same rules without frames -------------------------------------
#: Values an editor may send for a field: blanks, texts of numbers and flags, numbers of each
#: kind, NFD text, out of range, an underscore (Python's float reads it, pandas does not),
#: numbers past 64 bits (which made the frame's checks raise, not refuse).
EDIT_VALUES: tuple[object, ...] = (
    None, " ", " 12 ", "abc", "1_000", "inf", 12, 12.5, 1e20, -1, True, "không",
    unicodedata.normalize("NFD", "Phủ Lý"),
)  # fmt: skip
#: Layers of each geometry kind, with and without row rules, an attribute table among them.
EDITED_LAYERS = ("cells", "sites", "fibre_routes", "admin_units", "admin_crosswalk")


def _sample_row(spec: LayerSpec, sample_store: GeoPackageStore) -> tuple[dict[str, object], object]:
    frame = sample_store.read(spec.name).head(1)
    record = record_of(spec, frame)
    geometry = frame.geometry.iloc[0] if spec.geometry_type else None
    return {k: v for k, v in record.items() if k != "geometry"}, geometry


def _by_frame(
    spec: LayerSpec, values: dict[str, object], geometry: object
) -> tuple[list[tuple[str, str, str]], dict[str, object] | None]:
    result = validate(row_frame(spec, values, geometry), spec)  # type: ignore[arg-type]
    problems = [(p.field, p.reason, p.message) for p in result.problems.itertuples()]
    return problems, record_of(spec, result.valid) if result.ok else None


def _by_row(
    spec: LayerSpec, values: dict[str, object], geometry: object
) -> tuple[list[tuple[str, str, str]], dict[str, object] | None]:
    row, shape, found = validate_row(values, spec, geometry)  # type: ignore[arg-type]
    problems = [(p.field, p.reason, p.message) for p in found]
    return problems, as_record(spec, row, shape) if not found else None


@pytest.mark.parametrize("layer", EDITED_LAYERS)
def test_one_row_is_validated_as_a_frame_of_it_is(
    layer: str, sample_store: GeoPackageStore
) -> None:
    """``validate_row`` (an edit's fast path) finds the problems ``validate`` finds, in the
    same order with the same messages, and conforms the values alike, field by field."""
    spec = CATALOGUE[layer]
    values, geometry = _sample_row(spec, sample_store)
    assert _by_row(spec, values, geometry) == _by_frame(spec, values, geometry)
    for field in spec.fields:
        for value in (*EDIT_VALUES, *(field.allowed or ())[:1]):
            changed = {**values, field.name: value}
            assert _by_row(spec, changed, geometry) == _by_frame(spec, changed, geometry), (
                field.name,
                value,
            )
        missing = {k: v for k, v in values.items() if k != field.name}
        assert _by_row(spec, missing, geometry) == _by_frame(spec, missing, geometry)
    if spec.geometry_type is not None:
        ring = [(105.9, 20.5), (106.0, 20.5), (105.9, 20.6), (106.0, 20.6), (105.9, 20.5)]
        for shape in (None, shapely.Point(), shapely.Point(105.9, 20.5),
                      shapely.Point(200.0, 20.5), shapely.LineString(ring[:2]),
                      shapely.Polygon(ring), shapely.Polygon(ring[::2] + ring[:1]),
                      shapely.MultiPolygon([shapely.Polygon(ring)])):  # fmt: skip
            assert _by_row(spec, values, shape) == _by_frame(spec, values, shape), shape


def test_numbers_past_64_bits_are_refused_not_raised() -> None:
    """An integer field given 1e20 or infinity is a type problem, and a code field given such
    a float keeps its text: both made the checks raise (a 500 answer to an edit)."""
    frame = sites(max_tenants=[1e20, float("inf")])
    found = validate(frame, get_spec("sites")).problems
    assert list(found.field) == ["max_tenants"] * 2 and set(found.reason) == {"type"}
    result = validate(sites(site_id=[1e20, float("inf")]), get_spec("sites"))
    assert result.ok and list(result.valid.site_id) == ["1e+20", "inf"]
