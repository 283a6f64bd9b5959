"""``run_sweep``: check, plan, store, run on Dask, report (see :mod:`xlsector.sweep`)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from xlsector.errors import DataError
from xlsector.sweep.cluster import ClusterOptions, connect, run_batches, run_local
from xlsector.sweep.evaluate import BatchResult, SweepData
from xlsector.sweep.plan import SweepSpec, check_spec, data_fingerprint, make_plan
from xlsector.sweep.report import SweepReport, build_report
from xlsector.sweep.store import SweepStore, default_store

__all__ = ["SweepInterrupted", "open_report", "run_sweep"]


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or another interrupt) stopped the sweep; every batch finished before it is in the store."""

    def __init__(self, store: Path, done: int, planned: int) -> None:
        super().__init__(f"sweep interrupted: {done:,} of {planned:,} combinations are stored in {store}")
        self.store = store
        self.done = done
        self.planned = planned


class _Rate:
    """Combinations per second since the start and the time left, for the progress bar's label."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.first = 0  # combinations of the first batch: the clock starts when it arrives (after the start-up)
        self.start = time.monotonic()

    def add(self, count: int) -> None:
        if not self.first:
            self.first = count
            self.start = time.monotonic()
        self.done += count

    def label(self) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = (self.done - self.first) / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = "--:--:--" if math.isnan(left) else time.strftime("%H:%M:%S", time.gmtime(left))
        return f"sweep {rate:6.1f}/s ETA {eta}"


def run_sweep(
    prices: pd.DataFrame,
    spec: SweepSpec,
    *,
    store: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    cluster: ClusterOptions | None = None,
    in_process: bool = False,
    progress: bool | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
    pbo_blocks: int = 16,
    pbo_max: int = 5000,
) -> SweepReport:
    """Evaluate every combination of ``spec`` on ``prices`` and report across them.

    Parameters
    ----------
    prices : DataFrame
        Adjusted closes, dates x tickers; must hold every column ``spec`` names.
    spec : SweepSpec
        The candidates, K, sampling, strategy and tuning parameters, side columns.
    store : path, optional
        The SQLite store of the results (default: ``<xlsector home>/sweeps/sweep-<hash>.sqlite``, the hash
        of the spec and the prices). It must not exist unless ``resume`` (or ``overwrite``).
    resume : bool
        Continue the sweep in ``store``: only the combinations without a stored row run. The store must
        hold the same spec and prices.
    cluster : ClusterOptions, optional
        Dask: a LocalCluster (default), a scheduler address or an open client; batch size.
    in_process : bool
        Run in this process without Dask (one core; for small checks and the benchmark's plain loop).
    progress : bool, optional
        Progress bar on stderr (default: when stderr is a terminal).
    on_batch : callable, optional
        Called in this process with each finished :class:`BatchResult`, after it is stored.
    pbo_blocks, pbo_max : int
        CSCV blocks of the PBO, and the most combinations its matrix takes (a seeded subset above).

    Returns
    -------
    SweepReport

    Raises
    ------
    ParameterError, DataError
        Bad input, before any work (K larger than the list, a fund absent from the prices, fewer than five
        years of prices for FWPT in some combination, ...).
    SweepInterrupted
        Ctrl-C: the cluster is closed, the batches finished before it are kept; resume with ``resume=True``.
    """
    from xlsector.progress import Progress

    spec = check_spec(prices, spec)
    cluster = cluster or ClusterOptions()
    described = spec.to_dict()
    fingerprint = data_fingerprint(prices, spec.columns())
    path = Path(store) if store is not None else default_store(fingerprint, described)
    if resume:
        opened = SweepStore.open(path, spec=described, fingerprint=fingerprint)
    else:
        opened = SweepStore.create(path, spec=described, fingerprint=fingerprint, plan=make_plan(spec),
                                   overwrite=overwrite)
    with opened as kept:
        todo = kept.todo()
        if todo:
            data = SweepData.from_spec(prices, spec)
            rate = _Rate(len(todo))
            with Progress(len(todo), rate.label(), enabled=progress) as bar:

                def on_result(result: BatchResult) -> None:
                    kept.add(result.rows)
                    rate.add(len(result.rows))
                    bar.advance(len(result.rows), label=rate.label())
                    if on_batch is not None:
                        on_batch(result)

                try:
                    if in_process:
                        run_local(data, todo, batch=cluster.batch, on_result=on_result)
                    else:
                        with connect(cluster, spec.strategy) as (client, _):
                            run_batches(client, data, todo, batch=cluster.batch, in_flight=cluster.in_flight,
                                        on_result=on_result)
                except KeyboardInterrupt:
                    done, planned = kept.count()
                    raise SweepInterrupted(path, done, planned) from None
        return _report(kept, prices, spec, pbo_blocks, pbo_max)


def _report(kept: SweepStore, prices: pd.DataFrame, spec: SweepSpec, pbo_blocks: int, pbo_max: int) -> SweepReport:
    _done, planned = kept.count()
    return build_report(kept.frame(), prices, spec.to_dict(), store=kept.path, planned=planned, n_tcs=len(spec.tcs),
                        pbo_blocks=pbo_blocks, pbo_max=pbo_max)


def open_report(path: str | os.PathLike[str], prices: pd.DataFrame, *, pbo_blocks: int = 16,
                pbo_max: int = 5000) -> SweepReport:
    """The report of a stored sweep (finished or not), on the prices it was run on."""
    from xlsector.params import TuningParams

    with SweepStore.open(path) as kept:
        described = kept.spec()
        tuning = dict(described["tuning"])
        spec = SweepSpec(funds=tuple(described["funds"]), choose=tuple(described["choose"]),
                         sample=described["sample"], seed=described["seed"], strategy=described["strategy"],
                         tuning=TuningParams(**tuning), index=described["index"], bear=tuple(described["bear"]),
                         benchmark=described["benchmark"])
        if kept.fingerprint() != data_fingerprint(prices, spec.columns()):
            raise DataError(f"the sweep store {path} was made from other prices (their values or dates differ)")
        return _report(kept, prices, spec, pbo_blocks, pbo_max)
