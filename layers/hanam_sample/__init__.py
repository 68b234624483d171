"""The Hà Nam sample's own pieces: its administrative build and its part's parameters."""
