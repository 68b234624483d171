"""Fibre network analysis: the graph, FTTH coverage, backhaul, resilience and extensions.

``analyse_fibre`` runs everything on the store's layers; the modules hold the parts:
``graph`` (snapping into vertices and edges), ``topology`` (problems of the drawing), ``ftth``
(villages within drop distance), ``backhaul`` (paths to POPs/OLTs), ``resilience`` (single
points of failure, rings, redundancy) and ``extension`` (links to the villages left out).
"""

from gis_planner.fibre.backhaul import backhaul
from gis_planner.fibre.extension import extension_links
from gis_planner.fibre.ftth import ftth_shares, ftth_villages
from gis_planner.fibre.graph import FibreGraph, build_graph
from gis_planner.fibre.products import FibreParams, FibreProducts, analyse_fibre
from gis_planner.fibre.resilience import analyse
from gis_planner.fibre.topology import topology_problems

__all__ = [
    "FibreGraph",
    "FibreParams",
    "FibreProducts",
    "analyse",
    "analyse_fibre",
    "backhaul",
    "build_graph",
    "extension_links",
    "ftth_shares",
    "ftth_villages",
    "topology_problems",
]
