"""The national data layout: a store's layers and coverage rasters cut by province, for a cluster.

A national run reads its inputs province by province, on as many machines as there are: the
layout (``gis-planner export-national``, ``gis_planner.jobs.national``) is the store cut that
way, in formats every worker, QGIS and the API read without the store::

    OUT/
      collection.json                      the STAC collection (the national layer)
      items/province-{code}.json           one STAC item a province: its partitions, its COGs
      layers/{layer}/province={code}/part.parquet
      coverage/{scope}/province={code}/{raster}.tif
      coverage/{scope}/{raster}.vrt        the national mosaic of each raster, one layer

- **Vector layers**: every layer with a geometry, one GeoParquet file a province (hive
  partitions, ``layout.vectors``). A feature goes to the province holding its representative
  point (a point on a border to the lower code), so each row is in one partition only; the
  rows of no province go to ``province=__HIVE_DEFAULT_PARTITION__``, which pyarrow reads as a
  null province. The files carry the GeoParquet metadata and a bbox column, so that a reader
  takes the features near a border from the neighbouring partitions by bbox.
- **Rasters**: each raster of a coverage product cut into one COG a province: the window of the
  product's grid over the province's bounds, the same pixels to the bit (``layout.rasters``);
  the windows of neighbours overlap, and pixels of the product that no province's window
  holds go to a COG of their own (``__HIVE_DEFAULT_PARTITION__``). A GDAL VRT mosaics them back
  into the product's grid: reading it gives the product.
- **Catalogue**: a STAC collection (``layout.stac``) with an item a province, whose assets are
  its partitions and COGs (projection and raster extensions), and the mosaics as the
  collection's assets.

Work across borders reads a province's partition and, by bbox, its neighbours' features near
it: ``layout.sharing`` computes the positions that way, the same as over the whole country.
"""

from __future__ import annotations

import re

from gis_planner.errors import GisPlannerError

#: The column the layout is partitioned by (hive: ``province=CODE`` directories).
PARTITION = "province"
#: The partition of features and pixels that no province holds: pyarrow's name for a null key.
OUTSIDE = "__HIVE_DEFAULT_PARTITION__"
#: Folders of the layout.
LAYERS_DIR = "layers"
COVERAGE_DIR = "coverage"
ITEMS_DIR = "items"
#: The STAC collection at the root of a layout.
COLLECTION_FILE = "collection.json"
#: The file of one partition of a layer.
PART_FILE = "part.parquet"


#: A province code as a folder name: an admin import may hold any text in ``code``, and a
#: separator or ``..`` there would write outside the layout.
_SAFE_CODE = re.compile(r"[0-9A-Za-z_-]+")


def partition_dir(code: str | None) -> str:
    """The directory name of a province's partition (``province=CODE``)."""
    if code and not _SAFE_CODE.fullmatch(code):
        raise GisPlannerError(
            f"mã tỉnh {code!r} không dùng làm tên thư mục được / province code {code!r} cannot "
            "name a partition folder (letters, digits, '-' and '_' only)"
        )
    return f"{PARTITION}={code if code else OUTSIDE}"
