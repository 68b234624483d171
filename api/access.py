"""Who may see what: roles, API keys and each layer's visibility by role."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from api.settings import ApiKey, Role
from gis_planner.apikeys import verify_key
from gis_planner.catalogue import CATALOGUE
from gis_planner.operators import MOBILE_OPERATORS


@dataclass(frozen=True)
class Principal:
    """The caller: anonymous viewers, an operator (with its operator key) or an admin."""

    role: Role
    operator: str | None = None
    name: str = "anonymous"


VIEWER = Principal("viewer")

#: What a viewer sees of a site: where it is and whose it is, none of its configuration.
SITE_POSITION_FIELDS = ("site_id", "operator", "tower_type", "height_m", "commune_code", "status")


@dataclass(frozen=True)
class LayerPolicy:
    """Visibility of one layer.

    ``public_fields`` None hides the layer from viewers. Layers ``by_operator`` have an
    ``operator`` field: an operator sees its own rows in full and, if ``others_public``, the
    public fields of the other operators' rows (otherwise none of them). ``public_rows`` names
    the ``operator`` value of rows aggregated over operators ("any"): only those are public,
    and an operator sees them beside its own.
    """

    public_fields: tuple[str, ...] | None
    by_operator: bool
    others_public: bool = False
    public_rows: str | None = None


#: Layers anonymous viewers see whole: boundaries, villages, priority areas, positions and
#: aggregated products. Any other layer is hidden from them until it is listed here.
PUBLIC_LAYERS = frozenset(
    {
        "admin_units", "admin_crosswalk", "villages", "priority_areas",
        "positions", "sharing_ratios", "ftth_villages", "ftth_shares", "fibre_redundancy",
    }
)  # fmt: skip

#: ``operator`` value of coverage rows aggregated over operators (the best of any).
AGGREGATED = "any"

#: Layers whose visibility is not the default one (see ``policy``).
POLICIES: dict[str, LayerPolicy] = {
    "sites": LayerPolicy(SITE_POSITION_FIELDS, by_operator=True, others_public=True),
    # Coverage aggregated over operators is public; each operator's rows are its own.
    "coverage_villages": LayerPolicy(
        CATALOGUE["coverage_villages"].field_names, by_operator=True, public_rows=AGGREGATED
    ),
    # Gap villages are aggregated over operators; which operator is best there is not public.
    "coverage_gaps": LayerPolicy(
        tuple(f for f in CATALOGUE["coverage_gaps"].field_names if f != "best_operator"),
        by_operator=False,
    ),
}


def policy(layer: str) -> LayerPolicy:
    """A layer's policy. By default a layer is for admins only; a layer with an ``operator``
    field (cells, fibre, backhaul) is also each operator's for its own rows; the layers of
    ``PUBLIC_LAYERS`` are everyone's."""
    if layer in POLICIES:
        return POLICIES[layer]
    spec = CATALOGUE.get(layer)
    if spec is None:
        return LayerPolicy(None, by_operator=False)
    if layer in PUBLIC_LAYERS:
        return LayerPolicy(spec.field_names, by_operator=False)
    return LayerPolicy(None, by_operator="operator" in spec.field_names)


@dataclass(frozen=True)
class LayerView:
    """What one principal gets of one layer.

    Rows are limited to ``only_operator`` (and ``also_operator``, aggregated rows) when set;
    ``masked`` fields are emptied on rows of operators other than ``mask_except``. ``scope``
    names the view (for caches and ETags).
    """

    fields: tuple[str, ...]
    only_operator: str | None = None
    masked: tuple[str, ...] = ()
    mask_except: str | None = None
    also_operator: str | None = None

    @property
    def scope(self) -> str:
        fields, masked = ",".join(self.fields), ",".join(self.masked)
        rows = f"{self.only_operator}+{self.also_operator}"
        return f"{fields}|{rows}|{masked}|{self.mask_except}"

    @property
    def filterable(self) -> tuple[str, ...]:
        """Fields a principal may filter on: those it sees on every row it gets."""
        return tuple(f for f in self.fields if f not in self.masked)


def layer_view(layer: str, fields: tuple[str, ...], who: Principal) -> LayerView | None:
    """The view of ``layer`` (whose fields are ``fields``) for ``who``; None if hidden."""
    if who.role == "admin":
        return LayerView(fields)
    rule = policy(layer)
    public = tuple(f for f in fields if rule.public_fields is not None and f in rule.public_fields)
    if who.role == "operator" and rule.by_operator:
        if rule.others_public:
            hidden = tuple(f for f in fields if f not in public)
            return LayerView(fields, masked=hidden, mask_except=who.operator)
        return LayerView(fields, only_operator=who.operator, also_operator=rule.public_rows)
    if rule.public_fields is None:
        return None
    return LayerView(public, only_operator=rule.public_rows)


def raster_operator(raster_id: str) -> str | None:
    """The operator a raster belongs to, from its name ("coverage.viettel.rsrp"); None if it
    is aggregated over operators."""
    tokens = set(raster_id.lower().replace("-", "_").replace(".", "_").split("_"))
    owners = [op for op in MOBILE_OPERATORS if op in tokens]
    return owners[0] if len(owners) == 1 else None


def may_see_raster(raster_id: str, who: Principal) -> bool:
    """Viewers see aggregated rasters; an operator, its own too; admins everything."""
    owner = raster_operator(raster_id)
    return owner is None or who.role == "admin" or owner == who.operator


class KeyRing:
    """Checks presented API keys against the hashed ones; a verified key is remembered by its
    SHA-256 so that scrypt runs once per key and process, not per request."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self._keys = keys
        self._known: dict[bytes, Principal | None] = {}
        self._lock = threading.Lock()

    def principal(self, key: str | None) -> Principal | None:
        """The principal of ``key``; VIEWER for no key; None for a wrong key."""
        if not key:
            return VIEWER
        token = hashlib.sha256(key.encode()).digest()
        with self._lock:
            if token in self._known:
                return self._known[token]
        found = None
        for entry in self._keys:
            if verify_key(key, entry.hash):
                found = Principal(entry.role, entry.operator, entry.name)
                break
        with self._lock:
            if len(self._known) > 1024:
                self._known.clear()
            self._known[token] = found
        return found
