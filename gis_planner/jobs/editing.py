"""Editing features one at a time: create, replace, update (merge) and delete one row of a
layer, with ownership, the catalogue's validation, optimistic concurrency and an audit history
with undo.

Who may edit: admins any row of a catalogue layer; an operator its own rows of the layers it
keeps (``LayerAccess.editable``); viewers nothing. Every edit runs in one store transaction acting
for the editor (``PostGISStore.acting_for``): on PostGIS the database's row-level security
refuses what the checks here would let through by mistake; a GeoPackage has one writer at a
time. A row's ``etag`` is a hash of the whole row as stored: a change must name the one it was
made on (``If-Match``), so two editors never lose each other's changes. Each change is kept
(who, when, layer, feature, the row before and after) in the store itself; ``undo`` reverts one
if the row is still as that change left it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import shapely
import shapely.geometry

from gis_planner.catalogue import CATALOGUE, validate_row
from gis_planner.catalogue.spec import LayerSpec
from gis_planner.errors import GisPlannerError, LayerValidationError, StoreError
from gis_planner.store import LayerStore, PostGISStore
from gis_planner.store.access import layer_access
from gis_planner.store.base import GEOMETRY, Change, RowWriter, as_record, record_of

#: Longest feature id accepted (the catalogue's keys joined by ':').
MAX_FEATURE_ID = 200
#: What a feature id may hold: the characters of the catalogue's codes and operator keys.
FEATURE_ID = re.compile(r"[A-Za-z0-9_.:\-]+", re.ASCII)
#: Most changes one history request returns.
MAX_HISTORY = 1000


@dataclass(frozen=True)
class Editor:
    """Who edits: ``role`` viewer, operator or admin; ``operator`` the operator key of an
    operator; ``name`` what the history records (the API key's holder)."""

    role: str
    operator: str | None = None
    name: str = "anonymous"


@dataclass(frozen=True)
class Feature:
    """A feature as sent: its properties and its geometry (GeoJSON). For an update (merge),
    properties absent stay, a property null is emptied, and a geometry None stays."""

    properties: Mapping[str, Any]
    geometry: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Problem:
    field: str
    reason: str
    message: str


@dataclass(frozen=True)
class Edited:
    """What an edit did: the feature now (None once deleted), its etag and the change's id."""

    layer: str
    feature_id: str
    action: str
    feature: dict[str, Any] | None
    etag: str | None
    change_id: int


class EditError(GisPlannerError):
    """An edit refused; nothing was written."""


class NotAllowed(EditError):
    """The editor may not make this change (role, layer or another operator's row)."""


class FeatureNotFound(EditError):
    """No such feature, or none the editor may see."""


class FeatureExists(EditError):
    """A feature of that key is there already."""


class PreconditionRequired(EditError):
    """A change of an existing feature must name the etag it was made on (``If-Match``)."""


class PreconditionFailed(EditError):
    """The feature changed since the etag the editor named."""


class ChangedSince(EditError):
    """The feature changed since the change to undo: undoing it would lose the later one."""


class ChangeNotFound(EditError):
    """No change of that id in the history."""


class InvalidFeature(EditError):
    """The feature breaks the catalogue's rules; ``problems`` names each field and why."""

    def __init__(self, layer: str, problems: list[Problem]) -> None:
        self.layer = layer
        self.problems = problems
        first = problems[0]
        super().__init__(f"layer {layer!r}, field {first.field!r}: {first.message}")


# -- rows as records ------------------------------------------------------------------------
def _spec(layer: str) -> LayerSpec:
    spec = CATALOGUE.get(layer)
    if spec is None:
        raise NotAllowed(f"layer {layer!r} is not a catalogue layer: it cannot be edited")
    return spec


def key_of(layer: str, feature_id: str) -> dict[str, Any]:
    """The key fields of the feature ``feature_id`` of ``layer`` (see ``feature_id_of``)."""
    spec = _spec(layer)
    if len(feature_id) > MAX_FEATURE_ID or not FEATURE_ID.fullmatch(feature_id):
        raise FeatureNotFound(f"no feature {feature_id[:MAX_FEATURE_ID]!r} in {layer!r}")
    # Later key fields (operator keys) hold no ':'; the first may.
    parts = feature_id.rsplit(":", len(spec.key) - 1)
    if len(parts) != len(spec.key):
        raise FeatureNotFound(f"no feature {feature_id!r} in {layer!r}")
    key: dict[str, Any] = {}
    for name, text in zip(spec.key, parts, strict=True):
        dtype = spec.field(name).dtype
        try:
            key[name] = int(text) if dtype == "int" else float(text) if dtype == "float" else text
        except ValueError:
            raise FeatureNotFound(f"no feature {feature_id!r} in {layer!r}") from None
    return key


def feature_id_of(spec: LayerSpec, record: Mapping[str, Any]) -> str:
    """A feature's id: its key fields joined by ':' (as the features and tiles give them)."""
    return ":".join(str(record[k]) for k in spec.key)


def etag_of(record: Mapping[str, Any]) -> str:
    """A strong entity tag of a row: a hash of all it holds."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def as_feature(spec: LayerSpec, record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as a GeoJSON feature."""
    properties = {k: v for k, v in record.items() if k != GEOMETRY}
    return {
        "type": "Feature",
        "id": feature_id_of(spec, record),
        "geometry": record.get(GEOMETRY),
        "properties": properties,
    }


def matches(if_match: str, etag: str) -> bool:
    """Whether an ``If-Match`` header names ``etag`` (strong comparison; ``*`` is any)."""
    tags = [t.strip() for t in if_match.split(",")]
    return "*" in tags or etag in tags


def _shape(spec: LayerSpec, properties: Mapping[str, Any], geometry: Any) -> Any:
    """The feature's geometry as shapely (None for a table), once its properties are known
    fields with plain values and its geometry is GeoJSON (``InvalidFeature`` otherwise)."""
    problems = [
        Problem(name, "unknown_field", f"{name}: not a field of layer {spec.name!r}")
        for name in properties
        if name not in spec.field_names
    ]
    problems += [
        Problem(name, "not_a_value", f"{name}: a value is a string, a number, a boolean or null")
        for name, value in properties.items()
        if value is not None and not isinstance(value, str | int | float | bool)
    ]
    shape = None
    if spec.geometry_type is not None:
        try:
            shape = shapely.geometry.shape(geometry) if geometry is not None else None
        except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.ShapelyError):
            problems.append(Problem(GEOMETRY, "invalid", "geometry: not a GeoJSON geometry"))
    if problems:
        raise InvalidFeature(spec.name, problems)
    return shape


def _problems(problems: pd.DataFrame) -> list[Problem]:
    return [Problem(str(p.field), str(p.reason), str(p.message)) for p in problems.itertuples()]


def _validated(spec: LayerSpec, properties: Mapping[str, Any], geometry: Any) -> dict[str, Any]:
    """The record of a feature as it would be stored (``InvalidFeature`` if it breaks a rule)."""
    row, shape, problems = validate_row(properties, spec, _shape(spec, properties, geometry))
    if problems:
        raise InvalidFeature(spec.name, [Problem(p.field, p.reason, p.message) for p in problems])
    return as_record(spec, row, shape)


# -- who may do what ------------------------------------------------------------------------
def may_edit(layer: str, who: Editor) -> bool:
    """Whether ``who`` may edit rows of ``layer`` at all (its own rows, for an operator)."""
    if layer not in CATALOGUE:
        return False
    return who.role == "admin" or (who.role == "operator" and layer_access(layer).editable)


def _check_layer(layer: str, who: Editor) -> LayerSpec:
    spec = _spec(layer)
    if not may_edit(layer, who):
        needed = "an admin key" if who.role == "operator" else "an operator or admin key"
        raise NotAllowed(f"editing layer {layer!r} needs {needed}")
    return spec


def _check_owner(record: Mapping[str, Any], who: Editor) -> None:
    if who.role != "admin" and record.get("operator") != who.operator:
        raise NotAllowed(f"operator {who.operator!r} edits its own rows only")


def acting(store: LayerStore, who: Editor) -> LayerStore:
    """The store acting for ``who``: on PostGIS its transactions take the editor's role."""
    if isinstance(store, PostGISStore):
        return store.acting_for(who)
    return store


def _writer(tx: object) -> RowWriter:
    if not isinstance(tx, RowWriter):
        raise StoreError("this store cannot edit one row at a time")
    return tx


# -- edits ----------------------------------------------------------------------------------
NewRow = Callable[[dict[str, Any] | None], tuple[Mapping[str, Any], Any] | None]


def _edit(
    store: LayerStore,
    layer: str,
    key: Mapping[str, Any],
    who: Editor,
    action: str,
    new_row: NewRow,
    *,
    if_match: str | None = None,
    undoes: Change | None = None,
) -> Edited:
    spec = _spec(layer)
    feature_id = feature_id_of(spec, key)
    with acting(store, who).transaction() as tx:
        writer = _writer(tx)
        before = writer.read_record(layer, key)  # UnknownLayer if the store has none
        if undoes is not None:
            if before != (dict(undoes.after) if undoes.after is not None else None):
                raise ChangedSince(
                    f"feature {feature_id!r} of {layer!r} changed since change {undoes.id}"
                )
        elif action == "create":
            if before is not None:
                raise FeatureExists(f"feature {feature_id!r} is already in {layer!r}")
        else:
            if before is None:
                raise FeatureNotFound(f"no feature {feature_id!r} in {layer!r}")
            _check_owner(before, who)
            if if_match is None or not matches(if_match, etag_of(before)):
                raise PreconditionFailed(
                    f"feature {feature_id!r} of {layer!r} changed since the etag sent"
                )
        row = new_row(before)
        if row is None:
            writer.delete_row(layer, key)
            after = None
        else:
            properties, geometry = row
            try:
                new_record = writer.put_record(
                    layer, properties, _shape(spec, properties, geometry)
                )
            except LayerValidationError as error:
                if set(error.problems["reason"]) == {"duplicate_key"}:
                    raise FeatureExists(
                        f"feature {feature_id!r} is already in {layer!r}"
                    ) from error
                raise InvalidFeature(layer, _problems(error.problems)) from error
            # Checked on the row as validated and written: a refusal rolls the write back.
            _check_owner(new_record, who)
            if {k: new_record[k] for k in spec.key} != dict(key):
                raise InvalidFeature(
                    layer,
                    [Problem(k, "key_changed", f"{k}: a feature's key fields cannot change "
                             "(delete it and create another)") for k in spec.key
                     if new_record[k] != key[k]],
                )  # fmt: skip
            after = new_record
        owner = (after or before or {}).get("operator")
        change_id = writer.record_change(
            Change(
                layer=layer, feature_id=feature_id, action=action, who=who.name, role=who.role,
                operator=owner, before=before, after=after,
                undoes=undoes.id if undoes is not None else None,
            )
        )  # fmt: skip
    return Edited(
        layer=layer,
        feature_id=feature_id,
        action=action,
        feature=as_feature(spec, after) if after is not None else None,
        etag=etag_of(after) if after is not None else None,
        change_id=change_id,
    )


def _require_if_match(if_match: str | None) -> str:
    if not if_match:
        raise PreconditionRequired(
            "a change of a feature needs If-Match with the ETag of the feature it was made on"
        )
    return if_match


def create(store: LayerStore, layer: str, feature: Feature, who: Editor) -> Edited:
    """Add a feature; its id comes from its key fields. An operator's feature is its own
    (``operator`` defaults to it)."""
    spec = _check_layer(layer, who)
    properties = dict(feature.properties)
    if who.role == "operator" and "operator" in spec.field_names:
        properties.setdefault("operator", who.operator)
    record = _validated(spec, properties, feature.geometry)
    _check_owner(record, who)
    key = {k: record[k] for k in spec.key}
    return _edit(store, layer, key, who, "create", lambda _: (properties, feature.geometry))


def replace(
    store: LayerStore, layer: str, feature_id: str, feature: Feature, who: Editor,
    *, if_match: str | None,
) -> Edited:  # fmt: skip
    """Replace a feature whole (its key fields stay)."""
    _check_layer(layer, who)
    if_match = _require_if_match(if_match)
    key = key_of(layer, feature_id)
    return _edit(
        store, layer, key, who, "replace",
        lambda _: (feature.properties, feature.geometry), if_match=if_match,
    )  # fmt: skip


def update(
    store: LayerStore, layer: str, feature_id: str, patch: Feature, who: Editor,
    *, if_match: str | None,
) -> Edited:  # fmt: skip
    """Merge ``patch`` into a feature (JSON merge patch of its properties and geometry)."""
    _check_layer(layer, who)
    if_match = _require_if_match(if_match)
    key = key_of(layer, feature_id)

    def merged(before: dict[str, Any] | None) -> tuple[Mapping[str, Any], Any]:
        assert before is not None
        properties = {k: v for k, v in before.items() if k != GEOMETRY}
        properties.update(patch.properties)
        geometry = patch.geometry if patch.geometry is not None else before.get(GEOMETRY)
        return properties, geometry

    return _edit(store, layer, key, who, "update", merged, if_match=if_match)


def delete(
    store: LayerStore, layer: str, feature_id: str, who: Editor, *, if_match: str | None
) -> Edited:
    """Delete a feature."""
    _check_layer(layer, who)
    if_match = _require_if_match(if_match)
    key = key_of(layer, feature_id)
    return _edit(store, layer, key, who, "delete", lambda _: None, if_match=if_match)


def current(
    store: LayerStore, layer: str, feature_id: str, who: Editor
) -> tuple[str, dict[str, Any]] | None:
    """The etag and the GeoJSON feature, as stored now, of a feature the editor may change;
    None if it may not (or there is none)."""
    if not may_edit(layer, who):
        return None
    try:
        key = key_of(layer, feature_id)
    except EditError:
        return None
    spec = CATALOGUE[layer]
    record: dict[str, Any] | None
    if isinstance(store, PostGISStore):
        with store.acting_for(who).transaction() as tx:
            record = tx.read_record(layer, key, lock=False)
    else:
        # A GeoPackage's transaction copies the file: its layer is read as a whole store's.
        frame = store.read(layer, filters=key)
        record = record_of(spec, frame) if len(frame) else None
    if record is None:
        return None
    if who.role != "admin" and record.get("operator") != who.operator:
        return None
    return etag_of(record), as_feature(spec, record)


def history(
    store: LayerStore, who: Editor, *, layer: str | None = None, limit: int = 100
) -> list[Change]:
    """The audit history, newest first (admins only)."""
    if who.role != "admin":
        raise NotAllowed("the history of changes needs an admin key")
    with acting(store, who).transaction() as tx:
        return _writer(tx).changes(layer=layer, limit=max(1, min(limit, MAX_HISTORY)))


def undo(store: LayerStore, change_id: int, who: Editor) -> Edited:
    """Revert change ``change_id`` (admins only), if its feature is still as it left it."""
    if who.role != "admin":
        raise NotAllowed("undoing a change needs an admin key")
    with acting(store, who).transaction() as tx:
        found = _writer(tx).changes(change_id=change_id, limit=1)
    if not found:
        raise ChangeNotFound(f"no change {change_id} in the history")
    change = found[0]
    key = key_of(change.layer, change.feature_id)
    before = change.before

    def restored(_: dict[str, Any] | None) -> tuple[Mapping[str, Any], Any] | None:
        if before is None:
            return None
        return {k: v for k, v in before.items() if k != GEOMETRY}, before.get(GEOMETRY)

    return _edit(store, change.layer, key, who, "undo", restored, undoes=change)
