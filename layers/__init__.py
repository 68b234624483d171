"""Bundled layer data and the script that builds it."""
