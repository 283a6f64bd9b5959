"""Where things live in the template workbook: sheet names, settings, provenance cells, areas.

The template (:mod:`xlsector.workbook.template`), the settings reader (:mod:`xlsector.workbook.settings`)
and the render (:mod:`xlsector.workbook.render`) share these constants, so a sheet or a named cell has
one name everywhere (the workbook contract of the team brief).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "COMPUTED_SHEETS",
    "DATA_SHEET",
    "PROVENANCE",
    "REQUIRED_SHEETS",
    "SETTINGS",
    "SETTINGS_SHEET",
    "SHEET_ORDER",
    "START_SHEET",
    "Setting",
    "setting_row",
]

START_SHEET = "Start"
SETTINGS_SHEET = "Settings"
DATA_SHEET = "Data"

#: Sheets the render fills from the core, in tab order (after Start, Settings and Data).
COMPUTED_SHEETS = [
    "Summary",
    "Theory",
    "Trends",
    "Hysteresis",
    "StormGuard",
    "TrendChart",
    "Stationarity",
    "FWPT",
    "Momentum",
]
SHEET_ORDER = [START_SHEET, "Summary", SETTINGS_SHEET, DATA_SHEET, *COMPUTED_SHEETS[1:]]

#: A render refuses a workbook without these (it cannot know the user's settings and data otherwise).
REQUIRED_SHEETS = [SETTINGS_SHEET, DATA_SHEET]

Kind = Literal["text", "number", "whole", "date", "choice"]


@dataclass(frozen=True)
class Setting:
    """One row of the Settings sheet: a workbook-level defined name on its value cell."""

    name: str
    default: Any
    kind: Kind
    description: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    blank_ok: bool = False
    number_format: str | None = None


SETTINGS: list[Setting] = [
    Setting("Funds", "XOM,JPM,JNJ,MRK,PG,KO,WMT,HD,GE,MSFT", "text",
            "Comma-separated tickers of the fund universe (up to 12); each must be a column of the Data sheet."),
    Setting("BearFunds", "", "text",
            "Comma-separated tickers held in StormGuard's bear state (best trend wins); blank = cash.",
            blank_ok=True),
    Setting("MarketIndex", "^GSPC", "text",
            "Data column of the market index (price index, no dividends) that StormGuard follows."),
    Setting("Benchmark", "", "text",
            "Data column the strategy is compared with (metrics and equity charts); blank = MarketIndex.",
            blank_ok=True),
    Setting("VixTicker", "", "text", "Data column of the VIX (momentum leverage rules); blank = none.",
            blank_ok=True),
    Setting("CashRate", "", "text",
            "Data column holding the annual cash rate in percent (earned in cash); blank = 0.", blank_ok=True),
    Setting("RefreshStart", dt.datetime(1990, 1, 2), "date",
            "First date the Refresh data button downloads.", number_format="yyyy-mm-dd"),
    Setting("TrendConstant", 50, "number",
            "Trend constant tc in market days (a = 1/tc) of the EMA2 trend.", low=1, high=10000),
    Setting("Scale", 22, "number",
            "Scale k: k × daily return makes the trend roughly a monthly figure (22; the paper uses 21).",
            low=1e-9, high=1000),
    Setting("Hysteresis", 0.01, "number",
            "Bonus h (trend units) added to a fund's trend right after a switch into it; 0 = off.",
            low=0, high=10),
    Setting("HysteresisDecay", None, "number",
            "Decay constant of the bonus in market days; blank = the trend constant.", low=1, high=10000,
            blank_ok=True),
    Setting("Schedule", "daily", "choice", "Decision days: daily, week (last market day) or month (last).",
            choices=("daily", "week", "month")),
    Setting("MinHold", 0, "whole", "Minimum holding in market days before another switch.", low=0, high=10000),
    Setting("Delay", 1, "whole", "Market days between the decision (at a close) and the trade (0 or 1).",
            low=0, high=1),
    Setting("CostBp", 10, "number", "Cost of a switch in basis points of the traded value.", low=0, high=10000),
    Setting("MinHistory", 22, "whole", "Market days of prices a fund needs before it may be picked.",
            low=1, high=100000),
    Setting("StormGuard", "off", "choice",
            "Market filter: off, standard (state changes at month end) or quick (any day, last trade >= 15 "
            "days old).", choices=("off", "standard", "quick")),
    Setting("StormGuardShift", 0.005, "number",
            "Band around zero (trend units): bull -> bear below -shift, bear -> bull above +shift.",
            low=0, high=10),
    Setting("BornOn", None, "date",
            "FWPT born-on date (end of the first tuning); blank = five years after the data start.",
            blank_ok=True, number_format="yyyy-mm-dd"),
    Setting("RetuneDays", 125, "whole", "FWPT retunes the trend constant about every this many market days.",
            low=1, high=100000),
    Setting("TcMin", 2, "whole", "Smallest trend constant of the tuning grid (trend chart, FWPT).",
            low=1, high=10000),
    Setting("TcMax", 200, "whole", "Largest trend constant of the tuning grid.", low=1, high=10000),
]

#: First row of the settings table on the Settings sheet (row 3 holds the headers).
SETTINGS_FIRST_ROW = 4


def setting_row(name: str) -> int:
    """Row of setting ``name`` on the Settings sheet of a fresh template."""
    for i, setting in enumerate(SETTINGS):
        if setting.name == name:
            return SETTINGS_FIRST_ROW + i
    raise KeyError(name)


#: Provenance named cells on the Start sheet: (name, label, number format).
PROVENANCE = [
    ("DataSource", "Data source", None),
    ("DataFirstDate", "First date", "yyyy-mm-dd"),
    ("DataLastDate", "Last date", "yyyy-mm-dd"),
    ("DataFetched", "Fetched", "yyyy-mm-dd hh:mm"),
    ("DataTickers", "Tickers", None),
    ("RenderedAt", "Last render", "yyyy-mm-dd hh:mm"),
]
PROVENANCE_FIRST_ROW = 5

#: One line per sheet: what it shows (the Start sheet's table of contents and each sheet's row 2).
SHEET_DESCRIPTIONS = {
    START_SHEET: "What is inside, where the data comes from, how to refresh and re-render.",
    "Summary": "The current pick, the next FWPT retune date and the headline metrics against the benchmark.",
    SETTINGS_SHEET: "Every parameter as a named cell (the names are used by the formulas and the render).",
    DATA_SHEET: "Daily adjusted closes: dates down, one column per fund, bear fund, index, VIX, cash rate.",
    "Theory": "The paper's table: price, k x daily return, EMA and EMA2 in native formulas next to the "
    "EMA2_TREND function, and Chart 1 (the EMA and EMA2 weights against age).",
    "Trends": "The EMA2 trend of each fund over time (weekly samples of the daily trend).",
    "Hysteresis": "Two funds' trends around a bear market, the hurdle (holding's trend + remaining bonus) "
    "and the trades.",
    "StormGuard": "The market-filter indicator (EMA2 of the index), its +/- shift band and the bull/bear state.",
    "TrendChart": "Score against trend constant over the tuning grid (in sample, whole data period).",
    "Stationarity": "Split-sample trend charts (first half, second half, whole) and the progressive-tune tc.",
    "FWPT": "Forward Walk Progressive Tuning: tuned tc over time, holdings, equity against the benchmark, "
    "and in- vs out-of-sample metrics.",
    "Momentum": "Momentum-rotation experiment grids (SPEC section 3) as tables and charts.",
}

#: Row where the computed area of each computed sheet starts (rows 1-3: title, description, period).
AREA_FIRST_ROW = 4
