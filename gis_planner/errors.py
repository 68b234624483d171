"""Errors as types: each carries what a user needs to find and fix the problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class GisPlannerError(Exception):
    """Base of every error the library raises on purpose."""


class UnknownLayer(GisPlannerError, KeyError):
    """A layer name that is not in the catalogue, or not in a store."""

    def __init__(self, name: str, where: str = "the catalogue") -> None:
        self.name = name
        self.where = where
        super().__init__(f"unknown layer {name!r} in {where}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


class LayerValidationError(GisPlannerError):
    """A frame broke the catalogue's rules; ``problems`` lists row, field, value and reason."""

    def __init__(self, layer: str, problems: pd.DataFrame, source: str | None = None) -> None:
        self.layer = layer
        self.problems = problems
        self.source = source
        first = problems.iloc[0]
        where = f"{source}: " if source else ""
        super().__init__(
            f"{where}{len(problems)} problem(s) in layer {layer!r}; first: row {first['row']}, "
            f"field {first['field']!r}, value {first['value']!r}: {first['message']}"
        )


class StoreError(GisPlannerError):
    """The store could not be opened, read or written."""


class StoreUnavailable(StoreError):
    """The store's database server cannot be reached now (down, restarting, the connection
    lost): nothing was done, and the same request may succeed later."""
