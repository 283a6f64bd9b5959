"""Where things are shown in the template workbook: rows of the Settings and provenance tables, and the
one-line description of each sheet (its row 2 and the Start sheet's table of contents). The names
themselves (sheets, settings, provenance) belong to the workbook contract, :mod:`xlsector.contract`."""

from __future__ import annotations

from xlsector.contract import DATA_SHEET, SETTINGS, SETTINGS_SHEET, START_SHEET

__all__ = ["PROVENANCE_FIRST_ROW", "SETTINGS_FIRST_ROW", "SHEET_DESCRIPTIONS", "setting_row"]

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
