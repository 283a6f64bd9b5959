"""Sources behind one interface: the bundled sample, files, the workbook's Data sheet, Yahoo (loopback)."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xlsector.contract import settings_tickers
from xlsector.data import PriceData, load_prices, load_sample
from xlsector.data.sources import read_price_file
from xlsector.data.workbook import read_data_sheet, read_named_values
from xlsector.data.yahoo import DownloadError, cache_dir, download_prices
from xlsector.errors import DataError

from .data_workbooks import make_workbook, random_walk
from .yahoo_fake import BlockedSession, FakeYahoo, LoopbackSession, block_own_sessions

REPO = Path(__file__).resolve().parents[1]


def test_sample_contents_and_provenance():
    data = load_sample()
    assert isinstance(data, PriceData)
    prices = data.prices
    assert list(prices.columns) == [
        "XOM",
        "JPM",
        "JNJ",
        "MRK",
        "PG",
        "KO",
        "WMT",
        "HD",
        "GE",
        "MSFT",
        "^GSPC",
    ]
    assert prices.shape == (8313, 11)
    assert prices.index[0] == pd.Timestamp("1990-01-02") and prices.index[-1] == pd.Timestamp("2022-12-28")
    assert prices.notna().all().all() and (prices > 0).all().all()
    assert prices.index.is_monotonic_increasing and not prices.index.has_duplicates
    # values straight from skfolio's sp500_dataset.csv.gz / sp500_index.csv.gz first and last rows
    assert prices.loc["1990-01-02", "XOM"] == 4.068 and prices.loc["2022-12-28", "MSFT"] == 233.434
    assert prices.loc["1990-01-02", "^GSPC"] == 359.69 and prices.loc["2022-12-28", "^GSPC"] == 3783.22
    prov = data.provenance
    assert prov.first_date == dt.date(1990, 1, 2) and prov.last_date == dt.date(2022, 12, 28)
    assert "skfolio" in prov.source and "BSD-3-Clause" in prov.note and "cash at a 0% rate" in prov.note
    # a fresh copy each call: callers may change it
    prices.iloc[0, 0] = -1
    assert load_sample().prices.iloc[0, 0] == 4.068


def test_sample_licence_is_shipped():
    text = (REPO / "LICENSES" / "skfolio-BSD-3-Clause.txt").read_text()
    assert "BSD 3-Clause License" in text and "The skfolio developers" in text
    assert "sp500_dataset.csv.gz" in (REPO / "xlsector/data/sample/README.md").read_text()


def test_sample_index_matches_yahoo_gspc(sp500_index):
    # README claim: ^GSPC equals Yahoo's S&P 500 price index within 1e-7 relative on all 8313 dates
    sample = load_sample().prices["^GSPC"]
    ratio = sample / sp500_index.reindex(sample.index)
    assert ratio.notna().all() and (ratio - 1).abs().max() < 1e-7


def test_load_prices_dispatches_sample():
    assert load_prices("sample").prices.shape == (8313, 11)
    with pytest.raises(DataError, match="needs tickers"):
        load_prices("yahoo:")


def test_csv_file(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("Date,A,B\n2020-01-02,1.5,\n2020-01-03,1.6,2.0\n2020-01-06,1.7,2.1\n")
    data = load_prices(path)
    assert data.prices.columns.tolist() == ["A", "B"]
    assert np.isnan(data.prices.loc["2020-01-02", "B"]) and data.prices.loc["2020-01-06", "A"] == 1.7
    assert data.provenance.source == f"file: {path}"


def test_gzip_csv_and_yahoo_style_file(tmp_path):
    path = tmp_path / "XLK.csv.gz"
    text = "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,1,1,1,10,9.5,100\n2020-01-03,1,1,1,11,10.5,100\n"
    path.write_bytes(gzip.compress(text.encode()))
    frame = read_price_file(path)
    assert frame.columns.tolist() == ["XLK"] and frame["XLK"].tolist() == [9.5, 10.5]


def test_csv_with_text_in_a_price_cell(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("Date,A,B\n2020-01-02,1.5,2\n2020-01-03,oops,2.0\n")
    with pytest.raises(DataError, match=r"line 3, column 2 \(A\) holds the text 'oops'"):
        load_prices(path)


def test_csv_with_bad_date(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("Date,A\n2020-01-02,1.5\nsoon,2\n")
    with pytest.raises(DataError, match="line 3, column 1 should hold a date, got 'soon'"):
        load_prices(path)


def test_corrupt_and_unknown_files(tmp_path):
    bad_gz = tmp_path / "p.csv.gz"
    bad_gz.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="cannot read .* as CSV"):
        load_prices(bad_gz)
    fake_xlsx = tmp_path / "p.xlsx"
    fake_xlsx.write_text("hello")
    with pytest.raises(DataError, match="not an Excel workbook"):
        load_prices(fake_xlsx)
    other = tmp_path / "p.pdf"
    other.write_bytes(b"%PDF-1.4")
    with pytest.raises(DataError, match="unknown kind"):
        load_prices(other)
    with pytest.raises(DataError, match="does not exist"):
        load_prices(tmp_path / "missing.csv")


def test_plain_xlsx_without_data_sheet(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Date", "X"])
    sheet.append([dt.datetime(2020, 1, 2), 1.0])
    sheet.append([dt.datetime(2020, 1, 3), 1.1])
    path = tmp_path / "plain.xlsx"
    book.save(path)
    data = load_prices(path)
    assert data.prices["X"].tolist() == [1.0, 1.1]


def test_workbook_data_sheet_and_settings(tmp_path):
    prices = random_walk(["XLK", "XLF"], pd.bdate_range("2020-01-01", periods=50), seed=1)
    prices.iloc[:10, 1] = np.nan  # XLF starts later
    path = make_workbook(tmp_path / "w.xlsx", prices, funds="XLK, XLF", market_index="^GSPC")
    data = read_data_sheet(path)
    np.testing.assert_allclose(data.prices.to_numpy(), prices.to_numpy(), rtol=1e-15)
    assert data.prices.index.equals(prices.index)
    assert data.provenance.source == "test data"  # the DataSource named cell
    assert load_prices(path).prices.shape == (50, 2)
    settings = read_named_values(path)
    assert settings["Funds"] == "XLK, XLF" and settings["TrendConstant"] == 50
    assert settings_tickers(settings) == ["XLK", "XLF", "^GSPC"]


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XLSECTOR_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("XLSECTOR_CACHE_DIR")
    assert cache_dir().name.lower() in ("xlsector", "cache")


@pytest.fixture
def loopback(tmp_path_factory, monkeypatch):
    import yfinance as yf

    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance-cache")))
    block_own_sessions(monkeypatch)
    server = FakeYahoo()
    session = LoopbackSession(server.port, impersonate="chrome")
    yield server, session
    server.close()
    assert session.blocked == []
    assert BlockedSession.attempts == [], f"yfinance tried to reach {BlockedSession.attempts}"


def test_download_prices_uses_the_cache(tmp_path, loopback):
    server, session = loopback
    prices = random_walk(["XLK", "^GSPC"], pd.bdate_range("2021-01-04", periods=60), seed=2)
    for ticker in prices.columns:
        server.tickers[ticker] = prices[ticker]
    data = download_prices(["XLK", "^GSPC"], "2021-01-01", session=session, cache=tmp_path)
    np.testing.assert_allclose(data.prices.to_numpy(), prices.to_numpy(), rtol=1e-12)
    assert data.provenance.source.startswith("Yahoo Finance")
    assert (tmp_path / "yahoo" / "XLK.json").is_file() and (tmp_path / "yahoo" / "_GSPC.json").is_file()
    calls = len(server.requests)
    again = download_prices(["XLK", "^GSPC"], "2021-02-01", session=session, cache=tmp_path)
    assert len(server.requests) == calls  # served from the cache, no HTTP request
    assert again.prices.index[0] >= pd.Timestamp("2021-02-01")
    # an earlier start than the cached download must download again
    download_prices(["XLK"], "2020-06-01", session=session, cache=tmp_path)
    assert len(server.requests) > calls


def test_download_prices_partial_failure_raises(tmp_path, loopback):
    server, session = loopback
    server.tickers["XLK"] = random_walk(["XLK"], pd.bdate_range("2021-01-04", periods=30))["XLK"]
    with pytest.raises(DownloadError, match=r"download failed for 1 ticker\n  NOPE: ") as info:
        download_prices(["XLK", "NOPE"], "2021-01-01", session=session, cache=tmp_path)
    assert list(info.value.failures) == ["NOPE"]


def test_a_ticker_lost_to_yfinance_cache_contention_is_asked_again_alone(tmp_path):
    """yfinance's download threads share its SQLite caches; one lost the race in a full test run ("XLK:
    OperationalError('database is locked')") and the refresh failed. Such a ticker is asked once more, alone;
    any other failure is not retried."""
    days = pd.bdate_range("2021-01-04", periods=20)
    prices = random_walk(["XLK", "XLF"], days, seed=3)
    calls: list[list[str]] = []

    def downloader(tickers, start, end, session):
        calls.append(list(tickers))
        lost = {"XLK", "NOPE"} if len(calls) == 1 else {"NOPE"}
        frame = pd.DataFrame({("Adj Close", t): prices[t] for t in tickers if t not in lost})
        frame.columns = pd.MultiIndex.from_tuples(frame.columns)
        lines = ["1 Failed download:"] + [
            f"['{t}']: " + ("OperationalError('database is locked')" if t == "XLK" else "YFTzMissingError('no tz')")
            for t in tickers if t in lost]
        return frame, lines

    with pytest.raises(DownloadError, match=r"download failed for 1 ticker\n  NOPE: YFTzMissingError") as info:
        download_prices(["XLK", "XLF", "NOPE"], "2021-01-01", downloader=downloader, cache=tmp_path)
    assert calls == [["XLK", "XLF", "NOPE"], ["XLK"]]
    assert list(info.value.failures) == ["NOPE"]
    calls.clear()
    data = download_prices(["XLK", "XLF"], "2021-01-01", downloader=downloader, cache=tmp_path, max_age=None)
    assert calls == [["XLK", "XLF"], ["XLK"]]
    np.testing.assert_allclose(data.prices.to_numpy(), prices.to_numpy(), rtol=1e-12)


def test_load_prices_yahoo_source(tmp_path, loopback, monkeypatch):
    server, session = loopback
    monkeypatch.setenv("XLSECTOR_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr("xlsector.data.yahoo._default_session", lambda: session)
    server.tickers["XLE"] = random_walk(["XLE"], pd.bdate_range("2021-01-04", periods=30))["XLE"]
    data = load_prices("yahoo:XLE", start="2021-01-01")
    assert data.tickers == ["XLE"] and len(data.prices) == 30
