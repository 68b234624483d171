"""GDAL as the vector readers use it: only the drivers of the formats we read, no network.

GDAL picks a driver by a file's content, not its name: a ``.geojson`` holding an OGR VRT opens
any path or URL the VRT names, a GDALG file runs a pipeline, a WFS file fetches a server, and
even the GeoJSON driver fetches the URL of a ``"crs": {"type": "link"}``. pyogrio cannot pass
GDAL a list of allowed drivers, so every other vector driver is deregistered from the GDAL that
pyogrio loads, and its HTTP client answers every request with an error. This is done once, when
the module is imported (at start-up, before any thread of a server reads a file: removing a
driver while another thread opens a file is not safe), and checked before every read.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
from collections.abc import Iterator
from pathlib import Path

import pyogrio

from gis_planner.errors import GisPlannerError

#: The drivers user files may be opened with; GPKG also reads the store.
ALLOWED_DRIVERS = frozenset({"GeoJSON", "KML", "LIBKML", "ESRI Shapefile", "GPKG"})
#: A file name no network file system will ever be asked for (``/vsicurl/`` and its cousins
#: refuse every other name).
_NO_NETWORK_FILE = "/nonexistent/gis-planner-network-access-is-off"
_ERROR_TEXT = b"gis-planner: network access is switched off for files read from users"


class _HTTPResult(ctypes.Structure):
    """GDAL's CPLHTTPResult: the fetch callback hands GDAL one, allocated by GDAL (which frees
    it), since a null answer would make GDAL fetch the URL itself."""

    _fields_ = [
        ("nStatus", ctypes.c_int),
        ("pszContentType", ctypes.c_void_p),
        ("pszErrBuf", ctypes.c_void_p),
        ("nDataLen", ctypes.c_int),
        ("nDataAlloc", ctypes.c_int),
        ("pabyData", ctypes.c_void_p),
        ("papszHeaders", ctypes.c_void_p),
        ("nMimePartCount", ctypes.c_int),
        ("pasMimePart", ctypes.c_void_p),
    ]


_FETCH = ctypes.CFUNCTYPE(
    ctypes.c_void_p,  # CPLHTTPResult*
    ctypes.c_char_p,  # URL
    *(ctypes.c_void_p,) * 6,  # options, progress, progress arg, write, write arg, user data
)


def _gdal_candidates() -> Iterator[Path]:
    """Where the GDAL library pyogrio uses may be: loaded in this process (Linux), bundled in
    the wheel, or the system's."""
    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            name = line.rsplit(maxsplit=1)[-1]
            if "libgdal" in Path(name).name:
                yield Path(name)
    package = Path(pyogrio.__file__).parent
    for folder in (package.parent / "pyogrio.libs", package / ".dylibs"):
        yield from sorted(folder.glob("*gdal*"))
    system = ctypes.util.find_library("gdal")
    if system:
        yield Path(system)


class _Guard:
    """The state of the hardening, and the callback GDAL must keep alive."""

    def __init__(self) -> None:
        self.problem: str | None = "not yet hardened"
        self.refused: list[str] = []
        self._fetch = _FETCH(self._refuse)
        self._lib: ctypes.CDLL | None = None

    def _refuse(self, url: bytes | None, *_: object) -> int:
        """GDAL's HTTP client, replaced: every request fails without leaving the process."""
        self.refused.append((url or b"").decode("utf-8", "replace"))
        lib = self._lib
        assert lib is not None
        address = lib.CPLCalloc(1, ctypes.sizeof(_HTTPResult))
        result = _HTTPResult.from_address(address)
        result.nStatus = 1
        result.pszErrBuf = lib.CPLStrdup(_ERROR_TEXT)
        return int(address)

    def harden(self) -> None:
        pyogrio.set_gdal_config_options(
            {
                "CPL_VSIL_CURL_ALLOWED_FILENAME": _NO_NETWORK_FILE,
                # Should anything register the drivers again, these stay out.
                "GDAL_SKIP": " ".join(
                    d for d in pyogrio.list_drivers() if d not in ALLOWED_DRIVERS and " " not in d
                ),
            }
        )
        for candidate in _gdal_candidates():
            try:
                lib = ctypes.CDLL(str(candidate))
            except OSError:
                continue
            # Another GDAL may be loaded (rasterio's wheel brings its own): its drivers are
            # the rasters' (MEM among them), never to be removed.
            if not _is_pyogrios(lib):
                continue
            lib.CPLCalloc.restype = ctypes.c_void_p
            lib.CPLCalloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
            lib.CPLStrdup.restype = ctypes.c_void_p
            lib.CPLStrdup.argtypes = [ctypes.c_char_p]
            lib.GDALGetDriverByName.restype = ctypes.c_void_p
            lib.GDALGetDriverByName.argtypes = [ctypes.c_char_p]
            lib.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
            lib.CPLHTTPSetFetchCallback.argtypes = [_FETCH, ctypes.c_void_p]
            self._lib = lib
            for name in pyogrio.list_drivers():
                if name not in ALLOWED_DRIVERS:
                    driver = lib.GDALGetDriverByName(name.encode())
                    # Deregistered, not destroyed: a thread may still hold it.
                    if driver:
                        lib.GDALDeregisterDriver(driver)
            lib.CPLHTTPSetFetchCallback(self._fetch, None)
            self.problem = self._check()
            if self.problem is None:
                return
        self.problem = self.problem or "GDAL's library was not found"

    def _check(self) -> str | None:
        """Why the GDAL pyogrio uses is not safe for users' files, or None."""
        extra = set(pyogrio.list_drivers()) - ALLOWED_DRIVERS
        if extra:
            return f"GDAL drivers still registered: {', '.join(sorted(extra))}"
        before = len(self.refused)
        probe = (
            b'{"type": "FeatureCollection", "crs": {"type": "link", "properties": '
            b'{"href": "http://127.0.0.1:9/gis-planner-probe"}}, "features": []}'
        )
        # Whether the probe itself opens is not the question: whether GDAL asked us to fetch.
        with contextlib.suppress(Exception):
            pyogrio.read_info(probe)
        if len(self.refused) == before:
            return "GDAL's HTTP client could not be replaced"
        return None

    def check(self) -> None:
        """Raise unless the hardening holds (drivers may be registered again by others)."""
        if self.problem is None:
            extra = set(pyogrio.list_drivers()) - ALLOWED_DRIVERS
            if extra:
                self.problem = f"GDAL drivers registered again: {', '.join(sorted(extra))}"
        if self.problem is not None:
            raise GisPlannerError(
                f"vector files are not read: GDAL could not be restricted to "
                f"{', '.join(sorted(ALLOWED_DRIVERS))} without network access ({self.problem})"
            )


def _is_pyogrios(lib: ctypes.CDLL) -> bool:
    """Whether ``lib`` is the GDAL pyogrio reads with: a setting made through it is seen by
    pyogrio (each loaded GDAL has settings of its own)."""
    key, token = "GIS_PLANNER_GDAL_PROBE", f"{id(lib)}:{os.getpid()}"
    lib.CPLSetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.CPLSetConfigOption(key.encode(), token.encode())
    try:
        return bool(pyogrio.get_gdal_config_option(key) == token)
    finally:
        lib.CPLSetConfigOption(key.encode(), None)


_GUARD = _Guard()
_GUARD.harden()


def require_safe_gdal() -> None:
    """Raise :class:`GisPlannerError` unless GDAL is restricted to the allowed drivers and has
    no network access."""
    _GUARD.check()


__all__ = ["ALLOWED_DRIVERS", "require_safe_gdal"]
