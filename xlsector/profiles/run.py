"""Run a loaded profile on prices: the momentum rotation or the SectorSurfer trend backtest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from xlsector.errors import ParameterError
from xlsector.profiles.loader import Profile

__all__ = ["ProfileRun", "columns_needed", "run_profile"]


@dataclass(frozen=True)
class ProfileRun:
    """One profile's backtest: the result object, its metrics table and the reported period."""

    profile: Profile
    result: Any  # MomentumResult or BacktestResult
    returns: pd.Series
    holdings: pd.Series
    benchmark_returns: pd.Series | None

    @property
    def table(self) -> pd.DataFrame:
        """xlsector.measures table (strategy, benchmark, definition) over the reported period; "Trades" are
        the switches of the reported holdings (:func:`xlsector.measures.count_switches`)."""
        return self.metrics()

    def metrics(self, *, benchmarks: Any = None) -> pd.DataFrame:
        """:attr:`table` with more labelled benchmark columns (label -> daily returns on the same days)."""
        from xlsector.measures import metrics_after_start

        lev = getattr(self.result, "leverage", None)
        if lev is not None:
            lev = lev.loc[self.returns.index]
        return metrics_after_start(
            self.returns,
            holdings=self.holdings,
            leverage=lev,
            benchmark=self.benchmark_returns,
            benchmarks=benchmarks,
        )

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.returns.index[0], self.returns.index[-1]


def columns_needed(profile: Profile, prices: pd.DataFrame) -> list[str]:
    """Columns of ``prices`` the profile uses, checked: an absent fund is an error naming profile and ticker."""
    funds = (
        list(profile.funds)
        if profile.funds
        else [c for c in prices.columns if c not in {profile.benchmark, profile.vix, profile.index}]
    )
    wanted = funds + [c for c in (profile.benchmark, profile.index) if c] + list(profile.bear or ())
    missing = [c for c in wanted if c not in prices.columns]
    if missing:
        raise ParameterError(
            f"profile {profile.name} ({profile.path}) needs column {missing[0]!r}, absent from the prices "
            f"(columns: {', '.join(map(str, prices.columns))}); pass --prices FILE with these tickers"
        )
    return funds


def _restrict(series: pd.Series, start: str | None) -> pd.Series:
    """Report from ``start``: the last date before it becomes the start point (return 0). A start on or after the
    last date leaves no day to report: ParameterError."""
    if start is None:
        return series
    if len(series) and pd.Timestamp(start) >= series.index[-1]:
        raise ParameterError(f"start {start} is on or after the last date {series.index[-1]:%Y-%m-%d}: no day to "
                             "report")
    pos = max(int(series.index.searchsorted(pd.Timestamp(start))) - 1, 0)
    out = series.iloc[pos:].copy()
    out.iloc[0] = 0.0
    return out


def run_profile(
    profile: Profile,
    prices: pd.DataFrame,
    *,
    vix: pd.Series | None = None,
    overrides: dict[str, Any] | None = None,
    start: str | None = None,
    end: str | None = None,
) -> ProfileRun:
    """Backtest ``profile`` on ``prices`` (dates × tickers).

    ``vix``: VIX closes used when the profile's ``vix`` column is not in ``prices``. ``overrides``:
    parameters replacing the profile's ``[params]`` (experiment phases). ``start`` and ``end`` override the
    profile's. Errors from the strategy name the profile file.
    """
    if overrides:
        profile = profile.with_params(**overrides)
    funds = columns_needed(profile, prices)
    start = start or profile.start
    if end is not None:
        profile = Profile(**{**profile.__dict__, "end": end})
    try:
        if profile.strategy == "momentum":
            return _run_momentum(profile, prices, funds, vix, start)
        return _run_trend(profile, prices, funds, start)
    except ParameterError as exc:
        if str(profile.path) in str(exc):
            raise
        raise ParameterError(f"profile {profile.name} ({profile.path}): {exc}") from None


def _run_momentum(
    profile: Profile, prices: pd.DataFrame, funds: list[str], vix: pd.Series | None, start: str | None
) -> ProfileRun:
    from xlsector.momentum_rotation import run_momentum_backtest
    from xlsector.params import MomentumStrategy

    strategy = MomentumStrategy.from_kwargs(**profile.params)
    vix_input: str | pd.Series | None = None
    if profile.vix and profile.vix in prices.columns:
        vix_input = profile.vix
    elif vix is not None:
        vix_input = vix
    elif strategy.leverage_rule != "fixed":
        raise ParameterError(
            f"profile {profile.name} ({profile.path}) uses VIX leverage but no VIX closes were given: "
            f"add a {profile.vix or '^VIX'!r} column to the prices or pass --vix FILE"
        )
    result = run_momentum_backtest(
        prices,
        funds=funds,
        benchmark=profile.benchmark,
        vix=vix_input,
        start=start,
        end=profile.end,
        strategy=strategy,
    )
    return ProfileRun(profile, result, result.returns, result.holdings, result.benchmark_returns)


def _run_trend(profile: Profile, prices: pd.DataFrame, funds: list[str], start: str | None) -> ProfileRun:
    from xlsector.backtesting import run_backtest

    data = prices if profile.end is None else prices.loc[: pd.Timestamp(profile.end)]
    result = run_backtest(
        data[funds],
        index=data[profile.index] if profile.index else None,
        bear=data[list(profile.bear)] if profile.bear else None,
        benchmark=data[profile.benchmark] if profile.benchmark else None,
        **profile.params,
    )
    returns = _restrict(result.returns, start)
    holdings = result.holdings.loc[returns.index]
    bench = _restrict(result.benchmark_returns, start)
    return ProfileRun(profile, result, returns, holdings, bench)
