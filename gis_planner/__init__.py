"""gis-planner: telecom infrastructure planning GIS for a Vietnamese province."""

__version__ = "0.1.0"
