"""xlsector: trend-following sector rotation (SectorSurfer-style EMA2 trends) for Excel, CLI and Python.

The public API is re-exported here lazily (PEP 562) so that ``import xlsector`` stays fast: pandas,
numba, openpyxl, xlwings and yfinance load only when a function that needs them is first used.
"""

from __future__ import annotations

from xlsector._lazy import export_lazily

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "XlsectorError": "xlsector.errors",
    "ParameterError": "xlsector.errors",
    "DataError": "xlsector.errors",
    "DataQualityWarning": "xlsector.errors",
    # trend maths (SPEC 1)
    "to_returns": "xlsector.trend",
    "ema": "xlsector.trend",
    "ema2": "xlsector.trend",
    "ema_weights": "xlsector.trend",
    "ema2_weights": "xlsector.trend",
    "ema2_lag": "xlsector.trend",
    "momentum": "xlsector.trend",
    # rotation and backtest (SPEC 2)
    "Strategy": "xlsector.params",
    "MomentumStrategy": "xlsector.params",
    "TuningParams": "xlsector.params",
    "stormguard": "xlsector.rotation",
    "run_backtest": "xlsector.backtesting",
    "run_backtest_grid": "xlsector.backtesting",
    "BacktestResult": "xlsector.backtesting",
    "GridResult": "xlsector.backtesting",
    # metrics (SPEC 5)
    "metrics_table": "xlsector.measures",
    "metrics_from_prices": "xlsector.measures",
    "fair_benchmarks": "xlsector.benchmarks",
    # tuning and momentum experiments (SPEC 3, 4)
    "trend_chart": "xlsector.tuning",
    "fwpt": "xlsector.tuning",
    "split_sample": "xlsector.tuning",
    "progressive_tune": "xlsector.tuning",
    "run_momentum_backtest": "xlsector.momentum_rotation",
    "MomentumResult": "xlsector.momentum_rotation",
    "scores": "xlsector.tuning",
    "TrendChart": "xlsector.tuning",
    "FwptResult": "xlsector.tuning",
    # overfitting statistics (SPEC 4)
    "probabilistic_sharpe": "xlsector.overfitting",
    "deflated_sharpe": "xlsector.overfitting",
    "min_track_record": "xlsector.overfitting",
    "expected_max_sharpe": "xlsector.overfitting",
    "pbo": "xlsector.overfitting",
    "PboResult": "xlsector.overfitting",
    "sharpe_ratios": "xlsector.overfitting",
    "sharpe_stats": "xlsector.overfitting",
    # honest evaluation: the statistics per surface, robustness
    "trend_chart_report": "xlsector.evaluation",
    "fwpt_report": "xlsector.evaluation",
    "robustness_map": "xlsector.robustness",
    "timing_luck": "xlsector.robustness",
    "retune_sensitivity": "xlsector.robustness",
    # sweeps and portfolios of strategies
    "run_sweep": "xlsector.sweep",
    "SweepSpec": "xlsector.sweep",
    "combine": "xlsector.portfolio",
    "allocate": "xlsector.portfolio",
    # today's action (SPEC 4)
    "signal": "xlsector.action",
    "Signal": "xlsector.action",
    # profiles and experiments (SPEC 3)
    "list_profiles": "xlsector.profiles",
    "load_profile": "xlsector.profiles",
    "run_profile": "xlsector.profiles",
    "load_experiment": "xlsector.profiles",
    "run_experiment": "xlsector.profiles",
    # data (SPEC 8)
    "PriceData": "xlsector.data.sources",
    "load_sample": "xlsector.data.sample",
    "load_prices": "xlsector.data.sources",
    "cells_to_prices": "xlsector.data.cells",
    "validate_prices": "xlsector.data.validate",
    "download_prices": "xlsector.data.yahoo",
    "refresh_file": "xlsector.data.refresh",
    # the classic add-in's "Refresh data" button runs `import xlsector; xlsector.main()` (xlwings' add-in
    # convention: the module named like the add-in file, xlsector.xlam)
    "main": "xlsector.addin.refresh",
    # workbook (SPEC 7)
    "render_workbook": "xlsector.render",
    "write_template": "xlsector.workbook.template",
}

# old public names, kept one release (they clashed with module names or were not verbs)
_DEPRECATED: dict[str, str] = {
    "backtest": "run_backtest",
    "backtest_many": "run_backtest_grid",
    "metrics": "metrics_table",
    "momentum_backtest": "run_momentum_backtest",
    "refresh": "refresh_file",
}

# old names whose new name behaves differently: the old one keeps its behaviour for that release.
# xlsector.metrics took returns whose first row is the start point (ignored); metrics_table takes every row
# as a return, so the old name stays on the old convention instead of silently counting that row.
_KEPT: dict[str, tuple[str, str]] = {"metrics": ("xlsector.measures", "metrics_after_start")}

__all__ = sorted(_EXPORTS) + ["__version__"]  # noqa: PLE0605 - generated from _EXPORTS, the one list

export_lazily(__name__, _EXPORTS, _DEPRECATED, _KEPT)
