"""Where things are shown in the template workbook: rows of the Settings and provenance tables, and the
one-line description of each sheet (its row 2 and the Start sheet's table of contents). The names
themselves (sheets, settings, provenance) belong to the workbook contract, :mod:`xlsector.contract`."""

from __future__ import annotations

from xlsector.contract import DATA_SHEET, SETTINGS, SETTINGS_SHEET, START_SHEET

__all__ = ["OWN_DATA_CAUTION", "PROVENANCE_FIRST_ROW", "SAMPLE_DISCLOSURE", "SETTINGS_FIRST_ROW", "SHEET_DESCRIPTIONS",
           "disclosure_for", "setting_row"]

#: First row of the settings table on the Settings sheet (row 3 holds the headers).
SETTINGS_FIRST_ROW = 4
#: First row of the provenance cells on the Start sheet.
PROVENANCE_FIRST_ROW = 5


def setting_row(name: str) -> int:
    """Row of setting ``name`` on the Settings sheet of a fresh template."""
    for i, setting in enumerate(SETTINGS):
        if setting.name == name:
            return SETTINGS_FIRST_ROW + i
    raise KeyError(name)


#: Shown near the top of Start and Summary when the data is the bundled sample (docs/data.md says the same).
SAMPLE_DISCLOSURE = (
    "SURVIVORSHIP BIAS: the bundled sample is 10 large US stocks (XOM JPM JNJ MRK PG KO WMT HD GE MSFT) chosen "
    "today, in hindsight, because they became and stayed large; they are not sector funds. 9 of the 10 grew "
    "faster than the S&P 500 price index over 1990-2022, so every backtest, trend chart and FWPT figure on it "
    "(the equal-weight buy-and-hold benchmark too) is flattered by a choice nobody could have made in 1990. "
    "Use it to learn the workbook, not to judge the strategy: load funds that existed at the time (e.g. the "
    "sector ETFs) for that."
)
#: Shown in the same place for any other data.
OWN_DATA_CAUTION = (
    "Survivorship bias: a universe chosen today (funds that still exist, or that did well) flatters every "
    "backtest on it, benchmarks included. Prefer funds that existed at the start of the data, and compare with "
    "the fair benchmarks below."
)


def disclosure_for(source: object) -> str:
    """The disclosure for data from ``source`` (the DataSource provenance text)."""
    return SAMPLE_DISCLOSURE if str(source or "").lower().startswith("bundled sample") else OWN_DATA_CAUTION


SHEET_DESCRIPTIONS = {
    START_SHEET: "What is inside, where the data comes from, how to refresh and re-render.",
    "Summary": "Today's action, the strategy's metrics against its benchmark, and the FWPT tuning now.",
    SETTINGS_SHEET: "Every parameter as a named cell (the formulas read these names).",
    DATA_SHEET: "Daily adjusted closes: dates down, one column per fund, bear fund, index, VIX, cash rate "
    "(the name DataTable covers the table and grows with it).",
    "Theory": "The paper's table: price, k x daily return, EMA and EMA2 in native formulas next to the "
    "EMA2_TREND function, and Chart 1 (the EMA and EMA2 weights against age).",
    "Trends": "The EMA2 trend of each fund over time (EMA2_TREND over the Data table).",
    "Hysteresis": "Two funds' trends around a bear market, the hurdle (target's trend + remaining bonus) "
    "and the trades (SECTOR_PICKS).",
    "StormGuard": "The market-filter indicator (EMA2 of the index), its +/- shift band and the bull/bear state.",
    "TrendChart": "Score against trend constant over the tuning grid (in sample, whole data period).",
    "Stationarity": "Split-sample trend charts (first half, second half, whole) and the progressive-tune tc.",
    "FWPT": "Forward Walk Progressive Tuning: tuned tc over time, holdings, equity against the benchmark, "
    "and in- vs out-of-sample metrics.",
    "Momentum": "Momentum-rotation experiment grids (SPEC section 3) as tables and charts (values).",
}
