"""One parameter model: every parameter of a strategy or a tuning, declared once.

Each parameter is a field of a frozen dataclass declared with :func:`param`, which records its default,
its rule (kind, range, choices), its help text, its unit and, where the template workbook shows it, the
name of its Settings cell. Every door reads them from here instead of copying them: the core validates
with :meth:`Param.check`, the Excel functions take their argument help and defaults from
:func:`param_of`, the workbook's Settings rows are generated from the ``setting`` names, the TOML profiles
accept exactly the field names, and the CLI builds its flags from the same records.

This module imports no numpy or pandas (``xlsector --help`` and the template builder stay quick); numpy
scalars are accepted through the :mod:`numbers` ABCs they register with.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from itertools import pairwise
from typing import Any, Literal

from xlsector.errors import ParameterError, shown

__all__ = [
    "MOMENTUM_REBALANCE",
    "SCHEDULES",
    "STORMGUARD_MODES",
    "MomentumStrategy",
    "Param",
    "Params",
    "Strategy",
    "TuningParams",
    "param",
    "param_of",
    "params_of",
]

Kind = Literal["number", "whole", "choice", "flag", "date", "bands", "text"]
Schedule = Literal["daily", "week", "month"]
StormGuardMode = Literal["standard", "quick"]
LeverageRule = Literal["fixed", "vix_bands", "vix_formula"]

SCHEDULES: tuple[str, ...] = ("daily", "week", "month")
#: StormGuard modes as the kernel numbers them (None and "off": no market filter).
STORMGUARD_MODES: dict[str | None, int] = {None: 0, "off": 0, "standard": 1, "quick": 2}
MOMENTUM_REBALANCE: dict[str, str] = {"weekly": "week", "monthly": "month"}
_INF = math.inf


@dataclass(frozen=True)
class Param:
    """The declaration of one parameter: its rule, default and help (see :func:`param`)."""

    name: str
    default: Any
    help: str
    kind: Kind = "number"
    low: float = -_INF
    high: float = _INF
    low_open: bool = False  # low itself is not allowed (k > 0)
    choices: tuple[str, ...] = ()
    aliases: Mapping[str, Any] = field(default_factory=dict)  # other accepted words -> the value
    optional: bool = False  # None (a blank cell) is allowed and means ``blank``
    blank: str = ""  # what None means, for the help text ("= tc")
    unit: str = ""
    setting: str | None = None  # the template workbook's Settings cell, if it shows this parameter
    label: str = ""  # how messages name it, when not by its name alone ("k (the scale)")

    def rule(self) -> str:
        """The rule in words, as error messages and help texts state it: 'a number >= 1 (market days)'."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "flag":
            return "True or False"
        if self.kind == "date":
            return "a date (yyyy-mm-dd)"
        if self.kind == "text":
            return "a text"
        if self.kind == "bands":
            return "a list of (threshold, multiplier) pairs"
        what = "a whole number" if self.kind == "whole" else "a number"
        if self.kind == "whole" and self.high - self.low == 1:
            text = f"{self.low:g} or {self.high:g}"
        elif self.low > -_INF and self.high < _INF:
            text = f"{what} from {self.low:g} to {self.high:g}"
        elif self.low > -_INF:
            text = f"{what} {'>' if self.low_open else '>='} {self.low:g}"
        elif self.high < _INF:
            text = f"{what} <= {self.high:g}"
        else:
            text = what
        return f"{text} ({self.unit})" if self.unit else text

    def describe_default(self) -> str:
        if self.default is None:
            return self.blank or "none"
        if isinstance(self.default, float) and self.default.is_integer():
            return f"{self.default:g}"
        return str(self.default)

    def error(self, value: Any) -> ParameterError:
        return ParameterError(f"{self.label or self.name} must be {self.rule()}, got {shown(value)}")

    def check(self, value: Any) -> Any:
        """The value in its canonical type (float, int, str, bool, date), or ParameterError naming the rule."""
        if value is None:
            if self.optional:
                return None
            raise self.error(value)
        if self.kind == "choice":
            return self._choice(value)
        if self.kind == "flag":
            if isinstance(value, bool) or (isinstance(value, numbers.Real) and value in (0, 1)):
                return bool(value)
            raise self.error(value)
        if self.kind == "date":
            return self._date(value)
        if self.kind == "bands":
            return _bands(value, self.name)
        if self.kind == "text":
            if not isinstance(value, str):
                raise self.error(value)
            text = value.strip()
            if not text and not self.optional:
                raise self.error(value)
            return text or None
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self.error(value)
        number = float(value)
        if not math.isfinite(number) or number < self.low or number > self.high \
                or (self.low_open and number == self.low):
            raise self.error(value)
        if self.kind == "whole":
            if not number.is_integer():
                raise self.error(value)
            return int(number)
        return number

    def _choice(self, value: Any) -> Any:
        if isinstance(value, str):
            word = value.strip().lower()
            if word in self.aliases:
                return self.aliases[word]
            if word in self.choices:
                return word
        raise self.error(value)

    def _date(self, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date() if value.time() == dt.time() else value
        if isinstance(value, dt.date):
            return value
        if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
            return self._date(value.to_pydatetime())
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()[:10])
            except ValueError:
                pass
        raise self.error(value)


def param(default: Any, help: str, **rule: Any) -> Any:
    """A dataclass field declaring a parameter: its default, help text and rule (the :class:`Param` fields)."""
    return field(default=default, metadata={"param": (help, rule)})


_DECLARED: dict[type, tuple[Param, ...]] = {}


def params_of(cls: type) -> tuple[Param, ...]:
    """The :class:`Param` of every field of a parameter dataclass, in declaration order."""
    found = _DECLARED.get(cls)
    if found is None:
        found = _DECLARED[cls] = tuple(
            Param(name=f.name, default=None if f.default is MISSING else f.default, help=f.metadata["param"][0],
                  **f.metadata["param"][1])
            for f in fields(cls) if "param" in f.metadata
        )
    return found


def param_of(cls: type, name: str) -> Param:
    """The declaration of parameter ``name`` of ``cls``."""
    for p in params_of(cls):
        if p.name == name:
            return p
    raise KeyError(name)


class Params:
    """Base of the parameter dataclasses: validation on construction, one way to build and copy them."""

    kind_name = "parameter"  # "strategy parameter", ... in error messages

    def __post_init__(self) -> None:
        for p in params_of(type(self)):
            object.__setattr__(self, p.name, p.check(getattr(self, p.name)))

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(p.name for p in params_of(cls))

    @classmethod
    def from_kwargs(cls, **values: Any) -> Any:
        """Build from keyword arguments, naming any unknown one."""
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            raise ParameterError(
                f"unknown {cls.kind_name} {unknown[0]!r}; known: {', '.join(sorted(cls.names()))}"
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {p.name: getattr(self, p.name) for p in params_of(type(self))}

    def replace(self, **changes: Any) -> Any:
        """A copy with some parameters changed (validated again)."""
        unknown = sorted(set(changes) - set(self.names()))
        if unknown:
            raise ParameterError(
                f"unknown {self.kind_name} {unknown[0]!r}; known: {', '.join(sorted(self.names()))}"
            )
        return replace(self, **changes)  # type: ignore[type-var]


def _bands(value: Any, name: str) -> tuple[tuple[float, float], ...]:
    """A VIX band table: (threshold, multiplier) pairs, thresholds strictly increasing, the last one +inf."""
    try:
        pairs = [(float(t), float(m)) for t, m in value]
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a list of (threshold, multiplier) pairs, got {shown(value)}") from None
    if not pairs:
        raise ParameterError(f"{name} must hold at least one (threshold, multiplier) pair, got []")
    thresholds = [t for t, _ in pairs]
    multipliers = [m for _, m in pairs]
    if any(math.isnan(t) for t in thresholds) or any(b <= a for a, b in pairwise(thresholds)):
        raise ParameterError(f"{name} thresholds must increase strictly, got {thresholds}")
    if any(not math.isfinite(m) or m < 0 for m in multipliers):
        raise ParameterError(f"{name} multipliers must be finite numbers >= 0, got {multipliers}")
    pairs[-1] = (_INF, pairs[-1][1])  # the last band catches every higher VIX
    return tuple(pairs)


# --------------------------------------------------------------------------------------------------
# the SectorSurfer-style rotation (SPEC §2)
# --------------------------------------------------------------------------------------------------

DAYS = "market days"


@dataclass(frozen=True)
class Strategy(Params):
    """Parameters of a SectorSurfer-style rotation, validated on construction.

    The field declarations below are the one definition of each parameter's default, rule and help
    (``xlsector.params.params_of(Strategy)``); :mod:`xlsector.backtesting` documents the semantics.
    """

    kind_name = "strategy parameter"

    tc: float = param(50.0, "Trend constant of the funds' EMA2 trends (a = 1/tc).", low=1, unit=DAYS,
                      setting="TrendConstant")
    k: float = param(22.0, "Scale: k x daily return makes the trend roughly a monthly figure (22; the source "
                     "paper's table uses 21).", low=0, low_open=True, label="k (the scale)", setting="Scale")
    hysteresis: float = param(0.01, "Bonus added to the trend of the fund just switched into, trend units "
                              "(0.01 = 1%); 0 = off.", low=0, setting="Hysteresis")
    decay: float | None = param(None, "Decay constant of the hysteresis bonus (bonus = h*exp(-days/decay)).",
                                low=1, unit=DAYS, optional=True, blank="the trend constant",
                                setting="HysteresisDecay")
    schedule: Schedule = param("daily", "Decision days: daily, week (last market day of the week) or month "
                               "(last market day of the month).", kind="choice", choices=SCHEDULES,
                               aliases={"weekly": "week", "monthly": "month"}, setting="Schedule")
    decision_offset: int = param(0, "Decision day shifted this many market days after the week or month end "
                                 "(0 = the last market day of the period; no effect on daily decisions): the "
                                 "timing-luck check.", kind="whole", low=0, high=20, unit=DAYS)
    min_hold: int = param(0, "Market days a fund must be held before the rotation may leave it.", kind="whole",
                          low=0, unit=DAYS, setting="MinHold")
    delay: int = param(1, "Market days between the decision (at a close) and the trade: 0 or 1.", kind="whole",
                       low=0, high=1, setting="Delay")
    cost_bp: float = param(10.0, "Cost of each trade in basis points of the traded value.", low=0, high=10_000,
                           unit="bp", setting="CostBp")
    min_history: int = param(22, "Market days of prices a fund needs before it may be picked.", kind="whole",
                             low=0, unit=DAYS, setting="MinHistory")
    stormguard: StormGuardMode | None = param(
        None, "Market filter: off, standard (state changes at month ends) or quick (any day, once the last "
        "trade is aqr_days old).", kind="choice", choices=("off", "standard", "quick"),
        aliases={"off": None}, optional=True, blank="off", setting="StormGuard")
    shift: float = param(0.005, "StormGuard band around 0, trend units: bull -> bear below -shift, "
                         "bear -> bull above +shift.", low=0, setting="StormGuardShift")
    sg_tc: float = param(50.0, "Trend constant of the StormGuard indicator (EMA2 of the index).", low=1,
                         unit=DAYS)
    aqr_days: int = param(15, "Minimum age of the last trade for a quick-response StormGuard switch.",
                          kind="whole", low=0, unit=DAYS)

    @property
    def decay_days(self) -> float:
        return self.tc if self.decay is None else self.decay

    @property
    def cost(self) -> float:
        """Cost of a trade as a fraction of the traded value."""
        return self.cost_bp / 1e4

    @property
    def stormguard_mode(self) -> int:
        return STORMGUARD_MODES[self.stormguard]


# --------------------------------------------------------------------------------------------------
# tuning the trend constant (SPEC §4)
# --------------------------------------------------------------------------------------------------

MAX_GRID = 1000


@dataclass(frozen=True)
class TuningParams(Params):
    """Parameters of the trend chart, FWPT and the stationarity checks."""

    kind_name = "tuning parameter"

    tc_min: float = param(2.0, "Smallest trend constant of the tuning grid.", low=1, unit=DAYS, setting="TcMin")
    tc_max: float = param(200.0, "Largest trend constant of the tuning grid.", low=1, unit=DAYS, setting="TcMax")
    tc_step: float = param(1.0, "Step between the trend constants of the grid.", low=0, low_open=True,
                           unit=DAYS)
    born_on: dt.date | None = param(None, "FWPT born-on date: the end of the first tuning.", kind="date",
                                    optional=True, blank="five years after the data start", setting="BornOn")
    retune_days: int = param(125, "FWPT retunes the trend constant about every this many market days.",
                             kind="whole", low=1, unit=DAYS, setting="RetuneDays")
    defer: bool = param(True, "Defer a retune that would force an immediate trade.", kind="flag")
    half_life: float | None = param(None, "Half-life weighting the score toward recent days.", low=0,
                                    low_open=True, unit=DAYS, optional=True,
                                    blank="plain cumulative score")
    plateau: float = param(0.05, "Plateau tolerance: the tcs whose growth of 1 is within this fraction of "
                           "the peak's.", low=0, high=1, low_open=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.tc_min > self.tc_max:
            raise ParameterError(f"tc_min must be <= tc_max, got tc_min {self.tc_min:g} and tc_max {self.tc_max:g}")
        if (self.tc_max - self.tc_min) / self.tc_step + 1 > MAX_GRID:
            raise ParameterError(
                f"the tuning grid tc_min..tc_max step tc_step must hold at most {MAX_GRID} trend constants, got "
                f"{self.tc_min:g}..{self.tc_max:g} step {self.tc_step:g}"
            )

    @property
    def tcs(self) -> list[float]:
        """The grid tc_min, tc_min + tc_step, ..., tc_max."""
        count = math.floor((self.tc_max - self.tc_min) / self.tc_step + 1e-9) + 1
        return [self.tc_min + self.tc_step * i for i in range(count)]


# --------------------------------------------------------------------------------------------------
# the momentum rotation (SPEC §3)
# --------------------------------------------------------------------------------------------------

DEFAULT_VIX_BANDS: tuple[tuple[float, float], ...] = ((15.0, 1.2), (20.0, 1.0), (30.0, 0.8), (_INF, 0.6))
LEVERAGE_RULES: tuple[str, ...] = ("fixed", "vix_bands", "vix_formula")


#: Largest momentum period or moving-average window (market days, ~400 years): a typo, not a strategy, beyond it.
MAX_PERIOD_DAYS = 100_000
#: Largest leverage a momentum strategy may ask for: beyond it one bad day is -10,000% and the numbers overflow.
MAX_LEVERAGE = 100.0


@dataclass(frozen=True)
class MomentumStrategy(Params):
    """Parameters of the momentum rotation (top-k funds by N-day total return, leverage, trend filter).

    The field declarations are the one definition of each parameter's default, rule and help;
    :mod:`xlsector.momentum_rotation` documents the semantics. Three spellings are accepted on
    construction and stored in their canonical form: ``ma_filter`` 0 means no filter (None),
    ``leverage_max`` infinity means no upper clip (None) and ``vix_bands`` None means the default table.
    """

    kind_name = "momentum parameter"

    lookback: int = param(126, "Momentum period N (market days): total return over the last N market days.",
                          kind="whole", low=1, high=MAX_PERIOD_DAYS)
    top_k: int = param(1, "Number of funds held, equal weight.", kind="whole", low=1)
    rebalance: Schedule = param("daily", "Decision days: daily, week or month (last market day).",
                                kind="choice", choices=SCHEDULES, aliases=MOMENTUM_REBALANCE)
    delay: int = param(1, "Market days between the decision (at a close) and the trade: 0 or 1.",
                       kind="whole", low=0, high=1)
    leverage: float = param(1.0, "Fixed leverage, or the base of the VIX rules.", low=0, high=MAX_LEVERAGE)
    leverage_rule: LeverageRule = param("fixed", "Leverage rule: fixed, vix_bands (a band table) or "
                                        "vix_formula (base x 30 / max(VIX, 15)).", kind="choice",
                                        choices=LEVERAGE_RULES)
    vix_bands: tuple[tuple[float, float], ...] = param(
        DEFAULT_VIX_BANDS, "Band table of vix_bands: (VIX below threshold, leverage multiplier) pairs.",
        kind="bands")
    leverage_min: float = param(0.0, "Lower clip of the leverage.", low=0, high=MAX_LEVERAGE)
    leverage_max: float | None = param(None, "Upper clip of the leverage.", low=0, high=MAX_LEVERAGE, optional=True,
                                       blank="no upper clip")
    borrow_rate: float = param(0.0, "Annual borrowing rate paid on exposure above 1x (0.05 = 5%).", low=0,
                               high=1)
    cash_rate: float = param(0.0, "Annual rate earned on the uninvested part (0.02 = 2%).", low=-1, high=1)
    ma_filter: int | None = param(None, "Trend filter: invested only while the benchmark closes above its "
                                  "N-day simple moving average; 0 or none = off.", kind="whole", low=2, high=MAX_PERIOD_DAYS,
                                  unit=DAYS, optional=True, blank="off")
    slippage_bp: float = param(10.0, "Slippage per trade, basis points of the traded value.", low=0,
                               high=10_000, unit="bp")
    commission_bp: float = param(0.0, "Commission per trade, basis points of the traded value.", low=0,
                                 high=10_000, unit="bp")

    def __post_init__(self) -> None:
        # the other accepted spellings, before the rules are checked
        if _is_number(self.ma_filter) and self.ma_filter == 0:
            object.__setattr__(self, "ma_filter", None)
        if _is_number(self.leverage_max) and self.leverage_max == _INF:
            object.__setattr__(self, "leverage_max", None)
        if self.vix_bands is None:
            object.__setattr__(self, "vix_bands", DEFAULT_VIX_BANDS)
        super().__post_init__()
        if self.leverage_max is not None and self.leverage_max < self.leverage_min:
            raise ParameterError(
                f"leverage_max must be >= leverage_min ({self.leverage_min:g}), got {self.leverage_max:g}"
            )

    @property
    def cost(self) -> float:
        """Cost of trading one unit of exposure, as a fraction."""
        return (self.slippage_bp + self.commission_bp) / 1e4

    @property
    def leverage_cap(self) -> float:
        """The upper clip of the leverage as a number (infinity when there is none)."""
        return _INF if self.leverage_max is None else self.leverage_max


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
