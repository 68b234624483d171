"""What the synthetic layers of one former province are calibrated on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class NrZone:
    """Where 5G NR starts: the wards of a district, or the sites of a district near its seat."""

    district: str
    #: Share of the zone's able sites (on air, of an operator with 5G) that carry 5G.
    share: float
    #: With a seat commune and a radius, the zone is the district's sites within the radius of
    #: the seat's centroid; without, the sites in the district's wards.
    seat: str | None = None
    radius_m: float = 0.0


@dataclass(frozen=True)
class PriorityArea:
    """An area the plan names: real name and host commune, approximate disc outline."""

    area_id: str
    name: str
    category: str
    #: Pre-2025 commune code of the host commune.
    commune: str
    radius_m: float
    target_5g_year: int


@dataclass(frozen=True)
class Part:
    """One former province: its population, network density and named places."""

    code: str
    name: str
    #: Short code in site and structure ids ("HNM" → "VTL-HNM-0001", "HNM-CT-0001").
    tag: str
    #: Synthetic population shared among its communes.
    population: int
    #: BTS positions drawn before the near-miss pairs are added.
    positions: int
    #: District code → the commune of its seat, where the fibre POPs stand.
    seats: Mapping[str, str]
    #: Districts where FPT has a POP (it serves their wards only).
    fpt_districts: tuple[str, ...]
    nr_zones: tuple[NrZone, ...]
    priority_areas: tuple[PriorityArea, ...]
