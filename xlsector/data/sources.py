"""Price sources behind one interface: :class:`PriceData` = a clean price frame plus its provenance.

Sources: the bundled sample (``"sample"``), a workbook's Data sheet or any CSV/xlsx file (a path), and
Yahoo Finance through yfinance (``"yahoo:XLK,XLF"``). :func:`load_prices` dispatches on the argument.
"""

from __future__ import annotations

import datetime as _dt
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xlsector.errors import DataError

__all__ = ["PriceData", "Provenance", "load_prices", "read_price_file"]

_CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv")
_XLSX_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Provenance:
    """Where prices came from.

    Attributes
    ----------
    source : str
        Human-readable source, e.g. ``"Yahoo Finance (yfinance 1.7.0)"`` or ``"file: prices.csv"``.
    tickers : tuple of str
        Column names of the frame.
    first_date, last_date : date or None
        First and last date with any price.
    fetched_at : datetime or None
        When the data was downloaded or read (UTC), when known.
    note : str
        Licence, attribution or caveats to show next to the data.
    """

    source: str
    tickers: tuple[str, ...]
    first_date: _dt.date | None
    last_date: _dt.date | None
    fetched_at: _dt.datetime | None = None
    note: str = ""

    def describe(self) -> str:
        """One line for a status bar or the workbook's start sheet."""
        span = f"{self.first_date} to {self.last_date}" if self.first_date else "no dates"
        text = f"{self.source}: {len(self.tickers)} series, {span}"
        if self.fetched_at is not None:
            text += f", fetched {self.fetched_at:%Y-%m-%d %H:%M} UTC"
        return text


@dataclass(frozen=True)
class PriceData:
    """A price frame (dates x tickers, adjusted closes, NaN where a ticker has no price) and its provenance."""

    prices: pd.DataFrame
    provenance: Provenance = field(compare=False)

    @property
    def tickers(self) -> list[str]:
        return [str(c) for c in self.prices.columns]

    def select(self, tickers: list[str] | tuple[str, ...]) -> pd.DataFrame:
        """The columns ``tickers`` in that order; :class:`DataError` names any that are missing."""
        missing = [t for t in tickers if t not in self.prices.columns]
        if missing:
            raise DataError(
                f"tickers {', '.join(missing)} not in the data ({self.provenance.source}); "
                f"it has {', '.join(self.tickers)}"
            )
        return self.prices[list(tickers)]


def make_provenance(
    prices: pd.DataFrame, source: str, *, fetched_at: _dt.datetime | None = None, note: str = ""
) -> Provenance:
    """Provenance for a frame: tickers and the first/last dates that hold any price."""
    has_price = prices.notna().any(axis=1)
    dates = prices.index[has_price.to_numpy()] if len(prices) else prices.index
    first = (
        pd.Timestamp(dates[0]).date() if len(dates) and isinstance(prices.index, pd.DatetimeIndex) else None
    )
    last = (
        pd.Timestamp(dates[-1]).date() if len(dates) and isinstance(prices.index, pd.DatetimeIndex) else None
    )
    return Provenance(source, tuple(str(c) for c in prices.columns), first, last, fetched_at, note)


def _read_csv(path: Path) -> pd.DataFrame:
    """CSV with a date column first; Yahoo-style files (Adj Close column) give one ticker named by the file."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError, EOFError) as exc:
        raise DataError(f"cannot read {path} as CSV: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - gzip.BadGzipFile, zlib.error and friends
        raise DataError(f"cannot read {path} as CSV: {exc}") from None
    if raw.shape[1] < 2:
        raise DataError(f"{path}: a price CSV needs a date column and at least one price column")
    if "Adj Close" in raw.columns:
        name = path.name.split(".")[0]
        raw = raw[[raw.columns[0], "Adj Close"]].rename(columns={"Adj Close": name})
    raw = raw.replace({"null": "", "NaN": "", "nan": ""})
    block = raw.iloc[:, 1:]
    numbers = block.apply(lambda col: pd.to_numeric(col.str.strip().replace("", None), errors="coerce"))
    bad = (numbers.isna() & block.apply(lambda col: col.str.strip() != "")).to_numpy()
    if bad.any():
        i, j = divmod(int(bad.argmax()), block.shape[1])
        raise DataError(
            f"{path}: line {i + 2}, column {j + 2} ({block.columns[j]}) holds the text "
            f"{block.iat[i, j]!r}; prices must be numbers"
        )
    frame = numbers.astype(float)
    frame.index = _parse_dates(raw.iloc[:, 0], path)
    frame.index.name = "Date"
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _parse_dates(texts: pd.Series, path: Path) -> pd.DatetimeIndex:
    """Dates of a CSV: ISO dates (any time or UTC offset after them is ignored: daily data) or what pandas reads."""
    values = texts.str.strip()
    iso = values.str.match(r"^\d{4}-\d{2}-\d{2}")
    try:
        if iso.all():
            return pd.DatetimeIndex(pd.to_datetime(values.str[:10], format="%Y-%m-%d")).as_unit("us")
        return pd.DatetimeIndex(pd.to_datetime(values, format="mixed")).as_unit("us")
    except (ValueError, TypeError):
        for i, value in enumerate(values):
            try:
                pd.Timestamp(value[:10] if iso.iloc[i] else value)
                if not value:
                    raise ValueError
            except (ValueError, TypeError):
                raise DataError(f"{path}: line {i + 2}, column 1 should hold a date, got {value!r}") from None
        raise DataError(f"{path}: column 1 mixes date formats") from None


def _read_xlsx(path: Path) -> pd.DataFrame:
    from xlsector.data.cells import cells_to_prices
    from xlsector.data.workbook import open_workbook, sheet_cells

    book = open_workbook(path)
    try:
        sheet = book["Data"] if "Data" in book.sheetnames else book.worksheets[0]
        cells = sheet_cells(sheet)
        title = sheet.title
    finally:
        book.close()
    try:
        return cells_to_prices(cells)
    except DataError as exc:
        raise DataError(f"{path}, sheet {title}: {exc}") from None


def read_price_file(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read prices from a CSV (optionally gzip) or an .xlsx/.xlsm file (sheet ``Data`` or the first sheet)."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"price file {file} does not exist")
    name = file.name.lower()
    if name.endswith(_XLSX_SUFFIXES):
        return _read_xlsx(file)
    if name.endswith(_CSV_SUFFIXES):
        return _read_csv(file)
    if zipfile.is_zipfile(file):
        return _read_xlsx(file)
    raise DataError(f"price file {file}: unknown kind; use .csv, .csv.gz, .xlsx or .xlsm")


def load_prices(
    source: str | os.PathLike[str] = "sample",
    *,
    start: str | _dt.date | None = None,
    validate: bool = True,
) -> PriceData:
    """Load prices from a named source and validate them.

    Parameters
    ----------
    source : str or path, default ``"sample"``
        ``"sample"``: the bundled sample; ``"yahoo:XLK,XLF,^GSPC"``: download with yfinance (uses the
        download cache); a path: a workbook (its Data sheet), an .xlsx or a CSV file.
    start : date-like, optional
        First date for a Yahoo download (default 1990-01-01).
    validate : bool, default True
        Run :func:`xlsector.data.validate_prices` (warnings become :class:`DataQualityWarning`): rules 1-4
        (dates, numbers, prices > 0, calendar) for stored data (files, workbooks); downloads also get the
        jump guard. The bundled sample is checked by the tests instead.
    """
    from xlsector.data.validate import validate_prices

    text = os.fspath(source) if isinstance(source, os.PathLike) else source
    if not isinstance(text, str):
        raise DataError(f"source must be 'sample', 'yahoo:TICKERS' or a file path, got {source!r}")
    if text.strip().lower() == "sample":
        from xlsector.data.sample import load_sample

        return load_sample()
    if text.lower().startswith("yahoo:"):
        from xlsector.data.yahoo import download_prices

        tickers = [t.strip() for t in text[6:].split(",") if t.strip()]
        if not tickers:
            raise DataError("source 'yahoo:' needs tickers, e.g. 'yahoo:XLK,XLF'")
        return download_prices(tickers, start or "1990-01-01")
    path = Path(text)
    if path.suffix.lower() in _XLSX_SUFFIXES and path.is_file():
        from xlsector.data.workbook import read_data_sheet

        try:
            return read_data_sheet(path, validate=validate)
        except DataError as exc:
            if "no sheet named Data" not in str(exc):
                raise
    frame = read_price_file(path)
    if validate:  # stored data: rules 1-4; the jump guard runs where data enters (downloads, refresh)
        frame, _ = validate_prices(frame, jump_threshold=None)
    fetched = _dt.datetime.fromtimestamp(path.stat().st_mtime, tz=_dt.UTC).replace(tzinfo=None)
    return PriceData(frame, make_provenance(frame, f"file: {path}", fetched_at=fetched))
