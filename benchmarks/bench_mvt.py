"""MVT throughput against a baseline commit (issue 12), both servers measured in one run by wrk.

Target: MVT throughput unchanged from the code before the security work (current / baseline
≥ 0.95), and with 8 connections ≥ 1,000 tiles/s here. Baseline in this run: commit ``cd586d3``
(``--baseline`` picks another), extracted with ``git archive`` into a temporary directory, whose
own loader builds its store from its own copy of the sample (``GIS_PLANNER_SAMPLE``, by
default Hà Nam; a baseline without that sample's folder is refused: the whole province's
``layers/ninhbinh`` came after ``cd586d3``, so compare it with ``--baseline`` of a later commit);
the current store is built by this code. Each server is ``gis-planner serve`` of its code tree,
in a child process on loopback, no API keys. The servers take turns, ROUNDS each: start, a
first pass requesting every tile of the list once on MVT_CLIENTS connections (the tiles are
computed and fill the server's tile cache; its time is reported), DURATION_S of wrk measured
(tiles from the cache), stop. The load is wrk (a C load generator, ``apt-get install wrk``)
cycling through every tile of the sites layer at bench_api's zooms; the table holds the medians
of the rounds and the load average, which matters on a machine of 2 cores.
Run: ``[GIS_PLANNER_SAMPLE=ninhbinh] python -m benchmarks.bench_mvt [--baseline COMMIT]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import gis_planner
from benchmarks.bench_api import ZOOMS, _at_least, _fetch, _free_port, _tiles
from benchmarks.bench_security import MVT_CLIENTS, MVT_TILES_PER_S
from benchmarks.harness import print_table
from gis_planner.sample import load_sample
from gis_planner.settings import get_settings
from gis_planner.store import GeoPackageStore

#: The code before the security work.
BASELINE = "cd586d3"
#: Current / baseline throughput at or above this is "unchanged" (run-to-run noise is ~5 %).
RATIO_MIN = 0.95
ROUNDS = 3
DURATION_S = 15
THREADS = 2
#: wrk's limit on one answer: a slow tile is measured, not dropped as a socket error.
TIMEOUT_S = 10
#: The code tree this process imports: the one that builds the current store and serves it.
CURRENT = Path(gis_planner.__file__).resolve().parents[1]
#: Builds a store from a sample, run with the PYTHONPATH of the baseline's tree.
LOADER = """
import sys
from pathlib import Path

import gis_planner
from gis_planner.sample import load_sample
from gis_planner.store import GeoPackageStore

tree, store, sample = (Path(arg) for arg in sys.argv[1:])
if not Path(gis_planner.__file__).resolve().is_relative_to(tree.resolve()):
    sys.exit(f"gis_planner imported from {gis_planner.__file__}, not from {tree}")
load_sample(GeoPackageStore(store), sample)
"""
SERVE = "from gis_planner.cli import main; main()"
#: One Lua state per wrk thread: each starts at its own place in the list and cycles through it.
WRK_SCRIPT = """
paths = {{
{paths}
}}
local threads = 0
function setup(thread)
  thread:set("index", threads * math.floor(#paths / {threads}))
  threads = threads + 1
end
function init(args)
  requests = {{}}
  for k, path in ipairs(paths) do
    requests[k] = wrk.format(nil, path)
  end
end
function request()
  index = index % #paths + 1
  return requests[index]
end
"""


@dataclass(frozen=True)
class Run:
    requests_per_s: float
    p99_ms: float
    #: The first pass over the list, every tile computed: its wall time.
    first_pass_s: float = float("nan")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=CURRENT, check=True, capture_output=True, text=True
    ).stdout.strip()


def _extract(commit: str, tree: Path) -> None:
    """``git archive <commit> | tar -x -C <tree>``."""
    tree.mkdir()
    archive = subprocess.Popen(["git", "archive", commit], cwd=CURRENT, stdout=subprocess.PIPE)
    assert archive.stdout is not None
    tar = subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout, check=False)
    archive.stdout.close()
    if archive.wait() != 0 or tar.returncode != 0:
        raise RuntimeError(f"could not extract {commit} into {tree}")


def _env(tree: Path) -> dict[str, str]:
    """This environment without any GIS_PLANNER_* setting (so no API keys), importing ``tree``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_PLANNER_")}
    # Packages installed outside the venv (``pip install --target``) stay importable; the
    # current tree never leaks into the baseline's.
    inherited = [
        p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != CURRENT
    ]
    return {**env, "PYTHONPATH": os.pathsep.join([str(tree), *inherited])}


def _start(tree: Path, store: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``gis-planner serve`` of the code in ``tree``, once it answers: (server, port)."""
    port = _free_port()
    command = [sys.executable, "-c", SERVE, "serve", "--store", str(store), "--port", str(port)]
    return _launch(command, tree, _env(tree), log, port), port


def _launch(
    command: list[str], cwd: Path, env: dict[str, str], log: Path, port: int
) -> subprocess.Popen[bytes]:
    """A server ``command`` listening on ``port``, output appended to ``log``, once it answers
    ``/conformance`` (gis-planner and tipg both serve it)."""
    with log.open("ab") as out:
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            _fetch((port, ["/conformance"]))
            return server
        except (OSError, RuntimeError) as error:
            if time.monotonic() > deadline or server.poll() is not None:
                _stop(server)
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{' '.join(command[:3])} did not answer: {tail}") from error
            time.sleep(0.2)


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=15)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def _wrk(wrk: str, port: int, script: Path, seconds: int) -> Run:
    """One wrk run at MVT_CLIENTS connections; every answer must be a 2xx."""
    output = subprocess.run(
        [wrk, f"-t{THREADS}", f"-c{MVT_CLIENTS}", f"-d{seconds}s", f"--timeout={TIMEOUT_S}s",
         "--latency", "-s", str(script), f"http://127.0.0.1:{port}"],
        check=True, capture_output=True, text=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failed requests:\n{output}")
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", output, re.MULTILINE)
    if rate is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return Run(float(rate.group(1)), _ms(*p99.groups()))


def _first_pass(port: int, paths: list[str]) -> float:
    """Seconds to request every path once, over MVT_CLIENTS keep-alive connections sharing the
    list: the tiles are computed, and every one is in the server's tile cache afterwards."""
    shares = [(port, paths[i::MVT_CLIENTS]) for i in range(MVT_CLIENTS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(MVT_CLIENTS) as pool:
        list(pool.map(_fetch, shares))
    return time.perf_counter() - started


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _measure(wrk: str, baseline: str, work: Path) -> tuple[int, dict[str, list[Run]]]:
    """Both stores built, then the servers in turn; (number of tiles, the runs of each)."""
    sample = get_settings().sample_dir
    old_tree, old_store = work / "baseline", work / "baseline.gpkg"
    _extract(baseline, old_tree)
    old_sample = old_tree / "layers" / sample.name
    if not old_sample.is_dir():
        sys.exit(f"bench_mvt: {baseline} has no layers/{sample.name}: pass a later --baseline")
    store = GeoPackageStore(work / "current.gpkg")
    load_sample(store, sample)
    subprocess.run(
        [sys.executable, "-c", LOADER, str(old_tree), str(old_store), str(old_sample)],
        cwd=old_tree, env=_env(old_tree), check=True, timeout=600,
    )  # fmt: skip

    sites = next(i for i in store.list_layers() if i.name == "sites")
    assert sites.bounds is not None
    paths = [f"/tiles/sites/{z}/{x}/{y}.mvt" for z, x, y in _tiles(sites.bounds)]
    script = work / "tiles.lua"
    listed = ",\n".join(f'  "{path}"' for path in paths)
    script.write_text(WRK_SCRIPT.format(paths=listed, threads=THREADS))

    servers = {"baseline": (old_tree, old_store), "current": (CURRENT, store.path)}
    runs: dict[str, list[Run]] = {name: [] for name in servers}
    for round_ in range(ROUNDS):
        for name, (tree, path) in servers.items():
            server, port = _start(tree, path, work / f"{name}.log")
            try:
                first_pass_s = _first_pass(port, paths)
                run = replace(_wrk(wrk, port, script, DURATION_S), first_pass_s=first_pass_s)
            finally:
                _stop(server)
            runs[name].append(run)
            print(
                f"round {round_ + 1}/{ROUNDS} {name}: first pass {first_pass_s:.1f} s "
                f"({len(paths) / first_pass_s:.0f} tiles/s), then {run.requests_per_s:.0f} "
                f"tiles/s, p99 {run.p99_ms:.1f} ms",
                flush=True,
            )
    return len(paths), runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help="commit to compare with")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench_mvt needs wrk, a C HTTP load generator: apt-get install wrk")
    try:
        baseline = _git("rev-parse", "--short", "--verify", f"{args.baseline}^{{commit}}")
    except subprocess.CalledProcessError:
        sys.exit(f"bench_mvt: {args.baseline!r} is not a commit of {CURRENT}")
    current = _git("rev-parse", "--short", "HEAD")
    load_before = _load_average()

    with tempfile.TemporaryDirectory(prefix="bench_mvt_") as work:
        tiles, runs = _measure(wrk, baseline, Path(work))

    rate = {name: statistics.median(r.requests_per_s for r in rs) for name, rs in runs.items()}
    p99 = {name: statistics.median(r.p99_ms for r in rs) for name, rs in runs.items()}
    first = {name: statistics.median(r.first_pass_s for r in rs) for name, rs in runs.items()}
    ratio = rate["current"] / rate["baseline"]
    label = {"baseline": f"baseline {baseline}", "current": f"current {current} (working tree)"}

    rows: list[tuple[object, ...]] = []
    for name in ("baseline", "current"):
        rates = ", ".join(f"{r.requests_per_s:.0f}" for r in runs[name])
        p99s = ", ".join(f"{r.p99_ms:.1f}" for r in runs[name])
        firsts = ", ".join(f"{r.first_pass_s:.1f}" for r in runs[name])
        rows += [
            (
                f"{label[name]}: first pass (tiles computed)",
                f"{first[name]:.1f} s, {tiles / first[name]:.0f} tiles/s",
                f"rounds {firsts} s",
            ),
            (f"{label[name]}: throughput", f"{rate[name]:.0f} tiles/s", f"rounds {rates}"),
            (f"{label[name]}: latency p99", f"{p99[name]:.1f} ms", f"rounds {p99s}"),
        ]
    rows += [
        (
            "current / baseline throughput",
            f"{ratio:.2f}×",
            ("unchanged or better" if ratio >= RATIO_MIN else "SLOWER than the baseline")
            + f" (≥ {RATIO_MIN:g}); p99 {p99['current'] / p99['baseline']:.2f}× the baseline's",
        ),
        (
            "current / baseline first pass",
            f"{first['baseline'] / first['current']:.2f}×",
            "throughput of the first pass, tiles computed",
        ),
        (
            "current throughput, absolute",
            f"{rate['current']:.0f} tiles/s",
            _at_least(rate["current"], MVT_TILES_PER_S),
        ),
        (
            "load average (1, 5, 15 min)",
            load_before,
            f"before the benchmark; after: {_load_average()}; {os.cpu_count()} cores",
        ),
    ]
    print_table(
        f"sites layer MVT, {tiles} tiles at z{ZOOMS[0]}–z{ZOOMS[-1]} cycled by wrk "
        f"-t{THREADS} -c{MVT_CLIENTS} -d{DURATION_S}s after a first pass over every tile, "
        f"{ROUNDS} alternated rounds per server (medians), sample {get_settings().sample}",
        ("measure", "value", "note"),
        rows,
    )


if __name__ == "__main__":
    main()
