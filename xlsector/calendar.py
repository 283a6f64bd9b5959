"""Market days beyond the data: what the last row's period end, the next decision day and the next retune
date are measured in.

Inside the data the rows themselves are the market days. After the last row, market days are estimated as
weekdays (Monday–Friday): exchange holidays are not known here, so a last row on the day before a holiday
that ends a week or month is not seen as its period's end until the next row arrives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["market_days_after", "next_market_day"]


def next_market_day(days: np.ndarray) -> np.ndarray:
    """The next market day (Monday–Friday) after each datetime64[D] day."""
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (weekday 3, Monday = 0)
    step = np.where(weekday >= 4, 7 - weekday, 1)
    return days + step.astype("timedelta64[D]")


def market_days_after(day: pd.Timestamp, count: int) -> pd.DatetimeIndex:
    """The ``count`` market days after ``day``."""
    out = []
    current = np.array([np.datetime64(pd.Timestamp(day).date(), "D")])
    for _ in range(count):
        current = next_market_day(current)
        out.append(current[0])
    return pd.DatetimeIndex(np.array(out, dtype="datetime64[ns]"))
