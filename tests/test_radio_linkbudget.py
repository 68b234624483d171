"""Link budget by hand: EIRP, power per resource element, noise."""

from __future__ import annotations

import numpy as np
import pytest

from gis_planner.radio.linkbudget import Carrier, LinkBudget, LinkBudgetError, thermal_noise_dbm


def test_thermal_noise() -> None:
    assert thermal_noise_dbm(20e6) == pytest.approx(-100.97, abs=0.01)
    assert thermal_noise_dbm(15e3, 7.0) == pytest.approx(
        -173.98 + 10 * np.log10(15e3) + 7, abs=0.01
    )
    with pytest.raises(LinkBudgetError):
        thermal_noise_dbm(0.0)


def test_lte_rsrp_per_resource_element() -> None:
    budget = LinkBudget(46.0, 17.5, 0.5, Carrier("4G", 20.0))
    assert budget.carrier.n_subcarriers == 1200
    assert budget.eirp_dbm == pytest.approx(63.0)
    assert budget.reference_eirp_dbm == pytest.approx(63.0 - 10 * np.log10(1200))
    assert budget.rsrp_dbm(130.0, 3.0) == pytest.approx(63.0 - 30.792 - 133.0, abs=1e-3)
    assert budget.noise_dbm == pytest.approx(-173.977 + 41.761 + 7.0, abs=0.005)


def test_nr_numerology() -> None:
    carrier = Carrier("5G", 100.0, 30)
    assert carrier.n_subcarriers == 273 * 12
    assert carrier.noise_bandwidth_hz == 30e3
    assert Carrier("5G", 20.0, 15).n_subcarriers == 106 * 12


def test_legacy_pilots() -> None:
    assert Carrier("3G", 5.0).reference_share_db == -10.0
    assert Carrier("2G", 0.2).reference_share_db == 0.0
    assert Carrier("2G", 0.2).noise_bandwidth_hz == 200e3


@pytest.mark.parametrize(
    ("carrier", "message"),
    [
        (Carrier("4G", 12.0), "LTE bandwidth 12.0 MHz"),
        (Carrier("5G", 100.0, 15), "NR bandwidth 100.0 MHz at 15 kHz"),
        (Carrier("5G", 100.0, 120), "subcarrier spacing 120 kHz"),
        (Carrier("6G", 100.0), "unknown technology"),
    ],
)
def test_bad_carriers(carrier: Carrier, message: str) -> None:
    with pytest.raises(LinkBudgetError, match=message):
        _ = carrier.n_subcarriers
