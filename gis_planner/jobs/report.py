"""The report job: the indicators report (HTML per language) and its tables (XLSX)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gis_planner.errors import GisPlannerError
from gis_planner.i18n import Lang
from gis_planner.report import write_report
from gis_planner.store import LayerStore

FIGURE_COLUMNS = ("key", "value", "as_of", "source")


@dataclass(frozen=True)
class ReportSpec:
    out_dir: Path
    langs: tuple[Lang, ...] = ("vi", "en")
    #: CSV of entered figures: key, value, as_of, source.
    figures: Path | None = None
    #: The area of one unit (admin version, code) to report on; default the whole store.
    area: tuple[str, str] | None = None


@dataclass(frozen=True)
class ReportResult:
    #: ``report_<lang>.html``, one a language of the spec, in its order.
    html: tuple[Path, ...]
    xlsx: Path


def run(spec: ReportSpec, store: LayerStore) -> ReportResult:
    # The figures first: a bad file stops the job before anything is written.
    entered = read_figures(spec.figures) if spec.figures else None
    files = [
        write_report(store, spec.out_dir, lang=lang, figures=entered, area=spec.area)
        for lang in spec.langs
    ]
    return ReportResult(tuple(f.html for f in files), files[-1].xlsx)


def read_figures(path: Path) -> pd.DataFrame:
    """Entered figures (CSV with key, value, as_of, source); errors name the file and row."""
    try:
        figures = pd.read_csv(path, dtype={"key": str, "as_of": str, "source": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise GisPlannerError(f"{path}: cannot read the figures: {error}") from None
    missing = [c for c in FIGURE_COLUMNS if c not in figures.columns]
    if missing:
        raise GisPlannerError(f"{path}: missing columns {', '.join(missing)}")
    values = pd.to_numeric(figures["value"], errors="coerce")
    bad = figures.index[values.isna() & figures["value"].notna()]
    if len(bad):
        row = int(bad[0]) + 2  # the header is line 1
        raise GisPlannerError(
            f"{path}, row {row}, field value: {figures.loc[bad[0], 'value']!r} is not a number"
        )
    return figures.assign(value=values)
