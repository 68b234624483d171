"""Propagation models against published values, and their validity ranges."""

from __future__ import annotations

import numpy as np
import pytest

from gis_planner.radio.propagation import (
    ModelRangeError,
    PropagationModel,
    breakpoint_distance_m,
    cost231_hata_db,
    environment_for_unit_type,
    free_space_db,
    hata_db,
    los_probability,
    model_for,
    tr38901_db,
)


def test_free_space_itu_p525() -> None:
    assert free_space_db(1000.0, 1000.0).loss_db == pytest.approx(92.4478, abs=0.02)
    # 20 dB per decade of distance and of frequency
    loss = free_space_db(np.array([100.0, 1000.0, 10_000.0]), 100.0).loss_db
    np.testing.assert_allclose(np.diff(loss), [20.0, 20.0])


def test_hata_large_city_published_value() -> None:
    result = hata_db(1000.0, 900.0, 30.0, 1.5, "urban_large")
    assert result.loss_db == pytest.approx(126.42, abs=0.02)
    assert bool(result.valid)


def test_hata_environments_are_ordered() -> None:
    losses = [
        float(hata_db(5000.0, 900.0, 30.0, 1.5, env).loss_db)
        for env in ("urban_large", "urban_medium", "suburban", "open")
    ]
    assert losses[2] < losses[1] and losses[3] < losses[2]
    # the two urban corrections agree to a few tenths of a dB at h_UT 1.5 m
    assert losses[0] == pytest.approx(losses[1], abs=0.5)


def test_cost231_metropolitan_adds_3_db() -> None:
    medium = cost231_hata_db(2000.0, 1800.0, 30.0, 1.5, "urban_medium").loss_db
    # Cm = 3 dB; large-city a(h_UT) differs from the medium-city one by −0.04 dB at 1.8 GHz, 1.5 m
    large = cost231_hata_db(2000.0, 1800.0, 30.0, 1.5, "urban_large").loss_db
    a_medium = (1.1 * np.log10(1800) - 0.7) * 1.5 - (1.56 * np.log10(1800) - 0.8)
    a_large = 3.2 * np.log10(11.75 * 1.5) ** 2 - 4.97
    assert large - medium == pytest.approx(3.0 + a_medium - a_large, abs=1e-9)


def test_cost231_by_hand() -> None:
    # 46.3 + 33.9 log f − 13.82 log hb − a(hm) + (44.9 − 6.55 log hb) log d, medium city
    f, hb, hm, d_km = 1800.0, 40.0, 1.5, 3.0
    a_hm = (1.1 * np.log10(f) - 0.7) * hm - (1.56 * np.log10(f) - 0.8)
    expected = (
        46.3 + 33.9 * np.log10(f) - 13.82 * np.log10(hb) - a_hm
        + (44.9 - 6.55 * np.log10(hb)) * np.log10(d_km)
    )  # fmt: skip
    assert cost231_hata_db(d_km * 1000, f, hb, hm).loss_db == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("scenario", "freq_mhz", "dist_m", "los_db", "nlos_db"),
    [
        ("RMa", 1000.0, 20.0, 64.3807, 65.1085),
        ("UMa", 1000.0, 1000.0, 108.2472, 130.7847),
        ("UMi", 5000.0, 1000.0, 119.3114, 143.1886),
    ],
)
def test_tr38901_published_values(
    scenario: str, freq_mhz: float, dist_m: float, los_db: float, nlos_db: float
) -> None:
    los = tr38901_db(dist_m, freq_mhz, scenario, "los")  # type: ignore[arg-type]
    nlos = tr38901_db(dist_m, freq_mhz, scenario, "nlos")  # type: ignore[arg-type]
    assert los.loss_db == pytest.approx(los_db, abs=0.02)
    assert nlos.loss_db == pytest.approx(nlos_db, abs=0.02)
    assert bool(los.valid) and bool(nlos.valid)


def test_tr38901_expected_lies_between_los_and_nlos() -> None:
    d = np.geomspace(20.0, 4000.0, 50)
    for scenario in ("RMa", "UMa", "UMi"):
        los = tr38901_db(d, 3500.0, scenario, "los").loss_db  # type: ignore[arg-type]
        nlos = tr38901_db(d, 3500.0, scenario, "nlos").loss_db  # type: ignore[arg-type]
        expected = tr38901_db(d, 3500.0, scenario, "expected").loss_db  # type: ignore[arg-type]
        assert np.all(expected >= los - 1e-9) and np.all(expected <= nlos + 1e-9)
        p = los_probability(d, scenario)  # type: ignore[arg-type]
        by_hand = -10 * np.log10(p * 10 ** (-los / 10) + (1 - p) * 10 ** (-nlos / 10))
        np.testing.assert_allclose(expected, by_hand)


def test_los_probability_values() -> None:
    assert los_probability(np.array([5.0, 18.0]), "UMa").tolist() == [1.0, 1.0]
    assert los_probability(1010.0, "RMa") == pytest.approx(np.exp(-1.0))
    d = 100.0
    assert los_probability(d, "UMi") == pytest.approx(0.18 + np.exp(-d / 36) * 0.82)


def test_breakpoint_distances() -> None:
    # RMa: 2π·35·1.5·1e9/3e8; UMa: 4·24·0.5·3.5e9/3e8
    assert breakpoint_distance_m(1000.0, 35.0, 1.5, "RMa") == pytest.approx(1099.56, abs=0.01)
    assert breakpoint_distance_m(3500.0, 25.0, 1.5, "UMa") == pytest.approx(560.0)


def test_distances_out_of_range_are_clipped_and_flagged() -> None:
    d = np.array([5.0, 500.0, 6000.0])
    result = tr38901_db(d, 3500.0, "UMa", "nlos")
    assert result.valid.tolist() == [False, True, False]
    assert result.loss_db[0] == pytest.approx(
        float(tr38901_db(10.0, 3500.0, "UMa", "nlos").loss_db)
    )
    assert result.loss_db[2] == pytest.approx(
        float(tr38901_db(5000.0, 3500.0, "UMa", "nlos").loss_db)
    )
    hata = hata_db(np.array([500.0, 5000.0, 25_000.0]), 900.0, 30.0)
    assert hata.valid.tolist() == [False, True, False]


def test_parameters_out_of_range_flag_everything() -> None:
    d = np.array([2000.0, 3000.0])
    assert not hata_db(d, 1800.0, 30.0).valid.any()  # Hata stops at 1500 MHz
    assert not hata_db(d, 900.0, 20.0).valid.any()  # h_BS below 30 m
    assert not cost231_hata_db(d, 2600.0, 30.0).valid.any()
    assert not tr38901_db(d, 3500.0, "RMa", h_ut_m=12.0).valid.any()
    assert cost231_hata_db(d, 1800.0, 30.0).valid.all()


def test_unknown_variants_raise() -> None:
    with pytest.raises(ModelRangeError, match="environment"):
        hata_db(1000.0, 900.0, environment="jungle")  # type: ignore[arg-type]
    with pytest.raises(ModelRangeError, match="scenario"):
        tr38901_db(1000.0, 3500.0, "InH")  # type: ignore[arg-type]
    with pytest.raises(ModelRangeError):
        free_space_db(1000.0, 0.0)


@pytest.mark.parametrize(
    ("band_mhz", "environment", "name", "variant"),
    [
        (900.0, "urban", "hata", "urban_medium"),
        (900.0, "rural", "hata", "open"),
        (1800.0, "suburban", "cost231", "suburban"),
        (2100.0, "urban", "tr38901", "UMa"),
        (2600.0, "rural", "tr38901", "RMa"),
        (3500.0, "urban", "tr38901", "UMa"),
    ],
)
def test_model_for(band_mhz: float, environment: str, name: str, variant: str) -> None:
    model = model_for(band_mhz, environment)  # type: ignore[arg-type]
    assert (model.name, model.variant) == (name, variant)
    loss = model.path_loss(np.array([1000.0, 2000.0]), band_mhz, 30.0)
    assert loss.valid.all() and np.all(np.diff(loss.loss_db) > 0)


def test_model_max_distance() -> None:
    assert PropagationModel("hata", "open").max_dist_m == 20_000.0
    assert PropagationModel("tr38901", "RMa", "los").max_dist_m == 10_000.0
    assert PropagationModel("tr38901", "RMa", "expected").max_dist_m == 5_000.0


def test_environment_from_unit_type() -> None:
    assert environment_for_unit_type("ward") == "urban"
    assert environment_for_unit_type("township") == "suburban"
    assert environment_for_unit_type("rural_commune") == "rural"
    with pytest.raises(ModelRangeError, match="unit type"):
        environment_for_unit_type("island")
