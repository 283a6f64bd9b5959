"""Exceptions and warnings raised by xlsector.

Every error a user can cause is an :class:`XlsectorError`; the CLI prints it as ``Error: <message>`` and
the Excel functions show it in the cell. Anything else escaping is a bug.
"""

from __future__ import annotations


class XlsectorError(Exception):
    """Base class of every error caused by the user's input or environment."""


class ParameterError(XlsectorError, ValueError):
    """A parameter is out of range or of the wrong type. The message names the argument, rule and value."""


class DataError(XlsectorError, ValueError):
    """Price data breaks a rule (dates unsorted, prices <= 0, too few rows, ...)."""


class DataQualityWarning(UserWarning):
    """Data was changed or looks suspicious: rows filled or dropped, calendars aligned, an odd one-day jump."""


def shown(value: object) -> str:
    """A value as an error message shows it: numpy scalars as plain numbers (``0.0``, not ``np.float64(0.0)``),
    long texts and lists shortened."""
    import reprlib

    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)) and getattr(value, "ndim", None) == 0:
        value = item()
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxtuple, short.maxdict = 60, 60, 8, 8, 8
    return short.repr(value)
