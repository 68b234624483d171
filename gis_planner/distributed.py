"""Where the coverage tiles run: in this process, on a local Dask cluster, or on a remote one.

The engine cuts a coverage run into picklable tile tasks (``coverage.engine.TileTask``); a
cluster runs them as Dask tasks and hands the tiles back in the tasks' order, to the same
writer as in-process tiles, so the rasters are the same to the bit wherever they were computed.
Dask is optional (``pip install 'gis-planner[national]'``): it is imported only when a cluster
is asked for, so a province run needs none of it.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gis_planner.coverage.engine import CoverageTile, PackedTile, TileRunner, TileTask, run_packed
from gis_planner.coverage.scene import Scene
from gis_planner.coverage.terrain import Masts
from gis_planner.defaults import DEFAULT_RETRIES, DEFAULT_SCHEDULER
from gis_planner.errors import GisPlannerError
from gis_planner.mapped import Mapped, publish, release

if TYPE_CHECKING:
    from distributed import Client

#: The default scheduler: the engine's own threads (``--workers``), no Dask.
IN_PROCESS = DEFAULT_SCHEDULER
#: Batches computing while the oldest is gathered: where the client shares the workers' cores
#: (a local cluster), it gathers only when the system gives it a turn, and with one batch
#: ahead the workers waited for it.
_IN_FLIGHT = 4
#: Windows a batch holds at most, empty ones included.
_MAX_BATCH = 32
#: A task and whether it goes to the cluster (its mask holds a pixel).
_Task = tuple[TileTask, bool]
_LOCAL = re.compile(r"local:(\d+)")
#: A host name, an IPv4 address or a bracketed IPv6 one, and a port.
_ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):\d+")


@dataclass(frozen=True)
class Scheduler:
    """A scheduler named as ``--scheduler`` takes it: ``in-process``, ``local:N`` (a Dask
    ``LocalCluster`` of N worker processes) or a running scheduler's ``tcp://host:port``."""

    kind: Literal["in-process", "local", "remote"]
    workers: int = 0
    address: str | None = None

    @classmethod
    def parse(cls, text: str) -> Scheduler:
        if text == IN_PROCESS:
            return cls("in-process")
        if match := _LOCAL.fullmatch(text):
            workers = int(match.group(1))
            if workers < 1:
                raise GisPlannerError(f"a local cluster needs at least one worker: {text!r}")
            return cls("local", workers=workers)
        if _ADDRESS.fullmatch(text):
            return cls("remote", address=text)
        raise GisPlannerError(
            f"không hiểu bộ lập lịch {text!r} / unknown scheduler {text!r}: "
            f"expected {IN_PROCESS}, local:N or tcp://host:port"
        )


@contextmanager
def tile_runner(
    scheduler: Scheduler,
    on_dashboard: Callable[[str], None] | None = None,
    retries: int = DEFAULT_RETRIES,
) -> Iterator[TileRunner | None]:
    """The runner of the tile tasks on ``scheduler``, for the length of the ``with`` block.

    In-process gives ``None`` (the engine runs the tiles itself); a cluster gives a runner and
    ``on_dashboard`` is told the link to its dashboard. On a cluster a task that fails is run
    again up to ``retries`` times (a worker that dies has its tasks moved to the others by
    Dask itself). A local cluster is shut down at the end of the block; a remote one is only
    disconnected from.
    """
    if retries < 0:
        raise GisPlannerError(f"retries must be 0 or more, not {retries}")
    if scheduler.kind == "in-process":
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise GisPlannerError(
            "--scheduler other than in-process needs Dask: pip install 'gis-planner[national]'"
        ) from error
    with ExitStack() as stack:
        if scheduler.kind == "local":
            # One thread a worker: the kernel is numba code that keeps a core busy, and
            # processes give each its own, whatever the GIL does in the rest of a task.
            # Errors only: at shutdown the nanny warns of workers it stops, which is no news.
            cluster = LocalCluster(
                n_workers=scheduler.workers,
                threads_per_worker=1,
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            )
            stack.enter_context(cluster)
            # Tiles straight from the workers: through the scheduler (which runs in this
            # process) each tile was pickled in-band at protocol 4 and sent twice, and a
            # worker spent three times a tile's computation handing it over.
            client = stack.enter_context(Client(cluster, direct_to_workers=True))
        else:
            client = stack.enter_context(Client(scheduler.address))
        if on_dashboard is not None and client.dashboard_link:
            on_dashboard(client.dashboard_link)
        # The scenes' files of a local cluster, released at the end of each run and, should a
        # run's tiles be left unread (its generator kept alive by an error), here.
        published: list[Mapped] | None = None
        if scheduler.kind == "local":
            published = []
            stack.callback(_release, published)
        yield lambda tasks: _on_cluster(client, tasks, retries, published)


def _on_cluster(
    client: Client, tasks: Iterator[TileTask], retries: int, published: list[Mapped] | None
) -> Iterator[CoverageTile]:
    """The tiles of ``tasks`` computed on ``client``'s cluster, yielded in the tasks' order.

    Tasks go in batches of the cluster's thread count (``client.map``), ``_IN_FLIGHT`` batches
    computing while the oldest is gathered and written, so that the tiles held waiting stay few
    whatever the size of the grid. The scenes and masts, the same in every task of a run and
    the bulk of one, reach each worker once, not with every task: on a local cluster (given
    ``published``, where their files are listed) through a memory-mapped file that every
    worker maps (``gis_planner.mapped``; sent to two workers over TCP, a country's scenes took
    5.6 s before the first tile), on another one sent to each worker. The tiles come back over
    TCP, even from a local cluster: written to shared memory instead, they cost the workers as
    much CPU as sending them (3 s for a country's 6 GB at 100 m). A window with an empty mask
    has nothing to compute: its tile is made here, not sent for (most of a country's grid is
    sea or a neighbour's land), and batches count only the tasks that go (up to
    ``_MAX_BATCH`` windows, empty ones included).

    Dask's active memory manager keeps one copy of what was broadcast, and data sent from the
    client cannot be computed again: when the worker holding it dies, the batches that needed
    it are cancelled. They are then sent again with the scenes.
    """
    from distributed.utils import CancelledError

    size = max(sum(client.nthreads().values()), 1)
    #: Each batch in flight: its tasks, the futures of those sent and the scenes' future.
    pending: deque[tuple[list[_Task], list[Any], Any]] = deque()
    sent: tuple[tuple[Scene, ...], Masts | None, Any] | None = None

    def submit(batch: list[_Task]) -> tuple[list[_Task], list[Any], Any]:
        nonlocal sent
        busy = [task for task, computed in batch if computed]
        if not busy:
            return batch, [], None
        first = busy[0]
        if sent is None or not _same(sent[0], first.scenes) or sent[1] is not first.masts:
            if published is not None:
                shared: Any = publish((first.scenes, first.masts))
                published.append(shared)
            else:
                # A list of one: scatter would send a tuple's items apart.
                # Not hashed: tokenizing a country's scenes took 0.4 s of the client's CPU,
                # for a key nothing looks up again.
                [shared] = client.scatter([(first.scenes, first.masts)], broadcast=True, hash=False)
            sent = (first.scenes, first.masts, shared)
        light = [dataclasses.replace(task, scenes=(), masts=None) for task in busy]
        futures = client.map(_run_light, light, shared=sent[2], pure=False, retries=retries)
        return batch, futures, sent[2]

    def gathered(batch: list[_Task], futures: list[Any], shared: Any) -> Iterator[CoverageTile]:
        nonlocal sent
        for _ in range(retries):
            try:
                packed: list[PackedTile] = client.gather(futures)
                break
            except CancelledError:
                if sent is not None and sent[2] is shared and not isinstance(shared, Mapped):
                    sent = None  # lost: sent again with the batch (once for the batches after)
                batch, futures, shared = submit(batch)
        else:
            packed = client.gather(futures)
        back = iter(packed)
        for task, computed in batch:
            tile = next(back) if computed else PackedTile.empty(len(task.scenes))
            yield tile.unpacked(task.window, task.mask)

    try:
        for batch in _batches(tasks, size):
            pending.append(submit(batch))
            if len(pending) > _IN_FLIGHT:
                yield from gathered(*pending.popleft())
        while pending:
            yield from gathered(*pending.popleft())
    finally:
        if published is not None:
            _release(published)


def _run_light(
    task: TileTask, shared: tuple[tuple[Scene, ...], Masts | None] | Mapped
) -> PackedTile:
    """A task's tile on a worker, packed (the client holds its mask); the task's scenes and
    masts given back from what was sent, or from the file they were published in."""
    scenes, masts = shared.load() if isinstance(shared, Mapped) else shared
    return run_packed(dataclasses.replace(task, scenes=scenes, masts=masts))


def _release(published: list[Mapped]) -> None:
    while published:
        release(published.pop())


def _same(sent: tuple[Scene, ...], scenes: tuple[Scene, ...]) -> bool:
    # Each task gets its own tuple of the run's scenes: the scenes themselves are the same.
    return len(sent) == len(scenes) and all(a is b for a, b in zip(sent, scenes, strict=True))


def _batches(tasks: Iterable[TileTask], size: int) -> Iterator[list[_Task]]:
    """``tasks`` in batches of ``size`` with something to compute and the empty ones between,
    each task with whether it is computed; at most ``_MAX_BATCH`` windows a batch, so that a
    long run of sea holds few masks."""
    batch: list[_Task] = []
    busy = 0
    for task in tasks:
        computed = bool(task.mask.any())
        batch.append((task, computed))
        busy += computed
        if busy == size or len(batch) == _MAX_BATCH:
            yield batch
            batch, busy = [], 0
    if batch:
        yield batch
