"""Run-time machinery shared by the chapters: seeding, cores and threads, BLAS threads, timing, a process pool, and
the memory a chapter uses (its whole process tree).

Well-kept libraries do the work: joblib/loky count the cores a container may use (CPU affinity and cgroup quotas, as
on Binder) and run the process pool, threadpoolctl limits BLAS threads, psutil reads the process tree's memory.
They are imported on first use, so ``import kexue.runtime`` stays light.
"""
from __future__ import annotations

import math
import os
import random
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from kexue import validate

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

T = TypeVar("T")
R = TypeVar("R")

__all__ = [
    "PeakMemory", "Stopwatch", "blas_threads", "calibrate", "free_cores", "one_blas_thread", "peak_memory_mb",
    "run_parallel", "seed_everything", "set_threads", "time_call", "tree_memory_mb", "usable_cores",
]


# ------------------------------------------------------------------------------------------------ seeding
def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and (if it is imported) PyTorch; return a fresh NumPy Generator with that seed."""
    seed = validate.integer(seed, "seed", 0, 2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    # Importing torch only to seed it would make every chapter pay for it; chapters that use torch import it first.
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    return np.random.default_rng(seed)


# ------------------------------------------------------------------------------------------------ cores and threads
def usable_cores() -> int:
    """Cores this process may use: its CPU affinity capped by a container's CPU quota (joblib/loky's count)."""
    from joblib import cpu_count

    return max(1, int(cpu_count(only_physical_cores=False)))


def free_cores(interval: float = 0.3) -> int:
    """How many usable cores are idle right now (system-wide idle time over ``interval`` seconds), at least 1."""
    import psutil

    interval = validate.real(interval, "interval", positive=True)
    if interval > 10:
        raise ValueError(f"interval must be at most 10 seconds, got {interval}")
    cores = usable_cores()
    busy = psutil.cpu_percent(interval=interval) / 100  # over all of the machine's logical CPUs
    idle = (psutil.cpu_count() or cores) * (1 - busy)
    return max(1, min(cores, int(idle + 0.5)))


def set_threads(n: int = 1) -> int:
    """Use ``n`` threads in PyTorch (imported here), at most the usable cores; tiny models run fastest with one."""
    n = validate.integer(n, "n", 1, usable_cores())  # more threads than cores only oversubscribes (or crashes libgomp)
    import torch

    torch.set_num_threads(n)
    os.environ["OMP_NUM_THREADS"] = str(n)  # for any subprocess the chapter starts
    return n


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries (finding them takes a while: once per process)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def blas_threads(n: int = 1) -> AbstractContextManager[Any]:
    """A context in which BLAS uses at most ``n`` threads (tiny matrix products gain nothing from more)."""
    n = validate.integer(n, "n", 1, usable_cores())
    return _controller().limit(limits=n, user_api="blas")


def one_blas_thread(fn: Callable[..., R]) -> Callable[..., R]:
    """Decorator: run ``fn`` with BLAS limited to one thread (thousands of tiny products only pay for syncing)."""
    import functools

    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        with blas_threads(1):
            return fn(*args, **kwargs)

    return wrapper


# ------------------------------------------------------------------------------------------------ timing
class Stopwatch:
    """``with Stopwatch() as clock: ...`` then ``clock.seconds``: wall time of the block (perf_counter)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start

    def elapsed(self) -> float:
        """Seconds since the stopwatch started (while it runs)."""
        return time.perf_counter() - self.start


def _per_call(call: Callable[[], object], number: int) -> float:
    """Seconds per call over ``number`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number


def calibrate(call: Callable[[], object], min_time: float = 2e-3, max_number: int = 2**16) -> int:
    """How many back-to-back calls last at least ``min_time`` seconds (doubling, as timeit does)."""
    if not callable(call):
        raise TypeError(f"call must be callable, got {type(call).__name__}")
    min_time = validate.real(min_time, "min_time", positive=True)
    if min_time > 60:
        raise ValueError(f"min_time must be at most 60 seconds, got {min_time}")
    max_number = validate.integer(max_number, "max_number", 1, 2**30)
    number = 1
    while number < max_number and _per_call(call, number) * number < min_time:
        number *= 2
    return min(number, max_number)


def time_call(call: Callable[[], object], repeat: int = 7, min_time: float = 2e-3, number: int | None = None,
              best: bool = False, warmup: bool = True) -> float:
    """Seconds per call of ``call``: ``repeat`` blocks of ``number`` calls (calibrated to ``min_time`` if None).

    Returns the median over blocks, or with ``best=True`` the fastest block, as ``timeit`` advises (a block that
    another process interrupted is slower, never faster).
    """
    if not callable(call):
        raise TypeError(f"call must be callable, got {type(call).__name__}")
    repeat = validate.integer(repeat, "repeat", 1, 10_000)
    best, warmup = validate.boolean(best, "best"), validate.boolean(warmup, "warmup")
    if warmup:
        call()
    number = calibrate(call, min_time) if number is None else validate.integer(number, "number", 1, 10**6)
    samples = [_per_call(call, number) for _ in range(repeat)]
    return min(samples) if best else statistics.median(samples)


# ------------------------------------------------------------------------------------------------ process pool
def run_parallel(fn: Callable[[T], R], jobs: Sequence[T], workers: int | None = None, progress: bool = True,
                 desc: str = "jobs") -> list[R]:
    """``[fn(job) for job in jobs]`` on up to ``workers`` processes (joblib/loky; default: the idle cores), in order.

    Results do not depend on ``workers``. The workers are fresh interpreters (loky), safe with torch's thread pools
    and inside a Jupyter kernel; ``fn`` and the jobs must pickle (a module-level function does).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(jobs, (str, bytes)) or not isinstance(jobs, Sequence):
        raise TypeError(f"jobs must be a sequence, got {type(jobs).__name__}")
    progress, desc = validate.boolean(progress, "progress"), validate.string(desc, "desc")
    workers = free_cores() if workers is None else validate.integer(workers, "workers", 1, usable_cores())
    workers = max(1, min(workers, len(jobs)))
    from tqdm.auto import tqdm

    bar = tqdm(total=len(jobs), desc=desc, disable=not progress)
    results: list[Any] = [None] * len(jobs)
    try:
        if workers == 1:
            for i, job in enumerate(jobs):
                results[i] = fn(job)
                bar.update()
        else:
            from joblib import Parallel, delayed

            # Tag each result with its index so that results can arrive in any order and the bar moves as they do.
            tagged = Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered")(
                delayed(_indexed)(fn, i, job) for i, job in enumerate(jobs))
            for i, result in tagged:
                results[i] = result
                bar.update()
    finally:
        bar.close()
    return results


def _indexed(fn: Callable[[T], R], index: int, job: T) -> tuple[int, R]:
    """(index, fn(job)): run in a worker."""
    return index, fn(job)


# ------------------------------------------------------------------------------------------------ memory
def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tree(pid: int | None) -> Iterator[Any]:
    """The process ``pid`` (default: this one) and all its descendants, as psutil processes."""
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        raise ValueError(f"pid {pid} is not a running process") from None
    yield root
    yield from root.children(recursive=True)


def tree_memory_mb(pid: int | None = None, include_root: bool = True) -> float:
    """Resident memory now of a process (default: this one) and all its descendants, in MiB."""
    import psutil

    if pid is not None:
        pid = validate.integer(pid, "pid", 1)
    include_root = validate.boolean(include_root, "include_root")
    total = 0
    for i, proc in enumerate(_tree(pid)):
        if i == 0 and not include_root:
            continue
        try:
            total += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):  # a worker that just exited
            pass
    return total / 2**20


class PeakMemory:
    """Poll the resident memory of a process tree in a thread; ``peak_mb`` is the largest total seen.

    ``with PeakMemory(pid) as peak: ...`` polls every ``interval`` seconds and looks for new descendants every
    ``refresh`` seconds; a worker that lives shorter than those can be missed (workers live for seconds).
    """

    def __init__(self, pid: int | None = None, interval: float = 0.05, include_root: bool = True,
                 refresh: float = 0.5) -> None:
        self.pid = None if pid is None else validate.integer(pid, "pid", 1)
        self.interval = validate.real(interval, "interval", positive=True)
        self.include_root = validate.boolean(include_root, "include_root")
        self.refresh = validate.real(refresh, "refresh", minimum=0.0)
        self.peak_mb = 0.0
        self._procs: list[Any] = []
        self._listed = -math.inf
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> float:
        """Measure once, update the peak, return the current total in MiB."""
        import psutil

        now = time.monotonic()
        if now - self._listed >= self.refresh:
            # Finding the descendants scans every process on the machine: done every `refresh` seconds, not every
            # poll, so that the poller stays cheap next to what it measures on a busy machine.
            try:
                tree = list(_tree(self.pid))
            except ValueError:  # the process has ended
                return 0.0
            self._procs, self._listed = tree if self.include_root else tree[1:], now
        total = 0
        for proc in self._procs:
            try:
                total += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):  # a worker that just exited
                pass
        self.peak_mb = max(self.peak_mb, total / 2**20)
        return total / 2**20

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self.sample()
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

