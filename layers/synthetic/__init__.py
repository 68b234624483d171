"""Generators of the samples' synthetic layers, driven by each former province's parameters."""
