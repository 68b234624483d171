"""Coverage: best-server, SINR and server-count rasters per operator and technology."""
