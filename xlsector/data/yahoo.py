"""Download adjusted closes from Yahoo Finance with yfinance, judged by the rows that came back, with a cache.

yfinance does not raise when offline or when a ticker fails: it logs and returns an empty (or partly
empty) frame. So success is judged per ticker by the rows that came back, and the reason for a failure
is taken from yfinance's log lines. Downloads are always made with ``auto_adjust=False`` and the
``Adj Close`` column is used (closes adjusted for splits and dividends, reinvested).

Cache: each ticker's download is kept as one JSON file in ``<cache folder>/yahoo/`` (written atomically).
The cache folder is ``$XLSECTOR_CACHE_DIR`` if set, else the platform's user cache folder
(``~/.cache/xlsector`` on Linux, ``~/Library/Caches/xlsector`` on macOS,
``%LOCALAPPDATA%\\xlsector\\Cache`` on Windows). A cached ticker is used without downloading when it was
fetched less than ``max_age`` ago (default 12 hours) and its download started on or before the start
asked for.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlsector.errors import DataError, XlsectorError
from xlsector.fileio import atomic_write_bytes

__all__ = [
    "DownloadError",
    "cache_dir",
    "download_prices",
    "yahoo_download",
]

DEFAULT_START = "1990-01-01"
DEFAULT_MAX_AGE = _dt.timedelta(hours=12)
_SAFE = re.compile(r"[^A-Za-z0-9_.=-]")

#: A downloader takes (tickers, start, end, session) and returns a frame shaped like yfinance.download's.
Downloader = Callable[[list[str], str, "str | None", Any], pd.DataFrame]


class DownloadError(XlsectorError):
    """Some tickers could not be downloaded; ``failures`` maps each to the reason."""

    def __init__(self, failures: dict[str, str], message: str | None = None):
        self.failures = dict(failures)
        lines = [f"{ticker}: {reason}" for ticker, reason in self.failures.items()]
        text = message or f"download failed for {len(lines)} ticker{'s' if len(lines) != 1 else ''}"
        super().__init__(text + ("\n  " + "\n  ".join(lines) if lines else ""))


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The xlsector cache folder: ``override``, else ``$XLSECTOR_CACHE_DIR``, else the platform cache folder."""
    if override is not None:
        return Path(override)
    env = os.environ.get("XLSECTOR_CACHE_DIR", "").strip()
    if env:
        return Path(env)
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("xlsector", appauthor=False))
    except ImportError:  # pragma: no cover - platformdirs comes with yfinance
        return Path.home() / ".cache" / "xlsector"


class _LogCollector(logging.Handler):
    """Collects yfinance's error lines, which name the failed tickers and why."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage())
        except Exception as exc:  # noqa: BLE001 - a bad log record must not break the download
            self.lines.append(f"(unreadable log record: {exc})")


def _reason_for(ticker: str, lines: list[str]) -> str | None:
    """yfinance's reason for a failed ticker, from its log lines, plus a hint when the network failed."""
    upper = ticker.upper()
    reason = None
    for line in lines:
        text = line.strip()
        if text.startswith("[") and "]: " in text:
            names, _, message = text.partition("]: ")
            if f"'{upper}'" in names:
                reason = message.strip()
                break
        elif text.startswith(f"${upper}: "):
            reason = text[len(upper) + 3 :].strip()
            break
    network = next((line.strip() for line in lines if "ConnectionError" in line or "Timeout" in line), None)
    if network and reason:
        reason += f" (network: {network})"
    elif network:
        reason = f"network: {network}"
    return reason


def _default_session() -> Any:
    """The HTTP session for downloads: ``None`` lets yfinance make its own (tests replace this seam)."""
    return None


def yahoo_download(
    tickers: list[str], start: str, end: str | None = None, session: Any = None
) -> tuple[pd.DataFrame, list[str]]:
    """Call ``yfinance.download`` (explicit ``auto_adjust=False``) and return (frame, yfinance log lines)."""
    try:
        import yfinance as yf
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise XlsectorError(f"downloading needs the yfinance package: {exc}") from None
    if session is None:
        session = _default_session()
    logger = logging.getLogger("yfinance")
    collector = _LogCollector()
    logger.addHandler(collector)
    try:
        with warnings.catch_warnings():  # yfinance's own pandas deprecation noise is not the user's concern
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            frame = yf.download(
                tickers,
                start=start,
                end=end,
                auto_adjust=False,
                actions=False,
                progress=False,
                threads=True,
                group_by="column",
                multi_level_index=True,
                session=session,
                timeout=20,
            )
    except Exception as exc:  # noqa: BLE001 - yfinance raises many kinds on fatal cases (rate limit, session)
        lines = collector.lines + [f"{type(exc).__name__}: {exc}"]
        return pd.DataFrame(), lines
    finally:
        logger.removeHandler(collector)
    return (frame if frame is not None else pd.DataFrame()), collector.lines


def _adj_close_series(frame: pd.DataFrame, ticker: str) -> pd.Series | None:
    """One ticker's adjusted closes as floats on dates (no time, no zone, no repeated day), None if none."""
    column = _adj_close(frame, ticker)
    if column is None:
        return None
    column = pd.to_numeric(column, errors="coerce").astype(float)
    index = pd.DatetimeIndex(column.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    column.index = index.normalize().as_unit("us")
    column = column[~column.index.duplicated(keep="last")].dropna()
    if column.empty:
        return None
    column.name = ticker
    return column


def _adj_close(frame: pd.DataFrame, ticker: str) -> pd.Series | None:
    """The Adj Close column of one ticker from a yfinance.download frame (MultiIndex or flat)."""
    if frame is None or frame.empty:
        return None
    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        for key in (
            ("Adj Close", ticker),
            ("Adj Close", ticker.upper()),
            (ticker, "Adj Close"),
            (ticker.upper(), "Adj Close"),
        ):
            if key in columns:
                return frame[key]
        return None
    if "Adj Close" in columns:
        return frame["Adj Close"]
    return None


def _cache_file(folder: Path, ticker: str) -> Path:
    return folder / "yahoo" / (_SAFE.sub("_", ticker) + ".json")


def _read_cache(folder: Path, ticker: str, start: pd.Timestamp, max_age: _dt.timedelta) -> pd.Series | None:
    path = _cache_file(folder, ticker)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        fetched = _dt.datetime.fromisoformat(payload["fetched_at"])
        cached_start = pd.Timestamp(payload["start"])
        series = pd.Series(
            np.asarray(payload["adj_close"], dtype=float),
            index=pd.DatetimeIndex(pd.to_datetime(payload["dates"], format="%Y-%m-%d")).as_unit("us"),
            name=ticker,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no cache or an unreadable one: download again
    age = _dt.datetime.now(_dt.UTC).replace(tzinfo=None) - fetched
    if age > max_age or age < _dt.timedelta(0) or cached_start > start:
        return None
    series.attrs["fetched_at"] = fetched
    return series.loc[start:]


def _write_cache(
    folder: Path, ticker: str, series: pd.Series, start: pd.Timestamp, fetched: _dt.datetime
) -> None:
    values = series.to_numpy(dtype=float)
    payload = {
        "ticker": ticker,
        "source": "Yahoo Finance via yfinance, Adj Close, auto_adjust=False",
        "start": f"{start:%Y-%m-%d}",
        "fetched_at": fetched.isoformat(timespec="seconds"),
        "dates": pd.DatetimeIndex(series.index).strftime("%Y-%m-%d").tolist(),
        "adj_close": [None if np.isnan(value) else value for value in values.tolist()],
    }
    path = _cache_file(folder, ticker)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(payload).encode("utf-8"))
    except (OSError, XlsectorError) as exc:  # a cache that cannot be written is not fatal
        logging.getLogger("xlsector").warning("could not write the download cache %s: %s", path, exc)


@dataclass(frozen=True)
class _Fetched:
    series: dict[str, pd.Series]
    fetched_at: dict[str, _dt.datetime]
    failures: dict[str, str]


def fetch_adj_close(
    tickers: Sequence[str],
    start: str | _dt.date | pd.Timestamp = DEFAULT_START,
    *,
    end: str | _dt.date | None = None,
    session: Any = None,
    downloader: Downloader | None = None,
    cache: str | os.PathLike[str] | None = None,
    max_age: _dt.timedelta | None = DEFAULT_MAX_AGE,
) -> _Fetched:
    """Adjusted closes per ticker (from the cache or a download) and the failed tickers with reasons."""
    wanted = list(dict.fromkeys(t.strip() for t in tickers if t and t.strip()))
    if not wanted:
        raise DataError("tickers: give at least one ticker to download")
    try:
        start_ts = pd.Timestamp(start).normalize()
    except (ValueError, TypeError):
        raise DataError(f"start must be a date like 2005-01-03, got {start!r}") from None
    folder = cache_dir(cache)
    series: dict[str, pd.Series] = {}
    fetched_at: dict[str, _dt.datetime] = {}
    if max_age is not None and max_age > _dt.timedelta(0) and end is None:
        for ticker in wanted:
            hit = _read_cache(folder, ticker, start_ts, max_age)
            if hit is not None and len(hit):
                series[ticker] = hit
                fetched_at[ticker] = hit.attrs["fetched_at"]
    missing = [t for t in wanted if t not in series]
    failures: dict[str, str] = {}
    now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None, microsecond=0)
    call = downloader or yahoo_download

    def download(batch: list[str]) -> None:
        result = call(batch, f"{start_ts:%Y-%m-%d}", None if end is None else str(end), session)
        frame, lines = result if isinstance(result, tuple) else (result, [])
        for ticker in batch:
            column = _adj_close_series(frame, ticker)
            if column is None:
                failures[ticker] = _reason_for(ticker, lines) or "no rows came back (offline, or an unknown ticker?)"
                continue
            failures.pop(ticker, None)
            series[ticker] = column
            fetched_at[ticker] = now
            _write_cache(folder, ticker, column, start_ts, now)

    if missing:
        download(missing)
        # yfinance's download threads share its own SQLite caches and sometimes lose the race ("database is
        # locked", yfinance issue #1689): such a ticker is asked again, alone, once
        for ticker in [t for t, reason in failures.items() if "database is locked" in reason]:
            download([ticker])
    return _Fetched(series, fetched_at, failures)


def download_prices(
    tickers: Sequence[str],
    start: str | _dt.date | pd.Timestamp = DEFAULT_START,
    *,
    end: str | _dt.date | None = None,
    session: Any = None,
    downloader: Downloader | None = None,
    cache: str | os.PathLike[str] | None = None,
    max_age: _dt.timedelta | None = DEFAULT_MAX_AGE,
    validate: bool = True,
):
    """Download adjusted closes from Yahoo Finance as :class:`~xlsector.data.PriceData`.

    Parameters
    ----------
    tickers : sequence of str
        Yahoo tickers (``"XLK"``, ``"^GSPC"``, ``"^VIX"``); columns keep this spelling and order.
    start : date-like, default 1990-01-01
        First date asked for (each ticker starts at its own first trading day if later).
    end : date-like, optional
        Exclusive end date (default: today). With an end date the cache is not read.
    session : curl_cffi or requests Session, optional
        Passed to ``yfinance.download`` (proxies; the tests' loopback transport).
    downloader : callable, optional
        Replaces :func:`yahoo_download`: ``(tickers, start, end, session) -> frame`` or ``(frame, log_lines)``.
    cache : path, optional
        Cache folder (default :func:`cache_dir`). ``max_age=None`` or 0 skips reading it (still written).
    validate : bool, default True
        Run :func:`~xlsector.data.validate_prices` on the result.

    Raises
    ------
    DownloadError
        One or more tickers returned no rows; the message lists each with yfinance's reason. Nothing
        is returned for the others (a partial download is a failed download).
    """
    from xlsector.data.sources import PriceData, make_provenance
    from xlsector.data.validate import validate_prices

    got = fetch_adj_close(
        tickers, start, end=end, session=session, downloader=downloader, cache=cache, max_age=max_age
    )
    if got.failures:
        raise DownloadError(got.failures)
    order = [t for t in dict.fromkeys(t.strip() for t in tickers if t and t.strip())]
    frame = pd.concat([got.series[t] for t in order], axis=1, sort=True)
    frame.index.name = "Date"
    if validate:
        frame, _ = validate_prices(frame)
    fetched = min(got.fetched_at.values()) if got.fetched_at else None
    return PriceData(frame, make_provenance(frame, _source_label(), fetched_at=fetched))


def _source_label() -> str:
    try:
        from importlib.metadata import version

        return f"Yahoo Finance (yfinance {version('yfinance')}, Adj Close)"
    except Exception:  # noqa: BLE001 - a broken installation's metadata: the label without the version
        return "Yahoo Finance (yfinance, Adj Close)"
