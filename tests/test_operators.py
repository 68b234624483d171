"""Operator names in their many spellings, and accent-insensitive text."""

from __future__ import annotations

import pandas as pd
import pytest

from gis_planner.i18n import fold, fold_key, value_label
from gis_planner.operators import normalise_operator_name, normalise_operators, operator_from_mnc


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("VIETTEL", "viettel"),
        ("Viettel Hà Nam", "viettel"),
        ("Vina", "vnpt"),
        ("VNPT-VinaPhone", "vnpt"),
        ("vinaphone", "vnpt"),
        ("Mobi", "mobifone"),
        ("MobiFone ", "mobifone"),
        ("Vietnamobile", "vietnamobile"),
        ("FPT Telecom", "fpt"),
        ("Orange", None),
        ("", None),
    ],
)
def test_spellings(raw: str, key: str | None) -> None:
    assert normalise_operator_name(raw) == key


def test_vectorised_keeps_missing_and_unknown_as_na() -> None:
    out = normalise_operators(pd.Series(["Viettel", None, "xyz", "VINA"]))
    assert out.iloc[0] == "viettel" and out.iloc[3] == "vnpt"
    assert out.iloc[1:3].isna().all()


def test_mnc() -> None:
    assert operator_from_mnc(4) == "viettel"
    assert operator_from_mnc("01") == "mobifone"
    assert operator_from_mnc(99) is None


def test_fold_handles_vietnamese() -> None:
    assert fold("Đồng Văn") == "dong van"
    assert fold("  Phường   Lê Hồng Phong ") == "phuong le hong phong"
    assert fold_key("Độ cao cột (m)") == "docaocotm"
    assert value_label("rural_commune") == "Xã"
    assert value_label("rural_commune", "en") == "Commune"
    assert value_label("unlabelled") == "unlabelled"
