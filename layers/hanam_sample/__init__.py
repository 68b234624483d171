"""Deterministic builders of the bundled Hà Nam sample, one module per group of layers."""
