"""Defaults and vocabularies that the command line shows in its help, each defined once here.

The analyses, the catalogue, the importers and the server import them from this module, which
imports only ``typing``, so ``gis-planner --help`` can show them without loading the numeric stack.
"""

from typing import Literal

#: Radio technologies of a cell.
TECHNOLOGIES = ("2G", "3G", "4G", "5G")
#: The administrative version the villages are coded in.
VILLAGE_ADMIN_VERSION = "pre2025"
#: VN-2000 TM-3 zone 105°00' (Hà Nam, Ninh Bình); survey lists give X = northing.
VN2000_TM3_105 = "EPSG:5897"

#: The layers an operator's lists fill, with a template each.
TEMPLATE_LAYERS = ("sites", "cells", "fibre_routes", "fibre_nodes")
#: How far outside the province outline a position may lie and still be accepted: survey
#: lists round, and a border site may stand just across the line.
DEFAULT_OUTLINE_TOLERANCE_M = 2000.0

#: Effective earth radius factor of the standard atmosphere (ITU-R P.452/P.526 median k).
DEFAULT_K_FACTOR = 4.0 / 3.0

#: Where the coverage tiles run unless told otherwise: the engine's threads, no Dask.
DEFAULT_SCHEDULER = "in-process"
#: Times a failed tile task is run again on a Dask cluster before the run fails.
DEFAULT_RETRIES = 2

#: Sites of different operators this close (or on one structure) are one position.
DEFAULT_POSITION_TOLERANCE_M = 30.0
#: The longest move of a site in the consolidation plan.
DEFAULT_MERGE_DISTANCE_M = 500.0

#: How far from fibre a village still counts as reachable by a subscriber drop.
DEFAULT_DROP_M = 300.0
#: Route ends and nodes this close are joined when the fibre graph is built.
DEFAULT_SNAP_M = 5.0
#: Loose route ends this close to other fibre are reported as near misses.
DEFAULT_NEAR_MISS_M = 25.0

#: How ``gis-planner serve`` logs requests: not at all, in uvicorn's text lines, or in JSON
#: lines (time, client, method, path, status, duration).
AccessLog = Literal["off", "text", "json"]
DEFAULT_ACCESS_LOG: AccessLog = "text"
