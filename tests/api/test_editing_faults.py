"""Editing through crashes (slow): ``kill -9`` of the API server, then of PostgreSQL, while
operators write over HTTP. Afterwards every edit a client was told of (a 2xx) is in the store,
and none is half-applied: each row agrees with the last change of its history, and the store's
revision counts exactly the changes committed."""

from __future__ import annotations

import ctypes
import itertools
import os
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event
from types import SimpleNamespace
from typing import Any, cast

import httpx
import psycopg
import pytest

from api.settings import ApiSettings
from gis_planner.catalogue import CATALOGUE
from gis_planner.errors import StoreError
from gis_planner.jobs import editing
from gis_planner.store import GeoPackageStore, LayerStore, PostGISStore
from gis_planner.store.pgcluster import Cluster, start_cluster, stop_cluster
from gis_planner.store.pgschema import init_schema
from tests.api.conftest import key, start_server

CELLS = "/collections/cells/items"
OPERATORS = ("viettel", "vnpt")
WRITERS = 8
#: Edits acknowledged before the fault, and again after the recovery.
EDITS = 20
#: Longest wait for them (a loaded machine is slow to start a server).
WAIT_S = 120


@dataclass
class Told:
    """What the clients were told: features created (201) and the band each update left (200)."""

    created: set[str] = field(default_factory=set)
    bands: dict[str, float] = field(default_factory=dict)
    statuses: Counter[int | str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self) -> int:
        """Edits acknowledged so far."""
        with self.lock:
            return len(self.created) + len(self.bands)


def _load(store: LayerStore, sample_store: GeoPackageStore) -> dict[str, dict[str, Any]]:
    """Two cells of each operator (with their sites) into ``store``, its history emptied; a
    template feature of each operator's cells."""
    cells = sample_store.read("cells", filters={"operator": list(OPERATORS)})
    cells = cells.groupby("operator").head(2).reset_index(drop=True)
    sites = sample_store.read("sites", filters={"operator": list(OPERATORS)})
    store.write("sites", sites.merge(cells[["site_id", "operator"]].drop_duplicates()))
    store.write("cells", cells)
    assert isinstance(store, PostGISStore)
    with psycopg.connect(store.url, autocommit=True) as con:
        con.execute("DELETE FROM gis_planner_meta.audit")
    spec = CATALOGUE["cells"]
    templates = {}
    for operator in OPERATORS:
        row = cells[cells.operator == operator].head(1)
        templates[operator] = editing.as_feature(spec, editing.record_of(spec, row))
    return templates


def _writer(url: str, number: int, template: dict[str, Any], told: Told, stop: Event) -> None:
    """Create a feature, then update it, again and again until ``stop``; a request that fails
    (server or database down) is not acknowledged, and the writer goes on."""
    operator = OPERATORS[number % 2]
    with httpx.Client(base_url=url, headers=key(operator), timeout=10) as client:
        for i in itertools.count():
            if stop.is_set():
                return
            cell_id = f"F{number}-{i}"
            fid = f"{cell_id}:{operator}"
            properties = {**template["properties"], "cell_id": cell_id}
            try:
                made = client.post(CELLS, json={**template, "properties": properties})
                with told.lock:
                    told.statuses[made.status_code] += 1
                    if made.status_code == 201:
                        told.created.add(fid)
                if made.status_code != 201:
                    continue
                band = float(properties["band_mhz"]) + 1
                patched = client.patch(
                    f"{CELLS}/{fid}",
                    json={"properties": {"band_mhz": band}},
                    headers={"If-Match": made.headers["ETag"]},
                )
                with told.lock:
                    told.statuses[patched.status_code] += 1
                    if patched.status_code == 200:
                        told.bands[fid] = band
            except httpx.HTTPError as error:
                with told.lock:
                    told.statuses[type(error).__name__] += 1
                time.sleep(0.05)


def _wait_for_acknowledged(told: Told, count: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while told.acknowledged() < count:
        assert time.monotonic() < deadline, f"too few edits acknowledged: {told.statuses}"
        time.sleep(0.1)


def _write_through(
    url: str, templates: dict[str, dict[str, Any]], fault: Callable[[], None]
) -> tuple[Told, int]:
    """``WRITERS`` writers on ``url``, ``fault`` (which must recover) run once ``EDITS``
    edits were acknowledged, the writers stopped once ``EDITS`` more were after it; what they
    were told, and how many acknowledgements came after the recovery."""
    told = Told()
    stop = Event()
    threads = [
        threading.Thread(target=_writer,
                         args=(url, n, templates[OPERATORS[n % 2]], told, stop))
        for n in range(WRITERS)
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    try:
        _wait_for_acknowledged(told, EDITS)
        fault()  # while the writers write
        recovered = told.acknowledged()
        _wait_for_acknowledged(told, recovered + EDITS)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert not any(t.is_alive() for t in threads), "a writer never finished"
    after = told.acknowledged() - recovered
    print(
        f"\n{told.acknowledged()} edits acknowledged, {after} after the recovery; {told.statuses}"
    )
    return told, after


def _check_nothing_lost_or_half_applied(
    store: PostGISStore, told: Told, revision_before: int, initial: set[str]
) -> None:
    spec = CATALOGUE["cells"]
    rows = store.read("cells")
    records = {}
    for i in range(len(rows)):
        record = editing.record_of(spec, rows.iloc[[i]])
        records[editing.feature_id_of(spec, record)] = record
    changes = list(reversed(store.changes(layer="cells", limit=1_000_000)))
    chains = defaultdict(list)
    for change in changes:
        chains[change.feature_id].append(change)
    # Every acknowledged edit is there.
    assert told.created <= set(records), sorted(told.created - set(records))[:5]
    for fid, band in told.bands.items():
        assert records[fid]["band_mhz"] == band, fid
    # Each row is what the last change of its history left, each change follows the one
    # before, and no row was written without its change.
    for fid, chain in chains.items():
        assert chain[0].before is None and chain[0].action == "create", fid
        for earlier, later in itertools.pairwise(chain):
            assert earlier.after == later.before, fid
        assert chain[-1].after == records.get(fid), fid
    assert set(records) - initial == set(chains)
    # One revision per committed change, and the layer's revision is the store's last.
    assert store.revision() - revision_before == len(changes)
    assert store.layer_revisions()["cells"] == store.revision()


@pytest.mark.slow
@pytest.mark.parametrize("any_store", ["postgis"], indirect=True)
def test_kill_9_of_the_server_loses_no_acknowledged_edit(
    any_store: LayerStore,
    sample_store: GeoPackageStore,
    api_settings: ApiSettings,
    tmp_path: Path,
) -> None:
    assert isinstance(any_store, PostGISStore)
    templates = _load(any_store, sample_store)
    initial = set(editing.feature_id_of(CATALOGUE["cells"], r)
                  for r in any_store.read("cells").to_dict("records"))  # fmt: skip
    revision_before = any_store.revision()
    server = cast(Any, SimpleNamespace(path=any_store.url))
    log = tmp_path / "serve.log"
    process, url = start_server(server, api_settings, log)
    port = int(url.rsplit(":", 1)[1])
    restarted: list[Any] = []

    def kill_and_restart() -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        # The same address, so that the writers carry on against the new server.
        restarted.append(start_server(server, api_settings, log, port=port)[0])

    try:
        told, after = _write_through(url, templates, kill_and_restart)
    finally:
        for running in (process, *restarted):
            running.kill()
            running.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    assert after > 0, f"no edit acknowledged by the restarted server: {told.statuses}"
    assert told.statuses[500] == 0, told.statuses
    _check_nothing_lost_or_half_applied(any_store, told, revision_before, initial)


#: prctl's option making a process the parent of its descendants' orphans.
PR_SET_CHILD_SUBREAPER = 36


def _adopt_orphans(adopt: bool) -> None:
    """Whether this process adopts its descendants' orphans. pg_ctl leaves the postmaster to
    the machine's init; a killed one stays a zombie there if that init reaps nothing (as a
    container's may), and pg_ctl then takes it for running. Adopted, it is reaped here."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(adopt), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _postmaster(cluster: Cluster) -> int:
    return int((cluster.data_dir / "postmaster.pid").read_text().split()[0])


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A cluster of this test alone, durable as a real one (its commits flushed), since it is
    killed: the session's cluster, shared by the other tests, is left alone."""
    directory = Path(tempfile.mkdtemp(prefix="gis-planner-pg-kill-"))
    _adopt_orphans(True)
    try:
        cluster = start_cluster(directory)
        yield cluster
        postmaster = _postmaster(cluster)
        stop_cluster(directory)
        os.waitpid(postmaster, 0)
    finally:
        _adopt_orphans(False)
        stop_cluster(directory, immediate=True)
        shutil.rmtree(directory, ignore_errors=True)


def _restart(cluster: Cluster) -> None:
    """Start ``cluster`` again once the killed server's backends are gone (until then the old
    shared memory is in use and PostgreSQL refuses to start)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            start_cluster(cluster.directory)
            return
        except StoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.mark.slow
def test_kill_9_of_postgresql_loses_no_acknowledged_edit(
    own_cluster: Cluster,
    sample_store: GeoPackageStore,
    api_settings: ApiSettings,
    tmp_path: Path,
) -> None:
    url = own_cluster.url()
    init_schema(url)
    store = PostGISStore(url, assets_dir=tmp_path / "assets")
    templates = _load(store, sample_store)
    initial = set(editing.feature_id_of(CATALOGUE["cells"], r)
                  for r in store.read("cells").to_dict("records"))  # fmt: skip
    revision_before = store.revision()
    server = cast(Any, SimpleNamespace(path=url))
    process, api_url = start_server(server, api_settings, tmp_path / "serve.log")
    killed: list[int] = []

    def kill_and_restart() -> None:
        postmaster = _postmaster(own_cluster)
        os.kill(postmaster, signal.SIGKILL)
        os.waitpid(postmaster, 0)
        killed.append(postmaster)
        time.sleep(1)  # writes fail for a while
        _restart(own_cluster)

    try:
        told, after = _write_through(api_url, templates, kill_and_restart)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert killed
    assert _postmaster(own_cluster) != killed[0]
    assert after > 0, f"no edit acknowledged after PostgreSQL restarted: {told.statuses}"
    # While the database is down the server says so (503, to be tried again), not that the
    # request was wrong.
    assert {s for s in told.statuses if isinstance(s, int)} <= {200, 201, 503}, told.statuses
    store.close()
    _check_nothing_lost_or_half_applied(store, told, revision_before, initial)
