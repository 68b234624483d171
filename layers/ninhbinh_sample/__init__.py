"""Builders of the whole new Ninh Bình province sample: its units and its two new parts."""
