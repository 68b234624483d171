"""Import a file into a layer over HTTP, with the library's importer.

An operator key imports rows of its own operator into ``sites`` or ``cells`` and only adds to
the layer (``append``): the other operators' rows, already in the store, are never replaced,
and any row of another operator in the file is rejected with reason ``other_operator``. An
admin key imports any layer, for any operator, replacing it or adding to it. Accepted rows are
written in one transaction; rejected rows come back in the answer (HTTP 200, ``rejected`` > 0).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, BinaryIO

from fastapi import APIRouter, File, HTTPException, Path, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, Layers, Settings, Store
from api.models import ImportReject, ImportSummary
from gis_planner.catalogue import CATALOGUE
from gis_planner.errors import GisPlannerError
from gis_planner.io import ImportOptions, ImportResult, import_file

router = APIRouter(prefix="/imports", tags=["imports"])

#: Layers an operator key may import (its own rows of them).
OPERATOR_LAYERS = ("sites", "cells")


def _summary(result: ImportResult, append: bool) -> ImportSummary:
    rejects = result.rejects.astype(object).where(result.rejects.notna(), None)
    return ImportSummary(
        file=result.file.name,
        layer=result.layer,
        read=result.read,
        accepted=result.accepted,
        rejected=result.rejected,
        unchanged=result.unchanged,
        fixed=result.fixed,
        written=result.written,
        append=append,
        rejected_by_reason={str(k): int(v) for k, v in result.rejected_by_reason().items()},
        notes=list(result.notes),
        rejects=[
            ImportReject(**{**r, "value": None if r["value"] is None else str(r["value"])})
            for r in rejects.to_dict("records")
        ],
    )


@router.post(
    "/{layer}",
    response_model=ImportSummary,
    summary="Nhập tệp vào một lớp / Import a file into a layer",
    description=(
        "Tệp CSV/TSV, XLSX, KML/KMZ, GeoJSON, SHP (ZIP) hoặc GPKG. Mọi dòng hợp lệ được ghi "
        "trong một giao dịch; dòng bị loại trả về kèm lý do (HTTP 200, `rejected` > 0). Khoá "
        "nhà mạng chỉ nhập trạm/cell của chính mình và chỉ thêm vào lớp (dòng của nhà mạng "
        "khác bị loại, lý do `other_operator`); quản trị nhập mọi lớp. Tệp không đọc được: 400. "
        "/ CSV/TSV, XLSX, KML/KMZ, GeoJSON, SHP (zipped) or GPKG. Every valid row is written in "
        "one transaction; rejected rows come back with their reasons (HTTP 200, `rejected` > "
        "0). An operator key imports only its own sites and cells and only adds to the layer "
        "(rows of other operators are rejected, reason `other_operator`); an admin key imports "
        "any layer. A file that cannot be read: 400."
    ),
)
async def import_layer(
    store: Store,
    layers: Layers,
    who: Caller,
    settings: Settings,
    file: Annotated[
        UploadFile,
        File(description="Tệp cần nhập (tên có phần mở rộng) / The file, named with its extension"),
    ],
    layer: Annotated[str, Path(max_length=64, description="Lớp đích / Target layer")],
    append: Annotated[
        bool | None,
        Query(
            description=(
                "Thêm vào lớp thay vì thay thế (khoá nhà mạng: luôn thêm) / Add to the layer "
                "instead of replacing it (operator keys always add)"
            )
        ),
    ] = None,
    crs: Annotated[
        str | None, Query(max_length=64, description="CRS của cột X/Y / CRS of X/Y columns")
    ] = None,
    sheet: Annotated[str | None, Query(max_length=128, description="Trang Excel / Sheet")] = None,
    encoding: Annotated[
        str | None, Query(max_length=32, description="Mã hoá CSV / CSV encoding")
    ] = None,
) -> ImportSummary:
    if who.role == "viewer":
        raise HTTPException(403, "cần khoá API / importing needs an operator or admin API key")
    if layer not in CATALOGUE:
        raise HTTPException(
            404, f"không có lớp / unknown layer {layer!r} (layers: {', '.join(CATALOGUE)})"
        )
    if who.role == "operator":
        if layer not in OPERATOR_LAYERS:
            raise HTTPException(
                403,
                f"nhà mạng chỉ nhập trạm, cell / an operator key imports "
                f"{' or '.join(OPERATOR_LAYERS)} only, not {layer!r}",
            )
        if append is False:
            raise HTTPException(
                403,
                "nhà mạng chỉ thêm vào lớp / an operator key adds to the layer; replacing it "
                "needs an admin key",
            )
    adding = True if who.role == "operator" else bool(append)
    name = FilePath(file.filename or "").name
    if not FilePath(name).suffix:
        raise HTTPException(
            400, f"tệp {file.filename!r}: cần tên có phần mở rộng / a name with its extension"
        )
    options = ImportOptions(
        crs=crs,
        sheet=sheet,
        append=adding,
        encoding=encoding,
        only_operator=who.operator if who.role == "operator" else None,
    )
    with tempfile.TemporaryDirectory(prefix="gis-planner-import-") as folder:
        # The importer reads formats by their extension: the upload keeps its name.
        path = FilePath(folder) / name
        limit = int(settings.max_upload_mib * 1024 * 1024)
        copied = await run_in_threadpool(_copy_at_most, file.file, path, limit)
        if copied > limit:
            raise HTTPException(
                413,
                f"tệp quá lớn / {name} is larger than the {settings.max_upload_mib:g} MiB this "
                "server accepts (GIS_PLANNER_MAX_UPLOAD_MIB)",
            )
        # Rows are checked against the store's province (its admin units), as the CLI does.
        try:
            result = await run_in_threadpool(import_file, path, layer, store, options=options)
        except GisPlannerError as error:
            # The message names the upload, not the folder this server kept it in.
            raise HTTPException(400, str(error).replace(f"{folder}{os.sep}", "")) from None
    # The answers that follow must show the new rows at once.
    layers.refresh()
    return _summary(result, adding)


def _copy_at_most(source: BinaryIO, target: FilePath, limit: int) -> int:
    """Copies the upload, stopping one chunk past ``limit``; returns the bytes copied."""
    copied = 0
    with target.open("wb") as out:
        while chunk := source.read(1 << 20):
            out.write(chunk)
            copied += len(chunk)
            if copied > limit:
                break
    return copied
