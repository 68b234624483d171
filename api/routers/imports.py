"""Import a file into a layer over HTTP, with the library's importer.

An import adds rows to the layer and updates the rows of the same key (mode ``append``, the
default, as ``gis-planner import`` does). An operator key imports rows of its own operator into
``sites`` or ``cells`` in this mode only: the other operators' rows, already in the store, are
never touched (their keys hold their operator), and any row of another operator in the file is
rejected with reason ``other_operator``. An admin key imports any layer, for any operator, and
may replace it with ``mode=replace``; a replacement is refused (409, nothing written) when a row
was rejected or rows of other layers would lose what they refer to. Accepted rows
are written in one transaction; rejected rows come back in the answer (HTTP 200,
``rejected`` > 0).

The key, role, layer and announced size are checked before a byte of the body is read; the
file is then streamed, with a cap, into the server's upload folder (see ``api.uploads``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pathlib
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request

from api.deps import Caller, Layers, Settings, Store
from api.models import ImportReject, ImportSummary
from api.routers.common import errors
from api.settings import ApiSettings
from api.uploads import FILE_FIELD, MAX_NAME_BYTES, UploadFolder, check_length, receive_upload
from gis_planner.catalogue import CATALOGUE
from gis_planner.errors import GisPlannerError
from gis_planner.io import ImportOptions, ImportResult
from gis_planner.io.importer import ReplaceRefused
from gis_planner.jobs import importing
from gis_planner.jobs.importing import ImportSpec
from gis_planner.store import LayerStore

_log = logging.getLogger(__name__)

router = APIRouter(prefix="/imports", tags=["imports"])

#: Layers an operator key may import (its own rows of them).
OPERATOR_LAYERS = ("sites", "cells")

ImportMode = Literal["append", "replace"]

#: The multipart body, documented by hand: the route reads it itself, after its checks.
_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    FILE_FIELD: {
                        "type": "string",
                        "format": "binary",
                        "description": (
                            "Tệp cần nhập (tên có phần mở rộng) / The file, named with its "
                            f"extension (at most {MAX_NAME_BYTES} bytes)"
                        ),
                    }
                },
                "required": [FILE_FIELD],
            }
        }
    },
}


def _summary(result: ImportResult, mode: ImportMode) -> ImportSummary:
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
        append=mode == "append",
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
        "Tệp CSV/TSV, XLSX/XLS/ODS, KML/KMZ, GeoJSON, SHP (ZIP) hoặc GPKG. Mọi dòng hợp lệ "
        "được ghi trong một giao dịch; dòng bị loại trả về kèm lý do (HTTP 200, `rejected` > "
        "0). Mặc định thêm vào lớp và cập nhật dòng cùng khoá (`mode=append`). Khoá nhà mạng "
        "chỉ nhập trạm/cell của chính mình, theo cách này (dòng của nhà mạng khác bị loại, lý "
        "do `other_operator`); quản trị nhập mọi lớp và có thể thay thế cả lớp "
        "(`mode=replace`), trừ khi có dòng bị loại hoặc tham chiếu bị mất (409, không ghi gì). "
        "Tệp không đọc được: 400. "
        "/ CSV/TSV, XLSX/XLS/ODS, KML/KMZ, GeoJSON, SHP (zipped) or GPKG. Every valid row is "
        "written in one transaction; rejected rows come back with their reasons (HTTP 200, "
        "`rejected` > 0). By default rows are added to the layer and rows of a key it holds "
        "updated (`mode=append`). An operator key imports only its own sites and cells, this "
        "way only (rows of other operators are rejected, reason `other_operator`); an admin key "
        "imports any layer and may replace a whole layer (`mode=replace`), unless a row is "
        "rejected or references would dangle (409, nothing written). A file that cannot be "
        "read: 400. The body needs a `Content-Length` (411) within the server's limit (413)."
    ),
    openapi_extra={"requestBody": _BODY},
    responses=errors(403, 404, 409, 411, 413),
)
async def import_layer(
    request: Request,
    store: Store,
    layers: Layers,
    who: Caller,
    settings: Settings,
    layer: Annotated[str, Path(max_length=64, description="Lớp đích / Target layer")],
    mode: Annotated[
        ImportMode,
        Query(
            description=(
                "`append` thêm vào lớp, cập nhật dòng cùng khoá (mặc định); `replace` thay thế "
                "cả lớp (chỉ quản trị) / `append` adds rows and updates those of a key the "
                "layer holds (default); `replace` replaces the whole layer (admin keys only)"
            )
        ),
    ] = "append",
    crs: Annotated[
        str | None, Query(max_length=64, description="CRS của cột X/Y / CRS of X/Y columns")
    ] = None,
    sheet: Annotated[str | None, Query(max_length=128, description="Trang Excel / Sheet")] = None,
    encoding: Annotated[
        str | None,
        Query(
            max_length=32,
            description="Mã hoá CSV, hoặc tcvn3 / vni / CSV encoding, or tcvn3 / vni for legacy "
            "Vietnamese text",
        ),
    ] = None,
) -> ImportSummary:
    # Everything that needs no body is checked before the body is read.
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
        if mode == "replace":
            raise HTTPException(
                403,
                "nhà mạng chỉ thêm vào lớp / an operator key adds to the layer; replacing it "
                "needs an admin key",
            )
    check_length(request, settings.max_upload_mib)
    options = ImportOptions(
        crs=crs,
        sheet=sheet,
        append=mode == "append",
        encoding=encoding,
        only_operator=who.operator if who.role == "operator" else None,
    )
    uploads: UploadFolder = request.app.state.uploads
    with uploads.request_folder() as folder:
        # The importer reads formats by their extension: the upload keeps its (safe) name.
        path = await receive_upload(request, folder, settings.max_upload_mib)
        # Rows are checked against the store's province (its admin units), as the CLI does.
        spec = ImportSpec(file=path, layer=layer, options=options)
        outcome = await _import_apart(spec, store, settings, request.app.state.import_turns)
    if not isinstance(outcome, ImportResult):
        status, message = outcome
        # The message names the upload, not the folder this server kept it in.
        message = message.replace(f"{folder}{os.sep}", "")
        raise HTTPException(status, f"không thay thế lớp / {message}" if status == 409 else message)
    # The answers that follow must show the new rows at once.
    layers.refresh()
    return _summary(outcome, mode)


async def _import_apart(
    spec: ImportSpec, store: LayerStore, settings: ApiSettings, turns: asyncio.Semaphore
) -> ImportResult | tuple[int, str]:
    """The import job, run in a child process of its own: what reading a large or hostile file
    takes (memory the allocator would keep, a crash in a reader) goes with the child, never
    with the server. The child is bounded in CPU, memory and time (a GeoPackage view that never
    ends kept a reader busy for good), and ``turns`` bounds how many run at once. A refusal
    comes back as (HTTP status, message)."""
    spawn = multiprocessing.get_context("spawn")
    limits = (settings.import_cpu_s, settings.import_memory_mib)
    async with turns:
        child = ProcessPoolExecutor(max_workers=1, mp_context=spawn)
        try:
            work = child.submit(_import_or_refusal, spec, store, limits)
            return await asyncio.wait_for(asyncio.wrap_future(work), settings.import_timeout_s)
        except BrokenProcessPool:
            return 400, (
                f"{spec.file.name}: the file could not be read (its reader stopped, or took "
                f"more than {settings.import_cpu_s:,} s of CPU or "
                f"{settings.import_memory_mib:,} MiB of memory)"
            )
        except TimeoutError:
            return 400, (
                f"{spec.file.name}: reading the file took more than "
                f"{settings.import_timeout_s:g} s; it was stopped"
            )
        finally:
            # the pool has no public way to stop its process: a reader that never returns
            # would otherwise keep it
            for process in list((child._processes or {}).values()):
                process.kill()
            child.shutdown(wait=False, cancel_futures=True)


def _import_or_refusal(
    spec: ImportSpec, store: LayerStore, limits: tuple[int, int]
) -> ImportResult | tuple[int, str]:
    """The import job with its refusals as (status, message): the library's error types need
    not survive pickling. ``limits`` are the CPU seconds and MiB of memory this child may
    take: past the first the system stops it, past the second its allocations fail."""
    cpu_s, memory_mib = limits
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
    held = _address_space_bytes()
    if held is not None:
        cap = held + (memory_mib << 20)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        return importing.run(spec, store)
    except ReplaceRefused as refused:
        return 409, str(refused)
    except GisPlannerError as error:
        return 400, str(error)
    except MemoryError:
        return 400, f"{spec.file.name}: reading it needs more than {memory_mib:,} MiB"
    except Exception as error:
        # A reader's own failure on a file it was given (a CRS PROJ cannot use, a database
        # error inside a GeoPackage): the upload's fault as far as the caller can act on it,
        # logged here with its trace for the server's maintainers.
        _log.exception("import of %s failed", spec.file.name)
        return 400, f"{spec.file.name}: the file could not be read ({type(error).__name__})"


def _address_space_bytes() -> int | None:
    """This process's address space now, from ``/proc`` (None where there is none)."""
    try:
        with pathlib.Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) << 10
    except OSError:
        return None
    return None
