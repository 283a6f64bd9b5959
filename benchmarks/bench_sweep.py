"""Speed of the sweep (issue 13): strategies per second per core, scaling over Dask workers, memory, and the Dask
overheads the scale simulation in docs/sweep.md uses. Medians and the spread (min..max) over --repeat runs.

    python benchmarks/bench_sweep.py [--repeat 3] [--choose 4] [--skip-cluster]

Work: the sector ETFs of ../shared/data (XLB XLE XLF XLI XLK XLP XLU XLV XLY XLC XLRE SPY, 1993-2025), all
combinations of --choose of them (12 choose 4 = 495), the full grid tc 2..200 (199 tcs), FWPT with the
default born-on date and 125-day retunes, hysteresis 0.01 (the default strategy).

(a) plain loop: one process, one thread, each combination alone through the public functions as a user runs
    it: trend_chart(prices[funds]) and fwpt(prices[funds]).metrics() (what a sweep row reports, no sharing);
(a') the same with one grid shared by the trend chart and FWPT (run_backtest_grid once, then
    trend_chart(grid=) and fwpt(grid=)): the best the public functions allow;
(b) the sweep's own evaluation in one process (xlsector.sweep.evaluate.evaluate_batch on batches of --batch
    combinations: the shared-trend kernel, FWPT walked inside it);
(c) xlsector.sweep.run_sweep on a LocalCluster of 1 and of 2 worker processes (one thread each): throughput
    from the first stored batch to the last (cluster start and warm-up excluded, reported separately), the
    scaling efficiency rate(2) / (2 x rate(1)), and each worker's resident memory after the sweep;
Dask overheads: the round trip of an empty task, the size and broadcast time of the scattered data, the
    cluster start and the per-worker warm-up.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # per-core figures: this process's numba on one thread

import argparse
import pickle
import statistics
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("XLSECTOR_SHARED_DATA", ROOT.parent / "shared" / "data"))
FUNDS = ("XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "XLC", "XLRE", "SPY")


def spread(values: list[float], unit: str = "", digits: int = 1) -> str:
    return (f"{statistics.median(values):.{digits}f}{unit} (min {min(values):.{digits}f}, max "
            f"{max(values):.{digits}f}, n={len(values)})")


def plain_loop(prices, combos) -> float:
    """(a): seconds for every combination alone through the public functions."""
    from xlsector.tuning import fwpt, trend_chart

    start = time.perf_counter()
    for funds in combos:
        data = prices[list(funds)]
        trend_chart(data)
        fwpt(data).metrics()
    return time.perf_counter() - start


def shared_grid_loop(prices, combos) -> float:
    """(a'): seconds for every combination with one grid for its trend chart and FWPT."""
    from xlsector.backtesting import run_backtest_grid
    from xlsector.tuning import fwpt, trend_chart

    start = time.perf_counter()
    for funds in combos:
        data = prices[list(funds)]
        grid = run_backtest_grid(data, range(2, 201))
        trend_chart(data, grid=grid)
        fwpt(data, grid=grid).metrics()
    return time.perf_counter() - start


def sweep_in_process(prices, spec, combos, batch: int) -> float:
    """(b): seconds for the sweep's own evaluation of every combination in this process, batch by batch."""
    from xlsector.sweep.evaluate import SweepData, evaluate_batch

    data = SweepData.from_spec(prices, spec)
    todo = list(enumerate(combos))
    start = time.perf_counter()
    for first in range(0, len(todo), batch):
        evaluate_batch(data, todo[first:first + batch])
    return time.perf_counter() - start


def cluster_run(prices, spec, workers: int, batch: int) -> dict[str, float]:
    """(c): one sweep on a fresh LocalCluster of ``workers`` processes."""
    from xlsector.sweep import ClusterOptions, run_sweep
    from xlsector.sweep.cluster import connect, workers_info

    times: list[float] = []
    busy: list[float] = []
    cpus: list[float] = []  # this process's CPU clock at each stored batch
    started = time.perf_counter()
    cpu = time.process_time()
    with connect(ClusterOptions(workers=workers), spec.strategy) as (client, _):
        ready = time.perf_counter()
        info = workers_info(client)
        with tempfile.TemporaryDirectory() as folder:
            run_sweep(prices, spec, store=Path(folder) / "s.sqlite", progress=False,
                      cluster=ClusterOptions(client=client, batch=batch),
                      on_batch=lambda result: (times.append(time.perf_counter()), busy.append(result.seconds),
                                               cpus.append(time.process_time())))
        rss = [w.rss for w in workers_info(client)]
    first_batch = batch  # combinations in the first stored batch (the clock starts when it arrives)
    n_after = len(times) and (spec_count(spec) - first_batch)
    steady = n_after / (times[-1] - times[0]) if len(times) > 1 else float("nan")
    return {"start": ready - started, "warm": max(w.warm_seconds for w in info), "rate": steady,
            "wall": time.perf_counter() - started, "rss_mb": max(rss) / 2**20,
            "task_ms": 1e3 * sum(busy) / spec_count(spec), "driver_cpu": time.process_time() - cpu,
            "driver_ms_row": 1e3 * (cpus[-1] - cpus[0]) / n_after if n_after else float("nan"),
            "busy": sum(busy[1:]) / (workers * (times[-1] - times[0])) if len(times) > 1 else float("nan")}


def spec_count(spec) -> int:
    from xlsector.sweep.plan import count_combinations

    return count_combinations(len(spec.funds), spec.choose)


def driver_row_cost(prices, spec) -> float:
    """Milliseconds of the driver's own work per stored combination: unpickling a 20-row batch and storing it
    in one SQLite transaction (the scheduler's and the client's event loops are measured apart: tasks/s)."""
    from xlsector.sweep.evaluate import SweepData, evaluate_batch
    from xlsector.sweep.plan import check_spec, make_plan
    from xlsector.sweep.store import SweepStore

    checked = check_spec(prices, spec)
    result = evaluate_batch(SweepData.from_spec(prices, checked), list(enumerate(make_plan(checked)[:20])))
    blob = pickle.dumps(result, protocol=5)
    with tempfile.TemporaryDirectory() as folder:
        plan = [tuple(r.funds.split(",")) for r in result.rows] * 50
        with SweepStore.create(Path(folder) / "s.sqlite", spec={}, fingerprint="f", plan=plan) as store:
            start = time.perf_counter()
            for k in range(50):
                rows = pickle.loads(blob).rows
                store.add([type(r)(**{**r.to_dict(), "id": r.id + 20 * k}) for r in rows])
            return 1e3 * (time.perf_counter() - start) / (50 * 20)


def dask_overheads(prices, spec, repeat: int) -> dict[str, list[float]]:
    """Round trip of an empty task, scatter size and broadcast time, on a 2-worker LocalCluster."""
    from distributed import wait

    from xlsector.sweep import ClusterOptions
    from xlsector.sweep.cluster import connect
    from xlsector.sweep.evaluate import SweepData

    data = SweepData.from_spec(prices, spec)
    out: dict[str, list[float]] = {"latency_ms": [], "scatter_ms": [], "throughput_per_s": []}
    with connect(ClusterOptions(workers=2), spec.strategy) as (client, _):
        for _ in range(repeat):
            samples = []
            for _ in range(50):
                t0 = time.perf_counter()
                client.submit(int, 1, pure=False).result()
                samples.append(time.perf_counter() - t0)
            out["latency_ms"].append(1e3 * statistics.median(samples))
            t0 = time.perf_counter()
            futures = client.map(int, range(2000), pure=False)
            wait(futures)
            out["throughput_per_s"].append(2000 / (time.perf_counter() - t0))
            del futures
            t0 = time.perf_counter()
            shared = client.scatter(data, broadcast=True, hash=False)
            wait(shared)
            out["scatter_ms"].append(1e3 * (time.perf_counter() - t0))
            client.cancel([shared])
    out["scatter_mb"] = [len(pickle.dumps(data, protocol=5)) / 2**20]
    return out


def simulate(cost_ms: float, latency_ms: float, scatter_mb: float, warm_s: float, *, combos: int = 142_506,
             batch: int = 20, scheduler_tasks_per_s: float = 650.0, driver_ms_row: float = 0.1,
             remote_start_s: float = 120.0, net_gb_s: float = 1.0, price_core_hour: float = 0.05) -> list[str]:
    """Predicted wall time and cost of a sweep of ``combos`` combinations on P cores (see docs/sweep.md)."""
    lines = [f"scale model: {combos:,} combinations x {cost_ms:.1f} ms = {combos * cost_ms / 3.6e6:.2f} core-hours; "
             f"batch {batch} ({batch * cost_ms / 1e3:.2f} s a task); task overhead {latency_ms:.1f} ms; scheduler "
             f"<= {scheduler_tasks_per_s:,.0f} tasks/s; data {scatter_mb:.2f} MB at {net_gb_s:g} GB/s; warm-up "
             f"{warm_s:.2f} s; driver {driver_ms_row:.3f} ms a stored combination; remote cluster start "
             f"{remote_start_s:.0f} s; {price_core_hour:g} $/core-hour (assumed)"]
    compute = combos * cost_ms / 1e3  # core-seconds
    for cores in (2, 8, 16, 64, 256):  # 2 and 8: a LocalCluster (this VM, a laptop); more: a remote cluster
        size = batch
        while cores / (size * cost_ms / 1e3) > scheduler_tasks_per_s:  # the scheduler must keep up
            size *= 2
        task = size * cost_ms / 1e3
        efficiency = task / (task + latency_ms / 1e3)
        start = (0.0 if cores <= 8 else remote_start_s) + cores * scatter_mb / 1e3 / net_gb_s + warm_s
        tail = task  # the last wave: at most one task's time with some cores idle
        run = max(compute / (cores * efficiency), combos * driver_ms_row / 1e3)  # the driver stores every row
        wall = start + run + tail
        dollars = cores * wall / 3600 * price_core_hour
        bound = "driver-bound" if combos * driver_ms_row / 1e3 > compute / (cores * efficiency) else "compute-bound"
        lines.append(f"  {cores:>3} cores: batch {size:>4}, wall {wall / 60:7.1f} min (start {start:5.1f} s, "
                     f"efficiency {100 * efficiency:5.1f} %, {bound}), {cores * wall / 3600:6.2f} core-hours paid, "
                     f"${dollars:6.2f}")
    local = 8  # a laptop's cores
    # crossover: local wall N*c/local = remote start + N*c/remote  ->  N = start / (c * (1/local - 1/remote))
    for remote in (16, 64, 256):
        n_cross = remote_start_s / (cost_ms / 1e3 * (1 / local - 1 / remote))
        lines.append(f"  crossover {local}-core laptop vs {remote}-core cluster: {n_cross:,.0f} combinations "
                     f"({n_cross * cost_ms / 1e3 / local / 60:.1f} min on the laptop)")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--choose", type=int, default=4)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--skip-cluster", action="store_true")
    parser.add_argument("--cluster-only", action="store_true", help="only (c) and the Dask overheads")
    parser.add_argument("--simulate", metavar="COST_MS,LATENCY_MS,SCATTER_MB,WARM_S,TASKS_PER_S,DRIVER_MS,START_S",
                        help="only print the scale model for these figures (no measurement)")
    args = parser.parse_args()
    if args.simulate:
        cost, latency, size, warm, rate, driver, start = (float(x) for x in args.simulate.split(","))
        print("\n".join(simulate(cost, latency, size, warm, scheduler_tasks_per_s=rate, driver_ms_row=driver,
                                 remote_start_s=start)))
        return 0
    if not (SHARED / "etf_adjclose_daily.csv").is_file():
        print(f"needs the sector ETFs at {SHARED} (set XLSECTOR_SHARED_DATA)", file=sys.stderr)
        return 1
    from xlsector.data import load_prices
    from xlsector.sweep import SweepSpec
    from xlsector.sweep.cluster import warm_up

    prices = load_prices(SHARED / "etf_adjclose_daily.csv").prices
    spec = SweepSpec(funds=FUNDS, choose=(args.choose,))
    combos = list(combinations(FUNDS, args.choose))
    n = len(combos)
    print(f"work: {len(FUNDS)} sector ETFs choose {args.choose} = {n} combinations, tc 2..200 (199), FWPT "
          f"(125-day retunes), {len(prices)} days; {os.cpu_count()} cores; NUMBA_NUM_THREADS="
          f"{os.environ['NUMBA_NUM_THREADS']} in this process; load average {os.getloadavg()[0]:.2f} (other work on the "
          "machine slows every figure)")
    rates_b = []
    if not args.cluster_only:
        warm_up({})
        plain_loop(prices, combos[:5])  # warm the public path too
        shared_grid_loop(prices, combos[:5])
        sweep_in_process(prices, spec, combos[:5], args.batch)
        rates_a, rates_g, rates_b = [], [], []
        for _ in range(args.repeat):  # interleaved, so that a busy spell of the machine hits all three
            rates_a.append(n / plain_loop(prices, combos))
            rates_g.append(n / shared_grid_loop(prices, combos))
            rates_b.append(n / sweep_in_process(prices, spec, combos, args.batch))
        ratio = [b / a for a, b in zip(rates_a, rates_b)]
        ratio_g = [b / g for g, b in zip(rates_g, rates_b)]
        print(f"(a)  plain loop, one process, one core:           {spread(rates_a, ' strategies/s')}; "
              f"{1e3 / statistics.median(rates_a):.1f} ms a strategy")
        print(f"(a') one grid for chart and FWPT, one core:       {spread(rates_g, ' strategies/s')}; "
              f"{1e3 / statistics.median(rates_g):.1f} ms a strategy")
        print(f"(b)  sweep, shared trends, one process, one core: {spread(rates_b, ' strategies/s')}; "
              f"{1e3 / statistics.median(rates_b):.1f} ms a strategy")
        print(f"     (b) / (a) per run: {spread(ratio, 'x', 2)};  (b) / (a'): {spread(ratio_g, 'x', 2)}")
    if args.skip_cluster:
        return 0
    runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for _ in range(args.repeat):
        for workers in (1, 2):
            runs[workers].append(cluster_run(prices, spec, workers, args.batch))
    for workers, found in runs.items():
        rates = [r["rate"] for r in found]
        print(f"(c) LocalCluster, {workers} worker(s) x 1 thread:        {spread(rates, ' strategies/s')} "
              f"= {statistics.median(rates) / workers:.1f} per core; wall incl. start "
              f"{spread([r['wall'] for r in found], ' s')}; in the worker "
              f"{statistics.median([r['task_ms'] for r in found]):.1f} ms a strategy")
    eff = [r2["rate"] / (2 * r1["rate"]) for r1, r2 in zip(runs[1], runs[2])]
    busy = [100 * r["busy"] for r in runs[2]]
    print(f"    workers busy (task time / workers x wall), 2:  {spread(busy, ' %')}")
    print(f"    driver CPU, whole run incl. cluster start, 2 w.: {spread([r['driver_cpu'] for r in runs[2]], ' s', 2)}")
    print(f"    driver CPU during the run per combination:      "
          f"{spread([r['driver_ms_row'] for r in runs[1] + runs[2]], ' ms', 3)} (LocalCluster: the scheduler's and "
          "the nannies' event loops run here too)")
    row_ms = [driver_row_cost(prices, spec) for _ in range(args.repeat)]
    print(f"    driver's own work per combination (unpickle, store): {spread(row_ms, ' ms', 3)}")
    print(f"    scaling efficiency 2 workers vs 1:             {spread([100 * e for e in eff], ' %')}")
    everything = runs[1] + runs[2]
    print(f"    cluster start (processes up, plugin warm-up):  {spread([r['start'] for r in everything], ' s', 2)}")
    print(f"    per-worker warm-up (numba cache load):         {spread([r['warm'] for r in everything], ' s', 2)}")
    print(f"    memory per worker after the sweep (RSS):       {spread([r['rss_mb'] for r in everything], ' MB', 0)}")
    over = dask_overheads(prices, spec, args.repeat)
    print(f"Dask: empty-task round trip                        {spread(over['latency_ms'], ' ms', 2)}")
    print(f"Dask: empty tasks through 2 workers                {spread(over['throughput_per_s'], '/s', 0)}")
    print(f"Dask: scattered data {over['scatter_mb'][0]:.2f} MB, broadcast to 2 workers "
          f"{spread(over['scatter_ms'], ' ms', 1)}")
    cost_ms = 1e3 / statistics.median(rates_b) if rates_b else statistics.median([r["task_ms"] for r in runs[1]])
    warm = statistics.median([r["warm"] for r in everything])
    driver = statistics.median(row_ms)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print("\n".join(simulate(cost_ms, statistics.median(over["latency_ms"]), over["scatter_mb"][0], warm,
                             scheduler_tasks_per_s=statistics.median(over["throughput_per_s"]),
                             driver_ms_row=driver)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
