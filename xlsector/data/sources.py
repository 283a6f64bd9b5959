"""Price sources behind one interface: :class:`PriceData` = a clean price frame plus its provenance.

Sources: the bundled sample (``"sample"``), a workbook's Data sheet or any CSV/xlsx file (a path), and
Yahoo Finance through yfinance (``"yahoo:XLK,XLF"``). :func:`load_prices` dispatches on the argument.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
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


def _csv_text(path: Path) -> str:
    """A CSV file's text (gzip inflated), within MAX_FILE_BYTES counted as it inflates; a regular file only."""
    import gzip
    import zlib

    from xlsector.fileio import read_limited
    from xlsector.limits import MAX_FILE_BYTES, MAX_RATIO, describe

    data = read_limited(path, "price file")
    if path.name.lower().endswith(".gz") and data[:2] != b"\x1f\x8b":
        raise DataError(f"cannot read {path} as CSV: the name ends in .gz but it is not a gzip file")
    if data[:2] == b"\x1f\x8b":
        packed, parts, size = len(data), [], 0
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
                while chunk := handle.read(1 << 20):  # counted as it inflates: a gzip bomb stops early
                    size += len(chunk)
                    parts.append(chunk)
                    if size > MAX_FILE_BYTES:
                        raise DataError(f"price file {path} inflates to more than {describe('MAX_FILE_BYTES')}; "
                                        "refusing to read it")
                    if size > 1 << 20 and size > MAX_RATIO * packed:
                        raise DataError(f"price file {path} is compressed more than {describe('MAX_RATIO')}; "
                                        "refusing to read it (a gzip bomb?)")
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"cannot read {path} as CSV (gzip): {exc}") from None
        data = b"".join(parts)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot read {path} as CSV: it is not UTF-8 text (byte {exc.start}); save it as UTF-8 "
                        "CSV") from None


def _read_csv(path: Path) -> pd.DataFrame:
    """CSV with a date column first; Yahoo-style files (Adj Close column) give one ticker named by the file."""
    text = _csv_text(path)
    _check_header(text, path)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise DataError(f"cannot read {path} as CSV: {exc}") from None
    if raw.shape[1] < 2:
        raise DataError(f"{path}: a price CSV needs a date column and at least one price column")
    if "Adj Close" in raw.columns:
        name = path.name.split(".")[0]
        raw = raw[[raw.columns[0], "Adj Close"]].rename(columns={"Adj Close": name})
    block = raw.iloc[:, 1:]
    cells = pd.Series(block.to_numpy(dtype=object).ravel(), dtype=object).str.strip()  # one pass over every cell
    blank = (cells == "") | cells.isin(("null", "NaN", "nan"))
    numbers = pd.to_numeric(cells.mask(blank), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(numbers) & ~blank.to_numpy()
    if bad.any():
        i, j = divmod(int(bad.argmax()), block.shape[1])
        raise DataError(
            f"{path}: line {i + 2}, column {j + 2} ({block.columns[j]}) holds the text "
            f"{_shown(str(block.iat[i, j]))}; prices must be numbers"
        )
    frame = pd.DataFrame(numbers.reshape(block.shape), columns=[str(c).strip() for c in block.columns])
    frame.index = parse_dates(raw.iloc[:, 0], str(path))
    frame.index.name = "Date"
    return frame


def _shown(text: str, most: int = 60) -> str:
    """``text`` quoted for a message, cut to ``most`` characters (a field may be megabytes long)."""
    return repr(text) if len(text) <= most else f"{text[:most]!r}... ({len(text):,} characters)"


def _check_header(text: str, path: Path) -> None:
    """The header names at most MAX_SERIES price columns, each once (pandas would rename a second ``XLK`` to
    ``XLK.1``, silently)."""
    import csv
    from collections import Counter

    from xlsector.limits import MAX_SERIES, describe

    header = next((row for row in csv.reader(io.StringIO(text[: 1 << 20])) if row), [])
    if len(header) - 1 > MAX_SERIES:
        raise DataError(f"{path}: the header names {len(header) - 1:,} price columns, more than "
                        f"{describe('MAX_SERIES')}")
    counts = Counter(name.strip() for name in header[1:] if name.strip())
    repeated = [name for name, count in counts.items() if count > 1]
    if repeated:
        raise DataError(f"{path}: the header names column {repeated[0]!r} more than once; each ticker needs one "
                        "column")


#: Date layouts a price CSV may use besides ISO (YYYY-MM-DD, which may carry a time): one layout for the whole
#: column, never a mix; a layout that reads the column two ways (01/02/2020: 1 February or 2 January?) is refused.
DATE_FORMATS = ("%Y/%m/%d", "%Y%m%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y", "%d-%b-%Y",
                "%d %b %Y", "%b %d %Y", "%d/%m/%y", "%m/%d/%y")


def parse_dates(texts: pd.Series, where: str) -> pd.DatetimeIndex:
    """The dates of a file's first column: ISO dates (any time or UTC offset after them is ignored: daily data), or
    one of :data:`DATE_FORMATS` for every row. Day-first and month-first are never mixed: when both read every row
    (each day <= 12), the column is ambiguous and refused."""
    values = [str(v).strip() for v in texts.tolist()]
    if not values:
        return pd.DatetimeIndex([], dtype="datetime64[us]")
    text = pd.Series(values, dtype=object)
    iso = text.str.match(r"^\d{4}-\d{2}-\d{2}(?:$|[T\s])").to_numpy(dtype=bool)
    if iso.all():
        days = pd.DatetimeIndex(pd.to_datetime(text.str[:10], format="%Y-%m-%d", errors="coerce"))
        return _all_read(days, values, where)
    first = text.str.split(r"[T\s]\d{1,2}:", n=1, regex=True).str[0].str.replace(",", "", regex=False).str.strip()
    readings = {fmt: pd.DatetimeIndex(pd.to_datetime(first, format=fmt, errors="coerce")) for fmt in DATE_FORMATS}
    distinct: list[tuple[str, pd.DatetimeIndex]] = []
    for fmt, got in readings.items():
        if not got.isna().any() and not any(got.equals(other) for _, other in distinct):
            distinct.append((fmt, got))
    if len(distinct) == 1:
        return distinct[0][1].as_unit("us")
    if len(distinct) > 1:
        names = " or ".join(f"'{fmt}'" for fmt, _ in distinct)
        raise DataError(f"{where}: the dates in column 1 can be read as {names} (e.g. {values[0]!r}); write them "
                        "as YYYY-MM-DD so that day and month cannot be swapped")
    readable = iso.copy()
    for got in readings.values():
        readable |= ~np.asarray(got.isna())
    if not readable.all():
        i = int(np.flatnonzero(~readable)[0])
        raise DataError(f"{where}: line {i + 2}, column 1 should hold a date, got {values[i]!r}")
    raise DataError(f"{where}: column 1 mixes date formats (e.g. {values[0]!r} and "
                    f"{values[-1]!r}); use one, preferably YYYY-MM-DD")


def _all_read(days: pd.DatetimeIndex, values: list[str], where: str) -> pd.DatetimeIndex:
    """``days`` when every one was read, else a DataError naming the first line that was not."""
    missing = np.asarray(days.isna())
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise DataError(f"{where}: line {i + 2}, column 1 should hold a date, got {values[i]!r}")
    return days.as_unit("us")


def _read_xlsx(path: Path) -> pd.DataFrame:
    """A price sheet of an .xlsx (Data, else the first sheet), read by the one price-sheet reader
    (:func:`xlsector.xlsx.read_sheet_grid`, with its limits) from the checked file."""
    from xlsector.data.cells import cells_to_prices
    from xlsector.data.workbook import read_checked
    from xlsector.xlsx import read_sheet_grid, sheet_paths

    raw = read_checked(path)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = list(sheet_paths(archive))
    if not names:
        raise DataError(f"{path}: the workbook has no sheet")
    title = "Data" if "Data" in names else names[0]
    grid = read_sheet_grid(raw, title, name=str(path))
    cells = [] if grid is None else grid.tolist()
    try:
        return cells_to_prices(cells)
    except DataError as exc:
        raise DataError(f"{path}, sheet {title}: {exc}") from None


def read_price_file(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read prices from a CSV (optionally gzip) or an .xlsx/.xlsm file (sheet ``Data`` or the first sheet)."""
    from xlsector.fileio import regular_file

    file = regular_file(path, "price file")
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
        Run :func:`xlsector.data.validate.check_stored` (warnings become :class:`DataQualityWarning`): dates,
        numbers, prices > 0, calendar and the jump guard, for files and workbooks as for downloads. The bundled
        sample is checked by the tests instead.
    """
    from xlsector.data.validate import check_stored

    text = os.fspath(source) if isinstance(source, os.PathLike) else source
    if not isinstance(text, str):
        raise DataError(f"source must be 'sample', 'yahoo:TICKERS' or a file path, got {source!r}")
    if text.strip().lower() == "sample":
        from xlsector.data.sample import load_sample

        return load_sample()
    if text.lower().startswith("yahoo:"):
        from xlsector.contract import split_tickers
        from xlsector.data.yahoo import download_prices

        tickers = split_tickers(text[6:])
        if not tickers:
            raise DataError("source 'yahoo:' needs tickers, e.g. 'yahoo:XLK,XLF'")
        return download_prices(tickers, start or "1990-01-01")
    from xlsector.fileio import regular_file

    path = regular_file(text, "price file")
    if path.suffix.lower() in _XLSX_SUFFIXES:
        from xlsector.data.workbook import read_data_sheet

        try:
            return read_data_sheet(path, validate=validate)
        except DataError as exc:
            if "no sheet named Data" not in str(exc):
                raise
    frame = read_price_file(path)
    if validate:  # every source gets the same rules, the jump guard included (its findings are warnings)
        frame = check_stored(frame, str(path))
    fetched = _dt.datetime.fromtimestamp(path.stat().st_mtime, tz=_dt.UTC).replace(tzinfo=None)
    return PriceData(frame, make_provenance(frame, f"file: {path}", fetched_at=fetched))
