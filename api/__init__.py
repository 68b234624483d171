"""The HTTP API and the browser viewer of gis-planner: a thin layer over the library."""
