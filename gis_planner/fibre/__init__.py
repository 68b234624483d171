"""Fibre network analysis: the graph, FTTH coverage, backhaul, resilience and extensions."""
