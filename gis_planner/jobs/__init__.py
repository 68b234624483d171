"""Jobs: each one reads its layers from the store, runs the analyses and writes the products.

One module a job (``importing``, ``coverage``, ``sharing``, ``hosting``, ``siting``, ``fibre``,
``indicators``, ``report``, ``national`` for the national data layout, and ``overview`` for the
inventory and the overview map), each with a frozen, picklable spec and a function of
``(spec, store)`` returning what it made. The CLI
and the API only build a spec, run it and present the result; the analyses below never see the
store. Import the module you need (``from gis_planner.jobs import sharing``): the package does
not import them all, so a child process importing a file loads no plotting or solver.
"""
