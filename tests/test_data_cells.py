"""cells_to_prices: the one converter from spreadsheet cells to a price frame."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlsector.data.cells import cells_to_prices, excel_serial_to_datetime, is_excel_error
from xlsector.errors import DataError

D = dt.datetime


def test_header_and_datetime_column():
    frame = cells_to_prices([["Date", "XLK", "XLF"], [D(2020, 1, 2), 10.0, None], [D(2020, 1, 3), 11, 20.5]])
    assert list(frame.columns) == ["XLK", "XLF"]
    assert frame.index.name == "Date"
    assert list(frame.index) == [pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-03")]
    assert frame.dtypes.tolist() == [np.float64, np.float64]
    assert frame.loc["2020-01-03", "XLK"] == 11.0
    assert np.isnan(frame.loc["2020-01-02", "XLF"])


def test_no_header_no_dates_gives_col_names_and_range_index():
    frame = cells_to_prices([[1.0, 2.0], [3.0, 4.0]])
    assert list(frame.columns) == ["Col1", "Col2"]
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame.to_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_flat_list_is_one_column_and_2d_column_is_the_same():
    flat = cells_to_prices([1.0, None, 3.0])
    column = cells_to_prices([[1.0], [None], [3.0]])
    pd.testing.assert_frame_equal(flat, column)
    assert list(flat.columns) == ["Col1"]
    assert np.isnan(flat.iloc[1, 0])


def test_single_column_with_header():
    frame = cells_to_prices(["SPY", 1.0, 2.0])
    assert list(frame.columns) == ["SPY"]
    assert frame["SPY"].tolist() == [1.0, 2.0]


def test_ragged_rows_are_padded_with_blanks():
    frame = cells_to_prices([["Date", "A", "B"], [D(2020, 1, 2), 1.0], [D(2020, 1, 3), 2.0, 3.0]])
    assert np.isnan(frame.loc["2020-01-02", "B"])
    assert frame.loc["2020-01-03", "B"] == 3.0


def test_empty_strings_are_blanks_and_trailing_blank_rows_columns_dropped():
    cells = [
        ["Date", "A", "", None],
        [D(2020, 1, 2), "", "", None],
        [D(2020, 1, 3), 2.0, "", None],
        [None, None, "", None],
        ["", None, None, None],
    ]
    frame = cells_to_prices(cells)
    # column 3 has no header and no data but is not at the end? it is: columns 3 and 4 are blank -> dropped
    assert list(frame.columns) == ["A"]
    assert len(frame) == 2
    assert np.isnan(frame.iloc[0, 0])


def test_serial_dates_detected():
    # 43831 = 2020-01-01 in Excel's 1900 system (checked against openpyxl.utils.datetime.from_excel below)
    frame = cells_to_prices([[43831, 1.0, 5.0], [43832, 2.0, 6.0]])
    assert list(frame.index) == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-02")]
    assert list(frame.columns) == ["Col2", "Col3"]


def test_prices_that_look_like_serials_are_not_dates_when_not_increasing():
    frame = cells_to_prices([[43832.0, 1.0], [43831.0, 2.0]])
    assert isinstance(frame.index, pd.RangeIndex)
    assert list(frame.columns) == ["Col1", "Col2"]


def test_small_numbers_are_not_dates_unless_forced_or_header_says_date():
    assert isinstance(cells_to_prices([[1.0, 2.0], [3.0, 4.0]]).index, pd.RangeIndex)
    forced = cells_to_prices([[1, 2.0], [3, 4.0]], dates=True)
    assert list(forced.index) == [pd.Timestamp("1900-01-01"), pd.Timestamp("1900-01-03")]
    by_header = cells_to_prices([["Trade date", "X"], [61, 2.0]])
    assert by_header.index[0] == pd.Timestamp("1900-03-01")
    assert by_header.index.name == "Trade date"


def test_excel_1900_leap_bug():
    # Excel: serial 59 = 1900-02-28, 60 = the fictitious 1900-02-29, 61 = 1900-03-01
    out = excel_serial_to_datetime([1, 59, 61, 43831, 45658.5])
    assert [pd.Timestamp(x) for x in out] == [
        pd.Timestamp("1900-01-01"),
        pd.Timestamp("1900-02-28"),
        pd.Timestamp("1900-03-01"),
        pd.Timestamp("2020-01-01"),
        pd.Timestamp("2025-01-01 12:00"),
    ]
    with pytest.raises(DataError, match="fictitious 1900-02-29"):
        excel_serial_to_datetime([60])
    with pytest.raises(DataError, match="outside"):
        excel_serial_to_datetime([0])


def test_serials_agree_with_openpyxl():
    from openpyxl.utils.datetime import from_excel

    serials = [1, 2, 59, 61, 100, 36526, 43831, 45000, 60000]
    ours = [pd.Timestamp(x).to_pydatetime() for x in excel_serial_to_datetime(serials)]
    assert ours == [from_excel(s) for s in serials]


def test_serial_60_in_date_column_names_the_cell():
    with pytest.raises(DataError, match=r"row 3, column 1 \(Date\).*60"):
        cells_to_prices([["Date", "A"], [59, 1.0], [60, 2.0]])


def test_iso_text_dates():
    frame = cells_to_prices([["Date", "A"], ["2020-01-02", 1.0], ["2020-01-03", 2.0]])
    assert frame.index[1] == pd.Timestamp("2020-01-03")


def test_date_objects_and_timestamps_and_datetime64():
    frame = cells_to_prices(
        [[dt.date(2020, 1, 2), 1.0], [pd.Timestamp("2020-01-03"), 2.0], [D(2020, 1, 6), 3.0]]
    )
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2020-01-02", "2020-01-03", "2020-01-06"]
    frame = cells_to_prices([[np.datetime64("2020-01-02"), 1.0]])
    assert frame.index[0] == pd.Timestamp("2020-01-02")


@pytest.mark.parametrize(
    ("bad", "shown"),
    [("#N/A", "error value #N/A"), ("#DIV/0!", "error value #DIV/0!"), ("abc", "text 'abc'"),
     ("1.5", "text '1.5'"), (True, "boolean TRUE")],
)  # fmt: skip
def test_bad_price_cell_names_row_column_header_and_value(bad, shown):
    cells = [["Date", "XLK", "XLF"], [D(2020, 1, 2), 1.0, 2.0], [D(2020, 1, 3), 1.0, 2.0],
             [D(2020, 1, 6), 1.0, 2.0], [D(2020, 1, 7), 1.0, bad]]  # fmt: skip
    with pytest.raises(DataError, match=rf"row 5, column 3 \(XLF\) holds the {shown}"):
        cells_to_prices(cells)


def test_bad_cell_row_number_counts_dropped_blank_rows():
    cells = [["Date", "A"], [D(2020, 1, 2), 1.0], [None, None], [D(2020, 1, 6), "oops"]]
    with pytest.raises(DataError, match=r"row 4, column 2 \(A\)"):
        cells_to_prices(cells)


def test_blank_date_with_price_is_an_error():
    with pytest.raises(DataError, match=r"row 3, column 1 \(Date\) has no date"):
        cells_to_prices([["Date", "A"], [D(2020, 1, 2), 1.0], [None, 2.0]])


def test_bad_date_cell():
    with pytest.raises(DataError, match=r"row 3, column 1 \(Date\) should hold a date, got the text 'soon'"):
        cells_to_prices([["Date", "A"], [D(2020, 1, 2), 1.0], ["soon", 2.0]])


def test_header_forcing():
    # a header of numbers (fund ids) is only a header when forced
    frame = cells_to_prices([[101, 102], [1.0, 2.0]], header=True)
    assert list(frame.columns) == ["101", "102"]
    frame = cells_to_prices([[1.0, 2.0]], header=["A", "B"])
    assert list(frame.columns) == ["A", "B"]
    with pytest.raises(DataError, match="text 'A'"):
        cells_to_prices([["A", "B"], [1.0, 2.0]], header=False)


def test_dates_false_keeps_first_column_as_prices():
    frame = cells_to_prices([[43831, 1.0], [43832, 2.0]], dates=False)
    assert list(frame.columns) == ["Col1", "Col2"]


def test_duplicate_names():
    with pytest.raises(DataError, match=r"'A' appears twice \(columns 2 and 3\)"):
        cells_to_prices([["Date", "A", "A"], [D(2020, 1, 2), 1.0, 2.0]])


def test_empty_range_gives_empty_frame():
    assert cells_to_prices([]).shape == (0, 0)
    assert cells_to_prices([[None, None]]).shape == (0, 0)


def test_numpy_and_dataframe_input():
    arr = np.array([[1.0, 2.0], [3.0, np.nan]])
    frame = cells_to_prices(arr)
    assert frame.shape == (2, 2)
    assert np.isnan(frame.iloc[1, 1])


def test_is_excel_error():
    assert is_excel_error("#N/A") and is_excel_error("#value!") and not is_excel_error("N/A")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.floats(0.01, 1e6), st.just("")), min_size=3, max_size=3),
        min_size=1,
        max_size=30,
    )
)
def test_fast_and_slow_paths_agree(rows):
    # the vectorised path (only floats and None) and the per-cell path (with "") give the same numbers
    start = D(2001, 1, 1)
    cells = [["Date", "A", "B", "C"]] + [[start + dt.timedelta(days=i)] + row for i, row in enumerate(rows)]
    frame = cells_to_prices(cells)
    expected = np.array([[np.nan if (v is None or v == "") else v for v in row] for row in rows], dtype=float)
    got = frame.reindex(pd.date_range(start, periods=len(rows))).to_numpy()
    # trailing all-blank rows are dropped by design; compare what is there
    np.testing.assert_array_equal(got[: len(frame)], expected[: len(frame)])
    assert np.all(np.isnan(expected[len(frame) :]))
