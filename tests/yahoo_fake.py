"""A loopback stand-in for Yahoo Finance, so tests run the real yfinance library without the internet.

``FakeYahoo`` is an HTTP server on 127.0.0.1 that answers the URLs yfinance 1.7 calls for a daily
download (read from ``yfinance/data.py``, ``base.py`` and ``scrapers/history.py``):

- ``https://fc.yahoo.com`` (cookie): 404, as Yahoo does;
- ``https://query1.finance.yahoo.com/v1/test/getcrumb`` (crumb): a fake crumb;
- ``https://query2.finance.yahoo.com/v8/finance/chart/<TICKER>`` with ``range=1d`` (time zone lookup) or
  ``period1``/``period2`` (prices): a chart-API JSON document built at test time from a price series.

``LoopbackSession`` is a real ``curl_cffi`` session (the kind yfinance accepts as ``session=``) whose
only change is the address: it sends each Yahoo request to the loopback server instead, over real HTTP.
Any other host is refused and recorded in ``blocked``; tests assert it stays empty. With ``offline=True``
the session points at a closed port, so every request fails with "connection refused", as without a
network.

Per-ticker behaviours: a price series (success), ``"missing"`` (HTTP 404 with Yahoo's "No data found"
error), ``"empty"`` (HTTP 200 with no rows), ``"truncate"`` (the response is cut off half-way and the
connection closed, as when a download is killed).
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np
import pandas as pd
from curl_cffi import requests as curl_requests

YAHOO_HOSTS = {
    "fc.yahoo.com",
    "query1.finance.yahoo.com",
    "query2.finance.yahoo.com",
    "guce.yahoo.com",
    "consent.yahoo.com",
}
_NY_OPEN_UTC = pd.Timedelta(hours=14, minutes=30)  # 9:30 New York (EST) as seconds after midnight UTC


def chart_json(
    ticker: str, series: pd.Series, *, period1: int | None, period2: int | None, tz_only: bool
) -> dict:
    """A Yahoo chart-API response for daily bars of ``series`` (adjusted closes; close = adj close x 1.01)."""
    clean = series.dropna()
    stamps = ((clean.index.as_unit("s").asi8 // 1) + int(_NY_OPEN_UTC.total_seconds())).astype(np.int64)
    values = clean.to_numpy(dtype=float)
    if tz_only:
        stamps, values = stamps[-1:], values[-1:]
    else:
        keep = np.ones(len(stamps), dtype=bool)
        if period1 is not None:
            keep &= stamps >= period1
        if period2 is not None:
            keep &= stamps < period2
        stamps, values = stamps[keep], values[keep]
    last = int(stamps[-1]) if len(stamps) else 0
    period = {"timezone": "EST", "start": last, "end": last + 23400, "gmtoffset": -18000}
    meta = {
        "currency": "USD",
        "symbol": ticker,
        "exchangeName": "PCX",
        "fullExchangeName": "NYSEArca",
        "instrumentType": "ETF",
        "firstTradeDate": int(stamps[0]) if len(stamps) else None,
        "regularMarketTime": last,
        "hasPrePostMarketData": True,
        "gmtoffset": -18000,
        "timezone": "EST",
        "exchangeTimezoneName": "America/New_York",
        "regularMarketPrice": float(values[-1]) if len(values) else None,
        "chartPreviousClose": float(values[0]) if len(values) else None,
        "priceHint": 2,
        "currentTradingPeriod": {"pre": dict(period), "regular": dict(period), "post": dict(period)},
        "dataGranularity": "1d",
        "range": "1d" if tz_only else "",
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    close = [round(v * 1.01, 6) for v in values.tolist()]
    quote = {
        "open": close,
        "high": close,
        "low": close,
        "close": close,
        "volume": [1000] * len(close),
    }
    result = {
        "meta": meta,
        "timestamp": [int(s) for s in stamps],
        "indicators": {"quote": [quote], "adjclose": [{"adjclose": values.tolist()}]},
    }
    return {"chart": {"result": [result], "error": None}}


NOT_FOUND = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}


class FakeYahoo:
    """The loopback server. ``tickers`` maps a ticker to a price Series or a behaviour string."""

    def __init__(self) -> None:
        self.tickers: dict[str, pd.Series | str] = {}
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                fake.requests.append(self.path)
                parts = urlsplit(self.path)
                host, _, rest = parts.path.lstrip("/").partition("/")
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if host == "fc.yahoo.com":
                    return self._send(404, b"<html>not found</html>", "text/html")
                if rest == "v1/test/getcrumb":
                    return self._send(200, b"fakecrumb123", "text/plain")
                if rest.startswith("v8/finance/chart/"):
                    ticker = unquote(rest.rsplit("/", 1)[-1])
                    behaviour = fake.tickers.get(ticker, "missing")
                    if isinstance(behaviour, str):
                        if behaviour == "missing":
                            return self._send(404, json.dumps(NOT_FOUND).encode())
                        if behaviour == "empty":
                            empty = pd.Series(
                                [], index=pd.DatetimeIndex([], dtype="datetime64[us]"), dtype=float
                            )
                            body = chart_json(ticker, empty, period1=None, period2=None, tz_only=False)
                            body["chart"]["result"][0]["indicators"]["quote"] = [{}]
                            body["chart"]["result"][0].pop("timestamp")
                            return self._send(200, json.dumps(body).encode())
                        if behaviour == "truncate" and "range" in query:  # the time-zone lookup works
                            behaviour = pd.Series(
                                [100.0], index=pd.DatetimeIndex(["2020-01-02"]).as_unit("us")
                            )
                        elif behaviour == "truncate":
                            body = json.dumps(NOT_FOUND).encode() * 50
                            self.send_response(200)
                            self.send_header("Content-Type", "application/json")
                            self.send_header("Content-Length", str(len(body)))
                            self.end_headers()
                            self.wfile.write(body[: len(body) // 2])
                            self.wfile.flush()
                            self.close_connection = True
                            self.connection.shutdown(socket.SHUT_RDWR)
                            return None
                        else:
                            return self._send(404, json.dumps(NOT_FOUND).encode())
                    body = chart_json(
                        ticker,
                        behaviour,
                        period1=int(query["period1"]) if "period1" in query else None,
                        period2=int(query["period2"]) if "period2" in query else None,
                        tz_only="range" in query,
                    )
                    return self._send(200, json.dumps(body).encode())
                if rest.startswith("v10/finance/quoteSummary/"):  # yfinance's "why no time zone?" probes
                    ticker = unquote(rest.rsplit("/", 1)[-1])
                    error = {"code": "Not Found", "description": f"Quote not found for symbol: {ticker}"}
                    return self._send(
                        404, json.dumps({"quoteSummary": {"result": None, "error": error}}).encode()
                    )
                if rest.startswith("v7/finance/quote"):
                    return self._send(
                        200, json.dumps({"quoteResponse": {"result": [], "error": None}}).encode()
                    )
                if rest.startswith("ws/fundamentals-timeseries/"):
                    return self._send(200, json.dumps({"timeseries": {"result": [], "error": None}}).encode())
                return self._send(404, b"<html>unknown path</html>", "text/html")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A loopback port with nothing listening (connecting to it is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LoopbackSession(curl_requests.Session):
    """A curl_cffi session that sends Yahoo requests to 127.0.0.1:``port`` and refuses every other host."""

    def __init__(self, port: int, **kwargs):
        super().__init__(**kwargs)
        self.port = port
        self.blocked: list[str] = []
        self.sent: list[str] = []

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if parts.hostname not in YAHOO_HOSTS:
            self.blocked.append(url)
            raise RuntimeError(f"test transport: refusing a request to {parts.hostname} (not a Yahoo host)")
        local = f"http://127.0.0.1:{self.port}/{parts.hostname}{parts.path or '/'}"
        if parts.query:
            local += "?" + parts.query
        self.sent.append(local)
        kwargs["proxies"] = None
        kwargs.pop("proxy", None)
        return super().request(method, local, *args, **kwargs)


class BlockedSession(curl_requests.Session):
    """What yfinance gets when it makes a session of its own in the tests: every request is refused."""

    attempts: ClassVar[list[str]] = []

    def request(self, method, url, *args, **kwargs):
        BlockedSession.attempts.append(url)
        raise RuntimeError(f"test transport: yfinance used a session of its own for {url}")


def block_own_sessions(monkeypatch) -> list[str]:
    """Make every session yfinance creates itself a :class:`BlockedSession`; returns the refused URLs."""
    import yfinance.base
    import yfinance.data
    import yfinance.multi
    import yfinance.scrapers.history

    BlockedSession.attempts = []
    for module in (yfinance.base, yfinance.data, yfinance.multi, yfinance.scrapers.history):
        monkeypatch.setattr(module, "new_session", lambda: BlockedSession(), raising=True)
    return BlockedSession.attempts
