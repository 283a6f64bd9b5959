"""Strategy finder at scale (SPEC §4, "Sweep"): every combination of K funds out of a candidate list, each tuned
and walked forward, ranked out of sample, with the trial count N over the whole sweep, the Deflated Sharpe
Ratio of the best result and the PBO across combinations; on Dask distributed, resumable.

Modules, one job each:

* :mod:`~xlsector.sweep.plan` — the specification, the combinations (all or a seeded sample) and the checks
  made before any work;
* :mod:`~xlsector.sweep.evaluate` — one combination's row (what a worker runs);
* :mod:`~xlsector.sweep.store` — the SQLite store (results committed batch by batch; resume);
* :mod:`~xlsector.sweep.cluster` — Dask: LocalCluster or scheduler, worker warm-up, broadcast, batches;
* :mod:`~xlsector.sweep.report` — ranking, trial count, DSR, PBO;
* :mod:`~xlsector.sweep.run` — :func:`run_sweep`, which ties them together.

Dask is imported only when a sweep runs (``import xlsector.sweep`` stays light).
"""

from __future__ import annotations

from xlsector.sweep.cluster import ClusterOptions
from xlsector.sweep.plan import SweepSpec, choose_values
from xlsector.sweep.report import SweepReport
from xlsector.sweep.run import SweepInterrupted, open_report, run_sweep

__all__ = ["ClusterOptions", "SweepInterrupted", "SweepReport", "SweepSpec", "choose_values", "open_report",
           "run_sweep"]
