"""Zip archives a user gives (workbooks, KMZ, zipped shapefiles), inflated here and counted.

A few MB of deflated text can inflate to gigabytes, and a zip can be made to read one way in
Python and another in a reader's own zip code (two end records, say). So an archive's parts
are inflated here, counted against a bound as they inflate (not taken from their headers),
and the readers are given those bytes: the very parts that were counted and checked.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gis_planner.errors import GisPlannerError

#: Bytes read from a part at a time.
CHUNK_BYTES = 1 << 24


class ArchiveTooLarge(GisPlannerError):
    """An archive whose parts inflate past the bound of what reads it."""


@dataclass
class Inflation:
    """The parts of the archive ``path`` inflated so far, against ``limit_bytes``."""

    path: Path
    limit_bytes: int
    inflated_bytes: int = 0

    def chunks(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The bytes of one part as they inflate; ``ArchiveTooLarge`` past the bound."""
        with archive.open(info) as part:
            while chunk := part.read(CHUNK_BYTES):
                self.inflated_bytes += len(chunk)
                if self.inflated_bytes > self.limit_bytes:
                    raise ArchiveTooLarge(
                        f"{self.path}: inflates to more than {self.limit_bytes >> 20:,} MiB "
                        f"(at {info.filename}); refused"
                    )
                yield chunk
