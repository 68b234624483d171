"""Timing helpers shared by the benchmarks: medians of repeats, peak memory, a printed table."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    median_s: float
    best_s: float
    repeats: int
    #: This process's CPU time (every thread), median of the repeats: on a shared machine, the
    #: work done, which the wall time overstates when others hold the cores.
    cpu_median_s: float = 0.0


def measure(fn: Callable[[], T], *, repeat: int = 5, warmup: int = 1) -> tuple[Timing, T]:
    """Run ``fn`` ``warmup`` times unmeasured, then ``repeat`` times; returns the last result."""
    for _ in range(warmup):
        fn()
    times, cpu_times = [], []
    for _ in range(max(repeat, 1)):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    timing = Timing(statistics.median(times), min(times), len(times), statistics.median(cpu_times))
    return timing, result


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def verdict(value: float, target: float) -> str:
    return "meets target" if value <= target else "MISSES target"


def print_table(title: str, header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(f"\n{title}")
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*(str(x) for x in row)))
