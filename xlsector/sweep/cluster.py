"""Running the sweep's tasks on Dask distributed: a LocalCluster by default, or a cluster's scheduler.

* **Workers.** The LocalCluster has one worker process per core, one thread each, and its workers start with
  ``NUMBA_NUM_THREADS`` set to their thread count: the shared-trend kernel runs a task on the task's own
  thread, and the numba-free or public-function paths would otherwise start a thread per core for a grid of
  trend constants in every worker (oversubscribing the cores Dask already fills).
* **Warm-up.** A worker plugin (:class:`SweepPlugin`) runs once in every worker, including one that joins
  or restarts later: it loads the compiled kernels from numba's on-disk cache (compiling them once on a
  fresh install) by evaluating a small synthetic combination, and makes the worker process ignore SIGINT,
  so that Ctrl-C in a terminal stops the driver, which then closes the cluster cleanly, instead of killing
  the workers under it.
* **Data.** The prices and parameters (:class:`~xlsector.sweep.evaluate.SweepData`) are scattered to every
  worker once (``broadcast=True``); tasks refer to them by their future.
* **Tasks.** One task evaluates a batch of combinations; a bounded number of tasks is in flight (two per
  worker thread), so Ctrl-C cancels little and results are stored while the rest runs. A task lost with
  its worker is run again by Dask on another worker; the store keeps each combination once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import ParameterError, XlsectorError
from xlsector.sweep.evaluate import BatchResult, SweepData, evaluate_batch
from xlsector.sweep.plan import Combination

__all__ = ["ClusterOptions", "SweepPlugin", "WorkerInfo", "batches_of", "connect", "cores", "run_batches", "run_local",
           "warm_up", "workers_info"]

Batch = list[tuple[int, Combination]]


@dataclass(frozen=True)
class ClusterOptions:
    """Where and how the sweep's tasks run.

    ``workers``: LocalCluster worker processes (default: the cores this process may use); ``threads``:
    threads per LocalCluster worker (default 1); ``scheduler``: address of a running scheduler
    (``tcp://host:8786``) instead of a LocalCluster; ``client``: an open ``distributed.Client`` to use (and
    leave open); ``batch``: combinations per task; ``in_flight``: tasks in flight per worker thread.
    """

    workers: int | None = None
    threads: int = 1
    scheduler: str | None = None
    client: Any = None
    batch: int = 20
    in_flight: int = 2

    def __post_init__(self) -> None:
        for name, low in (("workers", 1), ("threads", 1), ("batch", 1), ("in_flight", 1)):
            value = getattr(self, name)
            if value is None and name == "workers":
                continue
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise ParameterError(f"{name} must be a whole number >= {low}, got {value!r}")
        if self.scheduler is not None and not (isinstance(self.scheduler, str) and "://" in self.scheduler):
            raise ParameterError(f"scheduler must be an address like tcp://host:8786, got {self.scheduler!r}")


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


# ------------------------------------------------------------------------------------------ worker side

_WARM: dict[str, float] = {}


def _synthetic_data(strategy: dict[str, Any]) -> SweepData:
    """Two funds over six years of weekdays (FWPT needs five), deterministic: the warm-up combination."""
    dates = pd.bdate_range("2000-01-03", periods=1600)
    rng = np.random.default_rng(0)
    prices = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, (len(dates), 2)), axis=0)),
                          index=dates, columns=["A", "B"])
    keep = {k: v for k, v in strategy.items() if k not in ("stormguard",)}
    return SweepData(prices=prices, index=None, bear=None, benchmark=None, strategy=keep,
                     tcs=(2.0, 3.0, 4.0, 5.0, 6.0, 7.0), born_on=None, retune_days=125, defer=True, plateau=0.05)


def warm_up(strategy: dict[str, Any]) -> float:
    """Evaluate a small synthetic combination once in this process (loads or compiles the kernels)."""
    start = time.perf_counter()
    evaluate_batch(_synthetic_data(strategy), [(0, ("A", "B"))])
    seconds = time.perf_counter() - start
    _WARM.setdefault("seconds", seconds)
    return seconds


try:  # the plugin base class exists only where distributed is installed (it is a dependency on desktops)
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover
    _WorkerPlugin = object  # type: ignore[assignment,misc]


class SweepPlugin(_WorkerPlugin):
    """Worker plugin: ignore SIGINT in the worker process, warm the numba cache once (see the module docstring)."""

    name = "xlsector-sweep"
    idempotent = True  # registering it again (a second sweep on the same cluster) does not warm up again

    def __init__(self, strategy: dict[str, Any]) -> None:
        self.strategy = dict(strategy)

    async def setup(self, worker: Any) -> None:
        import asyncio

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        await asyncio.get_running_loop().run_in_executor(None, warm_up, self.strategy)


@dataclass(frozen=True)
class WorkerInfo:
    """One worker as the benchmark and the tests see it."""

    address: str
    pid: int
    threads: int  # Dask task threads
    numba_threads: int  # numba's thread pool size in the process (NUMBA_NUM_THREADS)
    warm_seconds: float  # the plugin's warm-up (nan if it has not run)
    rss: int  # resident memory, bytes
    version: str


def _worker_info(dask_worker: Any = None) -> dict[str, Any]:
    import importlib

    from xlsector import __version__, _kernels

    psutil: Any = importlib.import_module("psutil")  # a dependency of distributed (no type stubs here)

    numba_threads = 0
    if _kernels.HAVE_NUMBA:
        import numba

        config: Any = numba.config
        numba_threads = int(config.NUMBA_NUM_THREADS)
    return {"pid": os.getpid(), "threads": int(getattr(getattr(dask_worker, "state", None), "nthreads", 0) or 0),
            "numba_threads": numba_threads, "warm_seconds": _WARM.get("seconds", float("nan")),
            "rss": int(psutil.Process().memory_info().rss), "version": __version__}


def workers_info(client: Any) -> list[WorkerInfo]:
    """Every worker's :class:`WorkerInfo` (queried now)."""
    found = client.run(_worker_info)
    return [WorkerInfo(address=a, **v) for a, v in sorted(found.items())]


# ------------------------------------------------------------------------------------------ driver side


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while worker processes are spawned: they inherit it (a child started with SIGINT ignored
    keeps it ignored), so a Ctrl-C reaches only the driver. No-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def connect(options: ClusterOptions, strategy: dict[str, Any]) -> Iterator[tuple[Any, str]]:
    """(client, description) for ``options``, with :class:`SweepPlugin` registered on every worker; a client
    or cluster opened here is closed on leaving (also on Ctrl-C)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a dependency on desktops
        raise XlsectorError("the sweep runs on Dask: pip install 'dask[distributed]'") from None
    cluster = None
    client = options.client
    owned = client is None
    try:
        if client is not None:
            where = f"the given Dask client ({client.scheduler.address})"
        elif options.scheduler is not None:
            try:
                client = Client(options.scheduler, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise XlsectorError(f"cannot reach the Dask scheduler at {options.scheduler}: {exc}") from None
            where = f"the Dask cluster at {options.scheduler}"
        else:
            n = options.workers or cores()
            with _sigint_ignored():
                cluster = LocalCluster(n_workers=n, threads_per_worker=options.threads, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR,
                                       env={"NUMBA_NUM_THREADS": str(options.threads)})
                client = Client(cluster)
            where = f"a local Dask cluster of {n} worker process(es) x {options.threads} thread(s)"
        client.register_plugin(SweepPlugin(strategy))
        _check_versions(client)
        yield client, where
    finally:
        if owned and client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


def _check_versions(client: Any) -> None:
    from xlsector import __version__

    for info in workers_info(client):
        if info.version != __version__:
            raise XlsectorError(f"Dask worker {info.address} runs xlsector {info.version}, this process "
                                f"{__version__}: install the same version on every worker")
    if not client.scheduler_info().get("workers"):
        raise XlsectorError("the Dask cluster has no workers")


def _threads(client: Any) -> int:
    return max(sum(int(w.get("nthreads", 1)) for w in client.scheduler_info()["workers"].values()), 1)


def batches_of(todo: list[tuple[int, Combination]], size: int, threads: int) -> Iterator[Batch]:
    """``todo`` cut into batches of ``size`` combinations, smaller when there are too few to give every worker
    thread four tasks (so that the last tasks do not leave most workers idle)."""
    size = max(1, min(size, -(-len(todo) // (4 * threads))))
    for start in range(0, len(todo), size):
        yield todo[start:start + size]


def run_batches(client: Any, data: SweepData, todo: list[tuple[int, Combination]], *, batch: int,
                in_flight: int, on_result: Callable[[BatchResult], None]) -> None:
    """Evaluate ``todo`` on the cluster, calling ``on_result`` (in this thread) for each finished batch.

    At most ``in_flight`` tasks per worker thread are queued. On any exception (a task's error, Ctrl-C, an
    exception from ``on_result``) the queued tasks are cancelled and the exception propagates; every batch
    passed to ``on_result`` before it is kept by the caller.
    """
    from distributed import as_completed

    threads = _threads(client)
    pending = batches_of(todo, batch, threads)
    shared = client.scatter(data, broadcast=True, hash=False)
    futures: set[Any] = set()
    queue = as_completed()

    def submit() -> bool:
        chunk = next(pending, None)
        if chunk is None:
            return False
        future = client.submit(evaluate_batch, shared, chunk, pure=False)
        futures.add(future)
        queue.add(future)
        return True

    try:
        for _ in range(in_flight * threads):
            if not submit():
                break
        for future in queue:
            futures.discard(future)
            result = future.result()
            on_result(result)
            submit()
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        with contextlib.suppress(Exception):
            client.cancel([shared])


def run_local(data: SweepData, todo: list[tuple[int, Combination]], *, batch: int,
              on_result: Callable[[BatchResult], None]) -> None:
    """The same work in this process, one batch after another (no Dask): the benchmark's plain loop."""
    for start in range(0, len(todo), batch):
        on_result(evaluate_batch(data, todo[start:start + batch]))

