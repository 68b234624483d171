"""Uploads streamed to a server-owned folder, with a hard cap, and swept when a process is gone.

Starlette's form parsing spools a whole upload to the system's temporary folder before the
route's checks run; ``receive_upload`` is called only after them and stops at the cap. Each
process writes under ``pid-<process id>`` of the folder, so that a starting server can remove
what a killed one left without touching the uploads of its living sibling workers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

from fastapi import HTTPException, Request
from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

#: Name of the multipart part that holds the file.
FILE_FIELD = "file"
#: Longest upload name, in UTF-8 bytes: the name (plus the reject report's suffix) must fit
#: the file systems' 255-byte limit.
MAX_NAME_BYTES = 180
#: Room for the multipart envelope (boundaries, part headers) beyond the file itself.
ENVELOPE_BYTES = 64 * 1024
_PID_PREFIX = "pid-"


class UploadFolder:
    """The folder uploads are written to while they are imported."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def mine(self) -> Path:
        """This process's sub-folder (read at each use: a forked worker has its own id)."""
        return self.root / f"{_PID_PREFIX}{os.getpid()}"

    def sweep(self) -> list[Path]:
        """Removes what dead processes left, and this process's own folder (a process that
        just started owns no upload yet: a folder with its id is from an earlier process that
        had the same id). Returns what was removed."""
        if not self.root.is_dir():
            return []
        removed = []
        for entry in self.root.iterdir():
            pid = _pid_of(entry.name)
            if pid is not None and pid != os.getpid() and _alive(pid):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
        return removed

    @contextmanager
    def request_folder(self) -> Iterator[Path]:
        """A fresh folder for one upload, removed with its content on exit."""
        self.mine.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="upload-", dir=self.mine))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _pid_of(name: str) -> int | None:
    digits = name.removeprefix(_PID_PREFIX)
    return int(digits) if name.startswith(_PID_PREFIX) and digits.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def safe_file_name(raw: bytes) -> str:
    """The upload's own name, without any folder part the client sent; 400 for a name that is
    not UTF-8, has control characters, is too long or has no extension."""
    try:
        text = unicodedata.normalize("NFC", raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise HTTPException(400, "tên tệp không hợp lệ / the file name is not UTF-8") from None
    # Browsers on Windows may send "C:\fakepath\name.csv": only the last part is the name.
    name = text.replace("\\", "/").rsplit("/", 1)[-1]
    shown = name if len(name) <= 60 else name[:57] + "..."
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise HTTPException(
            400, f"tên tệp {shown!r} có ký tự điều khiển / the file name has control characters"
        )
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise HTTPException(
            400,
            f"tên tệp quá dài / the file name {shown!r} is longer than {MAX_NAME_BYTES} bytes "
            "(UTF-8); rename the file",
        )
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem.strip(". ") or not suffix.strip():
        raise HTTPException(
            400, f"tệp {shown!r}: cần tên có phần mở rộng / a name with its extension"
        )
    return name


def too_large(limit_mib: float) -> HTTPException:
    return HTTPException(
        413,
        f"tệp quá lớn / the upload is larger than the {limit_mib:g} MiB this server accepts "
        "(GIS_PLANNER_MAX_UPLOAD_MIB)",
    )


def check_length(request: Request, limit_mib: float) -> None:
    """411 without a ``Content-Length``, 413 when it announces more than the cap allows:
    both before a byte of the body is read."""
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        raise HTTPException(
            411, "cần Content-Length / the upload needs a Content-Length header (no chunked body)"
        )
    if int(declared) > limit_bytes(limit_mib) + ENVELOPE_BYTES:
        raise too_large(limit_mib)


def limit_bytes(limit_mib: float) -> int:
    return int(limit_mib * 1024 * 1024)


class _FilePart:
    """Callbacks of the multipart parser: keeps the ``file`` part's bytes, drops the rest."""

    def __init__(self, folder: Path, limit_mib: float) -> None:
        self.folder = folder
        self.limit_mib = limit_mib
        self.path: Path | None = None
        self.size = 0
        self.pending: list[bytes] = []
        self._in_file = False
        self._header = b""
        self._value = b""
        self._disposition = b""

    def on_part_begin(self) -> None:
        self._in_file = False
        self._disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        if self._header.strip().lower() == b"content-disposition":
            self._disposition = self._value
        self._header, self._value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if options.get(b"name") != FILE_FIELD.encode():
            return
        if self.path is not None:
            raise HTTPException(400, "chỉ một tệp mỗi lần nhập / one file per import")
        if b"filename" not in options:
            raise HTTPException(422, "tham số không hợp lệ / invalid parameter: file: not a file")
        self.path = self.folder / safe_file_name(options[b"filename"])
        self._in_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file:
            return
        self.size += end - start
        if self.size > limit_bytes(self.limit_mib):
            raise too_large(self.limit_mib)
        self.pending.append(data[start:end])

    def on_part_end(self) -> None:
        self._in_file = False


async def receive_upload(request: Request, folder: Path, limit_mib: float) -> Path:
    """Streams the ``file`` part of a multipart ``request`` into ``folder`` (under the name the
    client gave, made safe) and returns its path; 413 as soon as it passes ``limit_mib``."""
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise HTTPException(
            422,
            "tham số không hợp lệ / invalid parameter: body.file: Field required "
            "(a multipart/form-data body with a file)",
        )
    part = _FilePart(folder, limit_mib)
    callbacks = {
        "on_part_begin": part.on_part_begin,
        "on_part_data": part.on_part_data,
        "on_part_end": part.on_part_end,
        "on_header_field": part.on_header_field,
        "on_header_value": part.on_header_value,
        "on_header_end": part.on_header_end,
        "on_headers_finished": part.on_headers_finished,
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    body_cap = limit_bytes(limit_mib) + ENVELOPE_BYTES
    received = 0
    with ExitStack() as files:
        out: BinaryIO | None = None
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if received > body_cap:
                    raise too_large(limit_mib)
                parser.write(chunk)
                if part.pending:
                    if out is None:
                        assert part.path is not None
                        out = files.enter_context(part.path.open("wb"))
                    # Written off the event loop, as Starlette writes its spooled files.
                    await run_in_threadpool(out.writelines, part.pending)
                    part.pending = []
            parser.finalize()
        except MultipartParseError as error:
            raise HTTPException(
                400, f"tệp tải lên hỏng / the multipart body is malformed: {error}"
            ) from None
        if part.path is not None and out is None:
            part.path.touch()  # an empty file, for the importer to say so
    if part.path is None:
        raise HTTPException(
            422, "tham số không hợp lệ / invalid parameter: body.file: Field required"
        )
    return part.path
