"""Who may see and change which rows of each layer: the one table both the API (in Python) and
the PostGIS store (as row-level security policies) apply.

Roles are those of the API: anonymous viewers, an operator (acting for its operator key), and
admins. A layer's ``LayerAccess`` says what viewers see of it, whether operators see (and, for
the source layers they keep, change) their own rows, and what of the other operators' rows
they see.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Protocol

from gis_planner.catalogue import CATALOGUE
from gis_planner.catalogue.layers import CORE_LAYERS

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")


class Caller(Protocol):
    """Whom a store acts for: ``role`` is one of ``ROLES``; ``operator`` an operator key for
    the operator role. The API's ``Principal`` is one."""

    @property
    def role(self) -> str: ...

    @property
    def operator(self) -> str | None: ...


@dataclass(frozen=True)
class LayerAccess:
    """Visibility of one layer.

    ``public_fields`` None hides the layer from viewers. Layers ``by_operator`` have an
    ``operator`` field: an operator sees its own rows in full and, if ``others_public``, the
    public fields of the other operators' rows (otherwise none of them). ``public_rows`` names
    the ``operator`` value of rows aggregated over operators ("any"): only those are public,
    and an operator sees them beside its own. Operators insert, change and delete their own
    rows of ``editable`` layers (the source layers they keep up to date); admins change any.
    """

    public_fields: tuple[str, ...] | None
    by_operator: bool
    others_public: bool = False
    public_rows: str | None = None
    editable: bool = False


#: What a viewer sees of a site: where it is and whose it is, none of its configuration.
SITE_POSITION_FIELDS = ("site_id", "operator", "tower_type", "height_m", "commune_code", "status")

#: Layers anonymous viewers see whole: boundaries, villages, priority areas, positions and
#: aggregated products. Any other layer is hidden from them until it is listed here.
PUBLIC_LAYERS = frozenset(
    {
        "admin_units", "admin_crosswalk", "villages", "priority_areas",
        "positions", "sharing_ratios", "ftth_villages", "ftth_shares", "fibre_redundancy",
        # where 5G would be added to the industrial zones stands on the (public) positions
        "industry_additions",
        "ftth_speeds",
        # the plan's zones and its civil exclusion areas are published planning documents;
        # military areas, the utilities' structures and ducts, and the checks are not
        "planning_zones", "exclusion_areas", "exclusion_points", "cable_shares",
    }
)  # fmt: skip

#: ``operator`` value of coverage rows aggregated over operators (the best of any).
AGGREGATED = "any"

#: Layers whose visibility is not the default one (see ``layer_access``).
ACCESS: dict[str, LayerAccess] = {
    "sites": LayerAccess(SITE_POSITION_FIELDS, by_operator=True, others_public=True),
    # Coverage aggregated over operators is public; each operator's rows are its own.
    "coverage_villages": LayerAccess(
        CATALOGUE["coverage_villages"].field_names, by_operator=True, public_rows=AGGREGATED
    ),
    # The zones' figures over operators are public, as the coverage's; each operator's are its own.
    "industry_zones": LayerAccess(
        CATALOGUE["industry_zones"].field_names, by_operator=True, public_rows=AGGREGATED
    ),
    # Speeds as coverage: the best operator at each pixel is public, each operator's its own.
    "speeds_villages": LayerAccess(
        CATALOGUE["speeds_villages"].field_names, by_operator=True, public_rows=AGGREGATED
    ),
    # A position's stored capacity comes from every operator's ``max_tenants``, which each
    # operator keeps to itself.
    "positions": LayerAccess(
        tuple(f for f in CATALOGUE["positions"].field_names if f != "capacity"),
        by_operator=False,
    ),
    # Gap villages are aggregated over operators; which operator is best there is not public.
    "coverage_gaps": LayerAccess(
        tuple(f for f in CATALOGUE["coverage_gaps"].field_names if f != "best_operator"),
        by_operator=False,
    ),
}

#: Source layers: what operators keep up to date (analyses' layers are written by jobs).
SOURCE_LAYERS = frozenset(spec.name for spec in CORE_LAYERS)


def layer_access(layer: str) -> LayerAccess:
    """A layer's access. By default a layer is for admins only; a layer with an ``operator``
    field (cells, fibre, backhaul) is also each operator's for its own rows; the layers of
    ``PUBLIC_LAYERS`` are everyone's. A name outside the catalogue (a scoped product's layer)
    is for admins only."""
    spec = CATALOGUE.get(layer)
    if layer in ACCESS:
        access = ACCESS[layer]
    elif spec is None:
        return LayerAccess(None, by_operator=False)
    elif layer in PUBLIC_LAYERS:
        access = LayerAccess(spec.field_names, by_operator=False)
    else:
        access = LayerAccess(None, by_operator="operator" in spec.field_names)
    return replace(access, editable=access.by_operator and layer in SOURCE_LAYERS)
