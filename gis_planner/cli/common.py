"""Options and helpers shared by the CLI commands: the store, the language, the operator, the
CRS, where outputs go, and one way to stop with a message and a hint."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from gis_planner.errors import GisPlannerError, UnknownLayer
from gis_planner.i18n import Lang, env_lang, translate
from gis_planner.operators import MOBILE_OPERATORS, normalise_operator_name, operator

if TYPE_CHECKING:
    from gis_planner.store import LayerStore

console = Console()
err_console = Console(stderr=True)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store", help="Layer store (.gpkg); default GIS_PLANNER_STORE or output/ninhbinh.gpkg."
    ),
]
LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang", help="Language of labels and messages: vi or en (default: LANG, else vi)."
    ),
]

#: The language of this run's messages, once the command line has been read (None: not given).
_chosen: list[Lang | None] = [None]


def choose_lang(lang: Lang | None) -> None:
    _chosen[0] = lang


def ui_lang() -> Lang:
    """The language of messages, help and table headers: ``--lang``, else the environment's
    (``GIS_PLANNER_LANG``, a ``vi_VN`` locale), else English."""
    return _chosen[0] or env_lang() or "en"


def t(text: str) -> str:
    """``text`` in the language of this run's messages."""
    return translate(text, ui_lang())


def lang_from(value: str | None) -> Lang:
    """The language of labels in products: ``--lang``, else the environment's, else vi."""
    if value is None:
        return _chosen[0] or env_lang() or "vi"
    if value not in ("vi", "en"):
        raise typer.BadParameter(t("--lang must be vi or en"))
    return "vi" if value == "vi" else "en"


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Stop the command: the message and a hint on stderr, exit code 2."""
    err_console.print(f"[red]{t('error')}:[/red] {escape(message)}", soft_wrap=True)
    if hint:
        err_console.print(f"[yellow]{t('hint')}:[/yellow] {escape(hint)}", soft_wrap=True)
    raise typer.Exit(2)


def store_from(path: Path | None, *, create: bool = False) -> LayerStore:
    """The store of ``--store`` (default: the settings'). A GeoPackage that does not exist is
    an error, with a hint, unless the command is one that ``create``\\ s it."""
    from gis_planner.settings import get_settings
    from gis_planner.store import is_postgis_url, open_store

    uri = path or get_settings().store
    store = open_store(uri)  # a wrong kind of name is the store's error first
    if not create and not is_postgis_url(uri) and not Path(uri).exists():
        fail(
            t("no such store: {uri}").format(uri=uri),
            t(
                "`gis-planner init --store {uri}` builds it from the bundled sample; "
                "`gis-planner import LAYER FILE --store {uri}` from your own files"
            ).format(uri=uri),
        )
    return store


def required_layers(store: LayerStore, names: tuple[str, ...]) -> None:
    """Stop with a hint when the store is empty or lacks one of ``names``."""
    present = {info.name for info in store.list_layers()}
    if not present:
        fail(
            t("the store {uri} is empty").format(uri=store.uri),
            t("run `gis-planner init --store {uri}` (the bundled sample) or import your layers "
              "with `gis-planner import LAYER FILE --store {uri}`").format(uri=store.uri),
        )  # fmt: skip
    for name in names:
        if name not in present:
            fail(
                t("the store {uri} has no layer {name!r}").format(uri=store.uri, name=name),
                t("import it: `gis-planner import {name} FILE --store {uri}`").format(
                    name=name, uri=store.uri
                ),
            )


def output_dir(out: Path | None, store: LayerStore) -> Path:
    """Where a command writes its files: ``--out``, else ``GIS_PLANNER_OUTPUT_DIR``, else
    beside a GeoPackage store, else ``output`` under the current directory; never the
    package's own tree."""
    if out is not None:
        return out
    from gis_planner.settings import get_settings

    settings = get_settings()
    if "output_dir" in settings.model_fields_set:
        return settings.output_dir
    path = getattr(store, "path", None)
    if isinstance(path, Path):
        return path.parent
    return Path.cwd() / "output"


def operator_key(value: str, option: str = "--operator", *, mobile: bool = False) -> str:
    """The registry key of an operator named on the command line.

    Only a known spelling is taken (``vina``, ``VNPT-VinaPhone``): a name the importer would
    read by its prefix ("Viettel Hà Nam") is refused here, where a typo ("viettell") is more
    likely than a branch name, with the nearest operator as a suggestion.
    """
    from gis_planner.i18n import fold_key

    key = normalise_operator_name(value)
    if key is not None:
        entry = operator(key)
        known = {fold_key(s) for s in (entry.key, entry.name, *entry.aliases)}
        if fold_key(value) not in known:
            key = None
    if key is None:
        from gis_planner.io.vocabulary import suggest_operator

        near = suggest_operator(value)
        hint = t("did you mean {near}?").format(near=near) if near else None
        fail(t("{option} {value!r}: unknown operator").format(option=option, value=value), hint)
    if mobile and key not in MOBILE_OPERATORS:
        fail(
            t("{option} {value!r} is not a mobile operator").format(option=option, value=value),
            t("mobile operators: {keys}").format(keys=", ".join(MOBILE_OPERATORS)),
        )
    return key


def crs_option(value: str, option: str = "--crs", *, metric: bool = False) -> str:
    """``value`` if pyproj knows it (and, with ``metric``, it is projected in metres)."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    example = t("e.g. EPSG:5897 (VN-2000 / TM-3 105°45′) or EPSG:32648 (UTM 48N)")
    try:
        parsed = CRS.from_user_input(value)
    except CRSError:
        fail(t("{option} {value!r}: unknown CRS").format(option=option, value=value), example)
    if metric and not (
        parsed.is_projected and all(a.unit_name in ("metre", "meter") for a in parsed.axis_info)
    ):
        fail(
            t("{option} {value!r} is not a projected CRS in metres").format(
                option=option, value=value
            ),
            example,
        )
    return value


def bbox_option(
    text: str | None, option: str = "--bbox"
) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in degrees."""
    if text is None:
        return None
    try:
        values = tuple(float(p) for p in text.replace(";", ",").split(","))
    except ValueError:
        fail(t("{option} {text!r}: expected four numbers").format(option=option, text=text))
    if len(values) != 4:
        fail(
            t("{option} {text!r}: expected west,south,east,north").format(option=option, text=text)
        )
    west, south, east, north = values
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        fail(
            t("{option} {text!r}: expected west < east and south < north, in degrees").format(
                option=option, text=text
            )
        )
    return west, south, east, north


def error_hint(error: GisPlannerError) -> str | None:
    """What to do about a library error, where the command line knows."""
    if isinstance(error, UnknownLayer) and error.where != "the catalogue":
        return t(
            "`gis-planner init --store {where}` loads the bundled sample; "
            "`gis-planner import {name} FILE --store {where}` your own {name}"
        ).format(where=error.where, name=error.name)
    return None


def _lang_in(args: list[str]) -> Lang | None:
    """The ``--lang`` given anywhere on the command line (vi or en), if any."""
    for index, arg in enumerate(args):
        value = None
        if arg == "--lang" and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value in ("vi", "en"):
            return "vi" if value == "vi" else "en"
    return None


def _translate_help(command: Any, lang: Lang) -> None:
    for owner in (command, *command.params):
        for attribute in ("help", "short_help"):
            text = getattr(owner, attribute, None)
            if text:
                setattr(owner, attribute, translate(text, lang))
    for sub in getattr(command, "commands", {}).values():
        _translate_help(sub, lang)


class LocalisedGroup(TyperGroup):
    """The command line's group: help and messages in the language asked for (``--lang`` or
    the environment), and library errors as one line with a hint and exit code 2."""

    def main(self, args: Any = None, *pos: Any, **kwargs: Any) -> Any:
        import sys

        given = list(sys.argv[1:] if args is None else args)
        choose_lang(_lang_in(given))
        lang = ui_lang()
        if lang == "vi":
            _translate_help(self, lang)
        return super().main(self._lang_for_the_command(given), *pos, **kwargs)

    def _lang_for_the_command(self, args: list[str]) -> list[str]:
        """``args`` without a ``--lang`` after a command that has no such option of its own:
        the language is read from the whole line already, and any command accepts it."""
        start = next((i for i, arg in enumerate(args) if arg in self.commands), None)
        if start is None or any(p.name == "lang" for p in self.commands[args[start]].params):
            return args
        kept, skip = args[: start + 1], False
        for index, arg in enumerate(args[start + 1 :], start + 1):
            if skip:
                skip = False
            elif arg == "--lang" and index + 1 < len(args):
                skip = True
            elif not arg.startswith("--lang="):
                kept.append(arg)
        return kept

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except GisPlannerError as error:
            fail(str(error), error_hint(error))
