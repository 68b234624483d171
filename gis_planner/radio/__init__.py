"""Radio: propagation models, base-station antennas and the link budget."""

from __future__ import annotations

from gis_planner.radio.antenna import (
    AntennaFileError,
    AntennaPattern,
    MsiFile,
    omni_pattern,
    read_msi,
    sector_attenuation_db,
    sector_pattern,
)
from gis_planner.radio.linkbudget import (
    UE_HEIGHT_M,
    Carrier,
    LinkBudget,
    LinkBudgetError,
    thermal_noise_dbm,
)
from gis_planner.radio.propagation import (
    ENVIRONMENT_BY_UNIT_TYPE,
    Environment,
    ModelRangeError,
    PathLoss,
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

__all__ = [
    "ENVIRONMENT_BY_UNIT_TYPE",
    "UE_HEIGHT_M",
    "AntennaFileError",
    "AntennaPattern",
    "Carrier",
    "Environment",
    "LinkBudget",
    "LinkBudgetError",
    "ModelRangeError",
    "MsiFile",
    "PathLoss",
    "PropagationModel",
    "breakpoint_distance_m",
    "cost231_hata_db",
    "environment_for_unit_type",
    "free_space_db",
    "hata_db",
    "los_probability",
    "model_for",
    "omni_pattern",
    "read_msi",
    "sector_attenuation_db",
    "sector_pattern",
    "thermal_noise_dbm",
    "tr38901_db",
]
