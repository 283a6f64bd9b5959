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
