"""Editing features over HTTP (OGC API – Features Part 4: create, replace, update, delete) and
the audit history with undo. Thin: bound and parse the request, call ``gis_planner.jobs.editing``,
shape the answer.

Every input is bounded before any work: the key and role (a viewer is refused before the body is
read), the feature id (length and characters), the announced and the real body size, JSON depth.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.access import Principal
from api.deps import Caller, Layers, Store
from api.models import AuditChanges, Problem
from api.routers.common import public_url
from gis_planner.errors import StoreError, UnknownLayer
from gis_planner.jobs import editing
from gis_planner.jobs.editing import Edited, Editor, Feature

router = APIRouter(tags=["OGC API – Features"])

#: Largest body of an edit: one feature (a long fibre route fits many times over).
MAX_BODY_BYTES = 1024 * 1024
#: Deepest JSON nesting accepted (a GeoJSON multipolygon's coordinates are 5 deep).
MAX_JSON_DEPTH = 16
JSON_TYPES = ("application/json", "application/geo+json", "application/merge-patch+json")
PROBLEM = "application/problem+json"
GEOJSON = "application/geo+json"
T = TypeVar("T")

_STATUS = {
    editing.NotAllowed: (403, "Không được phép / Forbidden"),
    editing.FeatureNotFound: (404, "Không tìm thấy / Not found"),
    editing.ChangeNotFound: (404, "Không tìm thấy / Not found"),
    editing.FeatureExists: (409, "Đã có / Conflict"),
    editing.ChangedSince: (409, "Đã thay đổi / Conflict"),
    editing.PreconditionFailed: (412, "ETag cũ / Precondition failed"),
    editing.PreconditionRequired: (428, "Cần If-Match / Precondition required"),
    editing.InvalidFeature: (422, "Dữ liệu không hợp lệ / Invalid feature"),
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": title, "content": {PROBLEM: {}}}
    for status, title in {**dict(_STATUS.values()), 400: "Yêu cầu sai / Bad request",
                          413: "Quá lớn / Too large", 415: "Không phải JSON / Not JSON"}.items()
}  # fmt: skip

FeatureId = Annotated[
    str,
    Path(
        max_length=editing.MAX_FEATURE_ID,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="Mã đối tượng (các trường khoá nối bằng ':') / Feature id (key fields joined "
        "by ':')",
    ),
]


def problem(status: int, title: str, detail: str, errors: list[Any] | None = None) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, errors=errors or [])
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM)


def _editor(who: Principal) -> Editor:
    return Editor(role=who.role, operator=who.operator, name=who.name)


async def _run(job: Callable[[], T]) -> T | JSONResponse:
    """Run an editing job on a thread; its refusals as problem details."""
    try:
        return await run_in_threadpool(job)
    except editing.EditError as error:
        status, title = _STATUS.get(type(error), (400, "Yêu cầu sai / Bad request"))
        errors = [asdict(p) for p in getattr(error, "problems", [])]
        return problem(status, title, str(error), errors)
    except UnknownLayer as error:
        return problem(404, "Không tìm thấy / Not found", f"unknown layer {error.name!r}")
    except StoreError as error:
        # The database refused the caller's role (row-level security, privileges): said
        # without the store's address.
        if "not allowed" not in str(error):
            raise
        return problem(403, "Không được phép / Forbidden", "the store refused this change")


def _check_editor(collection_id: str, who: Principal) -> JSONResponse | None:
    """Refuse before the body is read: viewers, and layers the caller may not edit."""
    if not editing.may_edit(collection_id, _editor(who)):
        needed = "an admin key" if who.role == "operator" else "an operator or admin key"
        return problem(
            403, "Không được phép / Forbidden", f"editing {collection_id!r} needs {needed}"
        )
    return None


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


async def _read_feature(request: Request, *, patch: bool = False) -> Feature | JSONResponse:
    """The feature of the body: bounded in size and depth, JSON, a GeoJSON Feature (for a
    patch, an object of properties and/or geometry)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        return problem(415, "Không phải JSON / Unsupported media type",
                       f"the body must be one of {', '.join(JSON_TYPES)}")  # fmt: skip
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return problem(413, "Quá lớn / Too large", f"a feature is at most {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return problem(
                413, "Quá lớn / Too large", f"a feature is at most {MAX_BODY_BYTES} bytes"
            )
    bad = "Yêu cầu sai / Bad request"
    try:
        document = json.loads(bytes(body), parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        return problem(400, bad, f"the body is not JSON: {str(error)[:200]}")
    if _depth(document, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        return problem(400, bad, f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    if not isinstance(document, dict):
        return problem(400, bad, "the body must be a GeoJSON Feature (a JSON object)")
    if not patch and document.get("type") != "Feature":
        return problem(400, bad, 'the body must be a GeoJSON Feature ("type": "Feature")')
    properties = document.get("properties") or {}
    geometry = document.get("geometry")
    if not isinstance(properties, dict) or not (geometry is None or isinstance(geometry, dict)):
        return problem(400, bad, "properties and geometry must be JSON objects")
    return Feature(properties=properties, geometry=geometry)


def _answer(request: Request, layers: Any, edited: Edited, status: int = 200) -> Response:
    layers.refresh()  # the next read on this server sees the change at once
    headers = {"Cache-Control": "no-store"}
    if edited.etag:
        headers["ETag"] = edited.etag
    if status == 201:
        location = f"/collections/{edited.layer}/items/{edited.feature_id}"
        headers["Location"] = public_url(request, location)
    if edited.feature is None:
        return Response(status_code=204, headers=headers)
    body = json.dumps(edited.feature, ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type=GEOJSON, headers=headers)


@router.post(
    "/collections/{collection_id}/items",
    status_code=201,
    summary="Thêm đối tượng / Create a feature",
    description=(
        "Một GeoJSON Feature; mã đối tượng từ các trường khoá. Nhà mạng: chỉ của mình. / One "
        "GeoJSON Feature; its id comes from its key fields. An operator key adds its own rows."
    ),
    responses={201: {"content": {GEOJSON: {}}}, **_RESPONSES},
)
async def create_item(
    request: Request, collection_id: str, who: Caller, store: Store, layers: Layers
) -> Response:
    refused = _check_editor(collection_id, who)
    if refused is not None:
        return refused
    feature = await _read_feature(request)
    if isinstance(feature, Response):
        return feature
    edited = await _run(lambda: editing.create(store, collection_id, feature, _editor(who)))
    return edited if isinstance(edited, Response) else _answer(request, layers, edited, 201)


async def _change(
    request: Request,
    collection_id: str,
    feature_id: str,
    who: Principal,
    store: Any,
    layers: Any,
    kind: str,
) -> Response:
    refused = _check_editor(collection_id, who)
    if refused is not None:
        return refused
    if_match = request.headers.get("if-match")
    editor = _editor(who)
    if kind == "delete":
        edited = await _run(
            lambda: editing.delete(store, collection_id, feature_id, editor, if_match=if_match)
        )
    else:
        if not if_match:  # before the body is read
            detail = "a change of a feature needs If-Match with the feature's ETag"
            return problem(428, "Cần If-Match / Precondition required", detail)
        feature = await _read_feature(request, patch=kind == "update")
        if isinstance(feature, Response):
            return feature
        job = editing.update if kind == "update" else editing.replace
        edited = await _run(
            lambda: job(store, collection_id, feature_id, feature, editor, if_match=if_match)
        )
    return edited if isinstance(edited, Response) else _answer(request, layers, edited)


_IF_MATCH = {
    "parameters": [
        {
            "name": "If-Match",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "ETag của đối tượng / The feature's ETag",
        }
    ]
}


def _change_route(kind: str) -> Callable[..., Awaitable[Response]]:
    async def change_item(
        request: Request,
        collection_id: str,
        feature_id: FeatureId,
        who: Caller,
        store: Store,
        layers: Layers,
    ) -> Response:
        return await _change(request, collection_id, feature_id, who, store, layers, kind)

    change_item.__name__ = f"{kind}_item"
    return change_item


#: Part 4's changes of one feature: (method, kind, summary, status).
_CHANGES = (
    ("PUT", "replace", "Thay đối tượng / Replace a feature", 200),
    ("PATCH", "update", "Sửa đối tượng / Update a feature (JSON merge patch)", 200),
    ("DELETE", "delete", "Xoá đối tượng / Delete a feature", 204),
)
for _method, _kind, _summary, _status in _CHANGES:
    router.add_api_route(
        "/collections/{collection_id}/items/{feature_id}",
        _change_route(_kind),
        methods=[_method],
        status_code=_status,
        summary=_summary,
        responses={200: {"content": {GEOJSON: {}}}, **_RESPONSES} if _status == 200 else _RESPONSES,
        openapi_extra=_IF_MATCH,
        operation_id=f"{_kind}_item",
    )


@router.get(
    "/audit",
    response_model=AuditChanges,
    tags=["audit"],
    summary="Lịch sử thay đổi / Audit history (admin key)",
    responses=_RESPONSES,
)
async def audit(
    who: Caller,
    store: Store,
    layer: Annotated[str | None, Query(max_length=200, description="Lớp / Layer")] = None,
    limit: Annotated[int, Query(ge=1, le=editing.MAX_HISTORY)] = 100,
) -> Response:
    changes = await _run(lambda: editing.history(store, _editor(who), layer=layer, limit=limit))
    if isinstance(changes, Response):
        return changes
    body = {"changes": [asdict(c) for c in changes]}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post(
    "/audit/{change_id}/undo",
    tags=["audit"],
    summary="Hoàn tác một thay đổi / Undo one change (admin key)",
    description=(
        "Từ chối (409) nếu đối tượng đã đổi sau thay đổi đó. / Refused (409) if the feature "
        "changed since that change."
    ),
    responses={200: {"content": {GEOJSON: {}}}, **_RESPONSES},
)
async def undo(
    request: Request,
    change_id: Annotated[int, Path(ge=1, le=2**62)],
    who: Caller,
    store: Store,
    layers: Layers,
) -> Response:
    edited = await _run(lambda: editing.undo(store, change_id, _editor(who)))
    return edited if isinstance(edited, Response) else _answer(request, layers, edited)
