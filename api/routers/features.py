"""OGC API – Features (Part 1: Core, GeoJSON, OpenAPI 3.0) over every layer of the store."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.deps import Caller, Language, Layers, Settings, Store
from api.featurepages import FeaturePage, feature_page
from api.models import (
    Collection,
    Collections,
    Conformance,
    Extent,
    FeatureCollection,
    LandingPage,
    Link,
)
from api.routers.common import (
    cache_control,
    check_visible,
    filter_params,
    parse_bbox,
    public_url,
    visible_layer,
    visible_names,
)
from api.routers.viewer import viewer_page
from gis_planner.catalogue import CATALOGUE
from gis_planner.i18n import Lang
from gis_planner.io.kml import KML_MEDIA_TYPE, KMZ_MEDIA_TYPE, kml_document, kmz_archive
from gis_planner.jobs import editing

router = APIRouter(tags=["OGC API – Features"])

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: The conformance classes this router implements.
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    # Part 4, by the editing router: POST, PUT, PATCH and DELETE of items, with ETags.
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
)
#: JSON Schema types of the catalogue's field types.
SCHEMA_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
GEOJSON = "application/geo+json"
JSON = "application/json"
#: ``f``: the resources answer in JSON/GeoJSON only; the landing page also as the viewer (HTML).
Format = Annotated[
    Literal["json", "geojson"] | None,
    Query(description="Định dạng / Format: JSON/GeoJSON only"),
]
#: ``f`` of the items: GeoJSON, or KML/KMZ for Google Earth (the same features, filters and page).
ItemsFormat = Annotated[
    Literal["json", "geojson", "kml", "kmz"] | None,
    Query(description="Định dạng / Format: GeoJSON (default), kml or kmz (Google Earth)"),
]
LandingFormat = Annotated[
    Literal["json", "geojson", "html"] | None,
    Query(description="Định dạng / Format: html (the viewer) or json"),
]
#: ``crs`` and ``bbox-crs`` accept CRS84 only.
OnlyCRS84 = Literal["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]


def _wants_html(request: Request, f: str | None) -> bool:
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "json" not in accept


@router.get(
    "/",
    response_model=LandingPage,
    summary="Trang gốc / Landing page (viewer or OGC API – Features)",
    description=(
        "Trình duyệt (Accept: text/html) nhận trình xem bản đồ; ứng dụng GIS (Accept: JSON hoặc "
        "f=json) nhận trang gốc OGC API – Features. / Browsers get the map viewer; GIS clients "
        "(Accept: JSON or f=json) get the OGC API – Features landing page."
    ),
    responses={200: {"content": {"text/html": {}}}},
)
def landing(request: Request, f: LandingFormat = None) -> Response | LandingPage:
    if _wants_html(request, f):
        return viewer_page()
    return LandingPage(
        title="gis-planner – OGC API – Features",
        description="Lớp dữ liệu hạ tầng viễn thông / Telecom infrastructure layers",
        links=[
            Link(
                href=public_url(request, "/?f=json"), rel="self", type=JSON, title="this document"
            ),
            Link(
                href=public_url(request, "/openapi.json"),
                rel="service-desc",
                type="application/vnd.oai.openapi+json;version=3.0",
                title="OpenAPI",
            ),
            Link(
                href=public_url(request, "/docs"), rel="service-doc", type="text/html", title="docs"
            ),
            Link(href=public_url(request, "/conformance"), rel="conformance", type=JSON),
            Link(href=public_url(request, "/collections"), rel="data", type=JSON),
        ],
    )


@router.get("/conformance", response_model=Conformance, summary="Lớp phù hợp / Conformance")
def conformance(f: Format = None) -> Conformance:
    return Conformance(conformsTo=list(CONFORMANCE))


def _collection(request: Request, layers: Layers, name: str, lang: Lang) -> Collection:
    spec = CATALOGUE.get(name)
    info = layers.info(name)
    items = public_url(request, f"/collections/{name}/items")
    extent = None
    if info.bounds is not None:
        extent = Extent(spatial={"bbox": [list(info.bounds)], "crs": CRS84})
    return Collection(
        id=name,
        title=spec.label(lang) if spec else name,
        description=spec.description if spec else "",
        crs=[CRS84],
        storageCrs=CRS84,
        extent=extent,
        group=spec.group if spec else None,
        fields={fs.name: fs.label(lang) for fs in spec.fields} if spec else {},
        links=[
            Link(href=public_url(request, f"/collections/{name}"), rel="self", type=JSON),
            Link(href=items, rel="items", type=GEOJSON, title=name),
            Link(
                href=public_url(request, f"/collections/{name}/queryables"),
                rel="http://www.opengis.net/def/rel/ogc/1.0/queryables",
                type="application/schema+json",
            ),
        ],
    )


@router.get(
    "/collections",
    response_model=Collections,
    summary="Các lớp dữ liệu / Collections",
    description="Các lớp người gọi được xem / The layers the caller may read.",
)
def collections(
    request: Request, layers: Layers, who: Caller, lang: Language, f: Format = None
) -> Collections:
    return Collections(
        collections=[
            _collection(request, layers, name, lang) for name in visible_names(layers, who)
        ],
        links=[Link(href=public_url(request, "/collections"), rel="self", type=JSON)],
    )


@router.get("/collections/{collection_id}", response_model=Collection, summary="Một lớp / Layer")
def collection(
    request: Request,
    collection_id: str,
    layers: Layers,
    who: Caller,
    lang: Language,
    f: Format = None,
) -> Collection:
    visible_layer(layers, collection_id, who)
    return _collection(request, layers, collection_id, lang)


@router.get(
    "/collections/{collection_id}/queryables",
    summary="Thuộc tính lọc được / Queryables",
    description=(
        "Các trường dùng được làm bộ lọc `?trường=giá trị` ở /items và /tiles (JSON Schema). / "
        "The fields usable as `?field=value` filters of /items and /tiles (JSON Schema)."
    ),
    responses={200: {"content": {"application/schema+json": {}}}},
)
def queryables(
    request: Request,
    collection_id: str,
    layers: Layers,
    who: Caller,
    lang: Language,
    f: Format = None,
) -> Response:
    _, view = visible_layer(layers, collection_id, who)
    spec = CATALOGUE.get(collection_id)
    properties: dict[str, dict[str, Any]] = {}
    for name in view.filterable:
        entry: dict[str, Any] = {"type": "string"}
        if spec is not None:
            field = spec.field(name)
            entry = {"title": field.label(lang), "type": SCHEMA_TYPES[field.dtype]}
            if field.allowed:
                entry["enum"] = list(field.allowed)
        properties[name] = entry
    schema = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": public_url(request, request.url.path),
        "type": "object",
        "title": spec.label(lang) if spec else collection_id,
        "properties": properties,
        "additionalProperties": False,
    }
    headers = {"Cache-Control": cache_control(who), "Vary": "X-API-Key"}
    body = json.dumps(schema, ensure_ascii=False).encode()
    return Response(body, media_type="application/schema+json", headers=headers)


def _features_json(
    fids: npt.NDArray[np.object_],
    geometries: npt.NDArray[np.object_] | None,
    records: list[dict[str, Any]],
) -> str:
    """GeoJSON features assembled as text: geometry from shapely, properties from json."""
    if geometries is not None:
        texts = shapely.to_geojson(geometries)
    else:
        texts = np.full(len(fids), None, dtype=object)
    parts = []
    for fid, geometry, props in zip(fids, texts, records, strict=True):
        properties = json.dumps(props, ensure_ascii=False)
        parts.append(
            f'{{"type":"Feature","id":{json.dumps(fid)},"geometry":{geometry or "null"},'
            f'"properties":{properties}}}'
        )
    return ",".join(parts)


def _page_link(request: Request, rel: str, offset: int, limit: int) -> dict[str, str]:
    return {"href": public_url(request, offset=offset, limit=limit), "rel": rel, "type": GEOJSON}


@router.get(
    "/collections/{collection_id}/items",
    response_model=FeatureCollection,
    summary="Các đối tượng / Features",
    description=(
        "Đối tượng GeoJSON (CRS84), lọc theo bbox và theo thuộc tính (`?operator=viettel`), "
        "phân trang bằng limit/offset; `f=kml` hoặc `f=kmz` cho Google Earth. / GeoJSON "
        "features (CRS84), filtered by bbox and by property (`?operator=viettel`), paged with "
        "limit/offset; `f=kml` or `f=kmz` for Google Earth."
    ),
    responses={200: {"content": {GEOJSON: {}, KML_MEDIA_TYPE: {}, KMZ_MEDIA_TYPE: {}}}},
)
def items(
    request: Request,
    collection_id: str,
    layers: Layers,
    who: Caller,
    settings: Settings,
    lang: Language,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (CRS84)")] = None,
    bbox_crs: Annotated[
        OnlyCRS84 | None, Query(alias="bbox-crs", description="Chỉ / only CRS84")
    ] = None,
    crs: Annotated[OnlyCRS84 | None, Query(description="Chỉ / only CRS84")] = None,
    limit: Annotated[int, Query(ge=1, description="Số đối tượng tối đa / Page size")] = 100,
    offset: Annotated[int, Query(ge=0, description="Bỏ qua / Features to skip")] = 0,
    f: ItemsFormat = None,
) -> Response:
    check_visible(layers, collection_id, who)
    box = parse_bbox(bbox)
    # OGC: a limit above the server's maximum is served at the maximum.
    limit = min(limit, settings.max_items)
    page = feature_page(layers, collection_id, who, filter_params(request), box, limit, offset)
    headers = {"Cache-Control": cache_control(who), "Vary": "X-API-Key"}
    if f in ("kml", "kmz"):
        return _kml_response(collection_id, page, lang, f == "kmz", headers)
    links = [
        {"href": public_url(request), "rel": "self", "type": GEOJSON},
        {
            "href": public_url(request, f"/collections/{collection_id}"),
            "rel": "collection",
            "type": JSON,
        },
    ]
    if offset + limit < page.matched:
        links.append(_page_link(request, "next", offset + limit, limit))
    if offset > 0:
        links.append(_page_link(request, "prev", max(offset - limit, 0), limit))
    features = page.fids, page.geometries, page.records
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    body = (
        f'{{"type":"FeatureCollection","features":[{_features_json(*features)}],'
        f'"numberMatched":{page.matched},"numberReturned":{len(page.fids)},'
        f'"timeStamp":"{stamp}",'
        f'"links":{json.dumps(links)}}}'
    )
    return Response(body.encode(), media_type=GEOJSON, headers=headers)


def _kml_response(
    name: str, page: FeaturePage, lang: Lang, kmz: bool, headers: dict[str, str]
) -> Response:
    """The page of features as a KML (or KMZ) document, downloaded as ``<layer>.kml``."""
    geometries = page.geometries if page.geometries is not None else [None] * len(page.fids)
    body = kml_document(name, geometries, page.records, lang=lang)
    if kmz:
        body = kmz_archive(body)
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", name) + (".kmz" if kmz else ".kml")
    headers = {**headers, "Content-Disposition": f'attachment; filename="{filename}"'}
    media_type = KMZ_MEDIA_TYPE if kmz else KML_MEDIA_TYPE
    return Response(body, media_type=media_type, headers=headers)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="Một đối tượng / One feature",
    responses={200: {"content": {GEOJSON: {}}}},
)
def item(
    request: Request,
    collection_id: str,
    feature_id: str,
    layers: Layers,
    who: Caller,
    store: Store,
    f: Format = None,
) -> Response:
    check_visible(layers, collection_id, who)
    # Part 4: a feature its caller may change comes as stored now, with the strong ETag an
    # edit must name (the cache may lag the store by a moment). Read alone: the cached layer,
    # which every edit makes stale, is not loaded again for it.
    editor = editing.Editor(role=who.role, operator=who.operator, name=who.name)
    found = editing.current(store, collection_id, feature_id, editor)
    if found is not None:
        etag, feature = found
    else:
        layer, view = visible_layer(layers, collection_id, who)
        rows = layer.select(np.flatnonzero(layer.fids == feature_id), view)
        if len(rows) == 0:
            raise HTTPException(
                404, f"không có đối tượng / no feature {feature_id!r} in {collection_id!r}"
            )
        records = layer.records(rows[:1], view)
        one = rows[:1]
        feature = json.loads(_features_json(layer.fids[one], layer.geometries(one), records))
    feature["links"] = [
        {"href": public_url(request), "rel": "self", "type": GEOJSON},
        {
            "href": public_url(request, f"/collections/{collection_id}"),
            "rel": "collection",
            "type": JSON,
        },
    ]
    headers = {"Cache-Control": cache_control(who), "Vary": "X-API-Key"}
    if found is not None:
        headers["ETag"] = etag
        headers["Cache-Control"] = "private, no-cache"
    return Response(
        json.dumps(feature, ensure_ascii=False).encode(), media_type=GEOJSON, headers=headers
    )
