"""Market days beyond the data: what the last row's week or month end, the next decision day, the trade day and
the next retune date are measured in.

Inside the data the rows themselves are the market days: a day is the last of its week or month when the next
row falls in a later one. After the last row there is no next row, so the next market day comes from a calendar:

- **the New York Stock Exchange's** (``XNYS`` of the maintained `exchange_calendars` package: holidays and
  special closures: Good Friday, Memorial Day, 2012's hurricane...) when the data follows it: every date of the data's last year is an NYSE session, and that year skips at least one weekday
  the NYSE was closed (evidence that the data knows the holidays). Then a last row on 2024-03-28 (the next weekday,
  Good Friday, is a holiday) ends its week and its month, and one on 2021-05-28 (the next weekday, 31 May, is
  Memorial Day) ends its month, as the next row shows when it arrives;
- **weekdays** (Monday to Friday) otherwise: data on synthetic business days, on another market's calendar, or too
  short to tell. The last row's rule is then the weekday rule, which the next row confirms when the data goes on
  on weekdays.

Appending future rows never changes a past decision as long as the new rows follow the calendar the data
followed (the no-look-ahead property); a row for a day the rule did not expect (a session on an NYSE holiday in
NYSE data, a missing day) can change the decision of the row before it, and only that one.

The calendar package is imported only when a question needs it (``import xlsector`` stays light); where it cannot
be imported the weekday rule applies.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EXCHANGE", "MarketDays", "market_days", "market_days_after", "next_market_day"]

#: The exchange calendar of `exchange_calendars` the data is compared with.
EXCHANGE = "XNYS"
#: How far back (calendar days) the data is compared with the exchange's sessions.
WINDOW_DAYS = 366
#: How far after the last row the exchange's sessions are loaded (calendar days): the next retune is at most a
#: few hundred market days away.
AHEAD_DAYS = 800


def _weekday(days: np.ndarray) -> np.ndarray:
    return (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (weekday 3, Monday = 0)


def next_market_day(days: np.ndarray) -> np.ndarray:
    """The next weekday (Monday–Friday) after each datetime64[D] day (the weekday rule)."""
    weekday = _weekday(days)
    step = np.where(weekday >= 4, 7 - weekday, 1)
    return days + step.astype("timedelta64[D]")


@functools.lru_cache(maxsize=8)
def _sessions(first_year: int, last_year: int) -> np.ndarray | None:
    """The exchange's sessions from the start of ``first_year`` to the end of ``last_year`` (datetime64[D]), or
    None when the calendar package cannot be used."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the package's own deprecation notices from pandas
            import exchange_calendars as xc

            calendar = xc.get_calendar(EXCHANGE, start=f"{first_year}-01-01", end=f"{last_year}-12-31")
            return np.asarray(calendar.sessions.values.astype("datetime64[D]"))
    except Exception:  # noqa: BLE001 - missing package, a date outside what it covers: the weekday rule applies
        return None


@dataclass(frozen=True)
class MarketDays:
    """The market days after a day: the exchange's sessions (``name`` "NYSE") or weekdays ("weekdays")."""

    name: str
    sessions: np.ndarray | None = None  # sorted datetime64[D], covering the days asked about (NYSE only)

    def next_day(self, day: Any) -> Any:
        """The first market day after ``day`` (a datetime64), as a datetime64[D]."""
        days = np.array([day], dtype="datetime64[D]")
        if self.sessions is not None:
            i = int(np.searchsorted(self.sessions, days[0], side="right"))
            if i < len(self.sessions):
                return self.sessions[i]
        return next_market_day(days)[0]

    def days_after(self, day: pd.Timestamp, count: int) -> pd.DatetimeIndex:
        """The ``count`` market days after ``day``."""
        out: list[Any] = []
        current: Any = np.datetime64(pd.Timestamp(day).date(), "D")
        for _ in range(count):
            current = self.next_day(current)
            out.append(current)
        return pd.DatetimeIndex(np.array(out, dtype="datetime64[ns]"))


WEEKDAYS = MarketDays("weekdays")


def market_days(dates: pd.DatetimeIndex) -> MarketDays:
    """The calendar the data ``dates`` follow (module docstring): NYSE sessions or weekdays."""
    if not len(dates):
        return WEEKDAYS
    days = np.asarray(pd.DatetimeIndex(dates).values.astype("datetime64[D]"))
    last = days[-1]
    window = days[days > last - np.timedelta64(WINDOW_DAYS, "D")]
    first = window[0]
    years = first.astype("datetime64[Y]").astype(int) + 1970, (last + np.timedelta64(AHEAD_DAYS, "D")).astype(
        "datetime64[Y]").astype(int) + 1970
    sessions = _sessions(int(years[0]), int(years[1]))
    if sessions is None:
        return WEEKDAYS
    if not np.isin(window, sessions).all():
        return WEEKDAYS  # a date the exchange was closed: another calendar (business days, another market)
    inside = sessions[(sessions >= first) & (sessions <= last)]
    span = np.arange(first, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
    weekdays = int((_weekday(span) < 5).sum())
    if weekdays == len(inside):
        return WEEKDAYS  # no holiday in the window: nothing tells the two calendars apart
    return MarketDays("NYSE", sessions)


def market_days_after(day: pd.Timestamp, count: int, calendar: MarketDays | None = None) -> pd.DatetimeIndex:
    """The ``count`` market days after ``day`` in ``calendar`` (default: the weekday rule)."""
    return (calendar or WEEKDAYS).days_after(day, count)
