"""Coverage: best-server, SINR and server-count rasters per operator and technology."""

from gis_planner.operators import OPERATORS

#: Operator codes of the composite's "best operator" band (0 = none).
OPERATOR_CODES: dict[str, int] = {op.key: i + 1 for i, op in enumerate(OPERATORS) if op.mobile}
