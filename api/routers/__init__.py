"""One router per concern: features, tiles, rasters, analysis, viewer."""
