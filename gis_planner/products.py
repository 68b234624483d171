"""Product records: what a job wrote (a raster or a layer), from what, over which area.

Consumers find products by record, never by file name: a record says which job made the
product, with which parameters, over which area, for which operators and technologies, from
which revisions of its input layers, and what each band of a raster holds.

A product's *scope* is the part of a run that makes it narrower than the province: its bbox,
its operators, its technologies. The province product has the empty scope and the canonical
layer names (``coverage_gaps``…); a scoped run writes its layers as ``{layer}__{scope}``
(``SCOPE_SEPARATOR``) and its rasters under a directory named by the scope, so it never
replaces a wider product.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gis_planner.errors import GisPlannerError

ProductKind = Literal["raster", "layer"]
#: Between a catalogue layer's name and a scope in the name of a scoped layer.
SCOPE_SEPARATOR = "__"
_SCOPE_PATTERN = re.compile(r"^[a-z0-9_]*$")


class UnknownProduct(GisPlannerError, KeyError):
    """A product id that has no record in the store."""

    def __init__(self, product_id: str, where: str) -> None:
        self.product_id = product_id
        super().__init__(f"không có sản phẩm / no product {product_id!r} in {where}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


@dataclass(frozen=True)
class Band:
    """One band of a raster product: ``index`` is 1-based, as GDAL counts."""

    index: int
    #: Short name used in requests: ``rsrp``, ``second_rsrp``, ``sinr``, ``best_server``…
    name: str
    #: What the values measure (``rsrp_dbm``, ``sinr_db``, ``server_index``…): picks the colours.
    quantity: str
    unit: str
    description: str


@dataclass(frozen=True)
class ProductArea:
    """Where a product is defined: admin unit codes, a lon/lat bbox, or both (their overlap)."""

    admin_codes: tuple[str, ...] = ()
    #: (west, south, east, north) in WGS84 degrees.
    bbox: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class ProductRecord:
    """A registered product. ``path`` (rasters) is relative to the store's assets directory;
    ``layer`` (layers) is the store layer holding it. ``inputs`` maps each input layer to the
    store revision that had last written it when the product was computed."""

    id: str
    kind: ProductKind
    job: str
    parameters: Mapping[str, Any]
    area: ProductArea
    operators: tuple[str, ...]
    technologies: tuple[str, ...]
    inputs: Mapping[str, int]
    scope: str = ""
    bands: tuple[Band, ...] = ()
    path: str | None = None
    layer: str | None = None
    created_at: str = ""

    def band(self, wanted: str | int) -> Band:
        """The band named ``wanted`` (``sinr``) or of that 1-based index (``3`` or ``"3"``)."""
        text = str(wanted).strip().lower()
        for band in self.bands:
            if text in (band.name, str(band.index)):
                return band
        names = ", ".join(f"{b.index}={b.name}" for b in self.bands) or "none"
        raise GisPlannerError(
            f"sản phẩm {self.id!r} không có băng {wanted!r} / product {self.id!r} has no band "
            f"{wanted!r}; its bands: {names}"
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "kind": self.kind,
                "job": self.job,
                "parameters": dict(self.parameters),
                "area": {"admin_codes": list(self.area.admin_codes), "bbox": self.area.bbox},
                "operators": list(self.operators),
                "technologies": list(self.technologies),
                "inputs": dict(self.inputs),
                "scope": self.scope,
                "bands": [vars(b) for b in self.bands],
                "path": self.path,
                "layer": self.layer,
                "created_at": self.created_at,
            },
            ensure_ascii=False,
            default=str,
        )

    @classmethod
    def from_json(cls, text: str) -> ProductRecord:
        data = json.loads(text)
        bbox = data["area"].get("bbox")
        return cls(
            id=data["id"],
            kind=data["kind"],
            job=data["job"],
            parameters=data["parameters"],
            area=ProductArea(
                tuple(data["area"].get("admin_codes", ())), tuple(bbox) if bbox else None
            ),
            operators=tuple(data["operators"]),
            technologies=tuple(data["technologies"]),
            inputs={k: int(v) for k, v in data["inputs"].items()},
            scope=data.get("scope", ""),
            bands=tuple(Band(**b) for b in data.get("bands", ())),
            path=data.get("path"),
            layer=data.get("layer"),
            created_at=data.get("created_at", ""),
        )


@dataclass(frozen=True)
class Scope:
    """What narrows a run below the province; all empty for a province run."""

    bbox: tuple[float, float, float, float] | None = None
    operators: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    #: Admin units the run is limited to (codes); empty for the store's whole area.
    area_codes: tuple[str, ...] = ()
    #: Set by an explicit ``--replace``: the run takes the province product's place.
    replace: bool = field(default=False, compare=False)

    @property
    def key(self) -> str:
        """A name part (letters, digits, ``_``) that differs between scopes; ``""`` for the
        province (or a replacing run). A bbox is named by a hash of its rounded corners."""
        if self.replace:
            return ""
        parts = []
        if self.area_codes:
            codes = ",".join(sorted(self.area_codes))
            parts.append("units" + hashlib.sha256(codes.encode()).hexdigest()[:8])
        if self.bbox is not None:
            corners = ",".join(f"{v:.5f}" for v in self.bbox)
            parts.append("bbox" + hashlib.sha256(corners.encode()).hexdigest()[:8])
        parts += sorted(op.lower() for op in self.operators)
        parts += sorted(t.lower() for t in self.technologies)
        return "_".join(parts)


def scoped_layer(layer: str, scope: str) -> str:
    """The store layer of ``layer`` (a catalogue name) for a run of ``scope``."""
    if not _SCOPE_PATTERN.match(scope):
        raise GisPlannerError(f"scope {scope!r}: only a-z, 0-9 and _ are allowed")
    return f"{layer}{SCOPE_SEPARATOR}{scope}" if scope else layer


def catalogue_name(layer: str) -> str:
    """The catalogue layer a (possibly scoped) store layer follows: ``coverage_gaps__x`` →
    ``coverage_gaps``."""
    return layer.split(SCOPE_SEPARATOR, 1)[0]


def input_revisions(revisions: Mapping[str, int], layers: Iterable[str]) -> dict[str, int]:
    """The revisions of those of ``layers`` the store has (``revisions``: layer → revision)."""
    return {name: revisions[name] for name in layers if name in revisions}


def layer_record(
    job: str,
    layer: str,
    parameters: Mapping[str, Any],
    inputs: Mapping[str, int],
    *,
    area: ProductArea | None = None,
    operators: Iterable[str] = (),
    technologies: Iterable[str] = (),
) -> ProductRecord:
    """The record of a layer a job derives: ``{job}.{layer}``, computed from ``inputs``."""
    return ProductRecord(
        id=f"{job}.{layer}",
        kind="layer",
        job=job,
        parameters=dict(parameters),
        area=area or ProductArea(),
        operators=tuple(sorted(set(operators))),
        technologies=tuple(sorted(set(technologies))),
        inputs=dict(inputs),
        layer=layer,
    )


def is_stale(record: ProductRecord, revisions: Mapping[str, int]) -> bool:
    """Whether an input of ``record`` was rewritten (or removed) since it was computed."""
    return any(revisions.get(name) != revision for name, revision in record.inputs.items())


def owner(record: ProductRecord) -> str | None:
    """The one operator a product belongs to; None for a product over several operators
    (aggregated). A composite of one operator's cells is that operator's, whatever its name."""
    return record.operators[0] if len(record.operators) == 1 else None
