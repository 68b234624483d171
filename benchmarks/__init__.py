"""Benchmarks: each prints its figures and a ratio against a baseline run in the same process.

They run on the former Hà Nam sample, whose figures the README reports, unless
``GIS_PLANNER_SAMPLE`` names another (``ninhbinh``: the whole new province).
"""

import os

os.environ.setdefault("GIS_PLANNER_SAMPLE", "hanam")
