"""Find, read and validate TOML profiles (see ``docs/experiments.md`` for the format).

A profile is one TOML file ``<name>.toml``::

    description = "126-day momentum, top 1, 1.25x fixed leverage"
    extends = "sector_rotation_base"      # optional: start from another profile, then override
    strategy = "momentum"                 # "momentum" (SPEC §3) or "trend" (SectorSurfer, SPEC §2)
    funds = ["XLK", "XLF", ...]           # columns of the prices to rotate among
    benchmark = "SPY"                     # buy-and-hold comparison (and the momentum trend filter's input)
    vix = "^VIX"                          # column of VIX closes (prices or --vix file), for VIX leverage
    index = "^GSPC"                       # trend strategy: StormGuard's index column
    start = "2000-01-01"                  # optional reported period
    end = "2024-12-31"

    [params]                              # parameters: xlsector.params.MomentumStrategy (momentum) or
    lookback = 126                        # Strategy plus cash_rate (trend); each checked by its rule
    leverage = 1.25
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsector.errors import ParameterError
from xlsector.params import MomentumStrategy, Strategy, param_of

__all__ = [
    "PROFILES_ENV",
    "Profile",
    "bundled_dir",
    "check_names",
    "check_parameter",
    "check_values",
    "experiments_dir",
    "list_profiles",
    "load_profile",
    "parameter_names",
    "profile_dirs",
    "read_toml",
]

#: Environment variable with extra profile folders (``os.pathsep``-separated), searched after --profiles-dir.
PROFILES_ENV = "XLSECTOR_PROFILES"
STRATEGIES = ("momentum", "trend")
TOP_KEYS = {
    "description",
    "extends",
    "strategy",
    "funds",
    "benchmark",
    "vix",
    "index",
    "bear",
    "start",
    "end",
    "params",
}
#: Data keywords of run_backtest a trend profile may set in [params] besides the Strategy parameters (a
#: constant annual cash rate, by the rule of MomentumStrategy.cash_rate).
TREND_DATA_PARAMS = ("cash_rate",)


def parameter_model(strategy: str) -> type[MomentumStrategy | Strategy]:
    """The parameter dataclass of a profile's ``strategy``: MomentumStrategy or Strategy."""
    return MomentumStrategy if strategy == "momentum" else Strategy


def parameter_names(strategy: str) -> tuple[str, ...]:
    """The names a profile of ``strategy`` may set in [params] (and an experiment may vary)."""
    names = parameter_model(strategy).names()
    return names if strategy == "momentum" else names + TREND_DATA_PARAMS


def check_parameter(strategy: str, name: str, value: Any) -> Any:
    """``value`` of parameter ``name`` checked by its :class:`~xlsector.params.Param` rule (canonical form),
    or a ParameterError stating the rule (inf, NaN, text where a number is due, ...)."""
    if strategy != "momentum" and name in TREND_DATA_PARAMS:
        return param_of(MomentumStrategy, name).check(value)
    return getattr(parameter_model(strategy).from_kwargs(**{name: value}), name)


def check_names(strategy: str, names: Any, where: str, section: str = "") -> None:
    """Every one of ``names`` is a parameter of ``strategy``; else a ParameterError naming the first unknown one
    (``section``: where in the file, e.g. " in [params]") and the known ones."""
    known = parameter_names(strategy)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ParameterError(
            f"{where}: unknown {strategy} parameter {unknown[0]!r}{section}; known: {', '.join(sorted(known))}"
        )


def check_values(strategy: str, values: dict[str, Any], where: str) -> None:
    """Check every value of ``values`` and then all of them together; errors start with ``where``."""
    try:
        for name, value in values.items():
            check_parameter(strategy, name, value)
        model = parameter_model(strategy)
        model.from_kwargs(**{k: v for k, v in values.items() if k in model.names()})
    except ParameterError as exc:
        raise ParameterError(f"{where}: {exc}") from None


def bundled_dir() -> Path:
    """Folder of the profiles shipped with xlsector."""
    return Path(__file__).resolve().parent


def experiments_dir() -> Path:
    """Folder of the experiment files shipped with xlsector."""
    return bundled_dir() / "experiments"


def profile_dirs(extra: list[str | os.PathLike[str]] | str | os.PathLike[str] | None = None) -> list[Path]:
    """Folders searched for profiles, in order: ``extra``, ``$XLSECTOR_PROFILES``, the bundled folder."""
    if extra is None:
        extra = []
    elif isinstance(extra, (str, os.PathLike)):
        extra = [extra]
    dirs = [Path(d).expanduser() for d in extra]
    for part in os.environ.get(PROFILES_ENV, "").split(os.pathsep):
        if part.strip():
            dirs.append(Path(part.strip()).expanduser())
    for folder in dirs:
        if not folder.is_dir():
            raise ParameterError(f"profiles folder {folder} does not exist or is not a folder")
    dirs.append(bundled_dir())
    return dirs


def list_profiles(dirs: list[str | os.PathLike[str]] | None = None) -> dict[str, Path]:
    """Known profile names -> file, first folder first (a user's file hides a shipped one of the same name)."""
    found: dict[str, Path] = {}
    for folder in profile_dirs(dirs):
        for path in sorted(folder.glob("*.toml")):
            found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a TOML file (a regular file of at most :data:`~xlsector.limits.MAX_TEXT_BYTES`, UTF-8); a syntax error
    becomes a ParameterError naming the file, line and column."""
    from xlsector.errors import XlsectorError
    from xlsector.fileio import regular_file
    from xlsector.limits import MAX_TEXT_BYTES, describe

    file = Path(path)
    try:
        regular_file(file, "file")
    except XlsectorError as exc:
        raise ParameterError(str(exc).replace(" does not exist", " not found")) from None
    try:
        with open(file, "rb") as handle:
            data = handle.read(MAX_TEXT_BYTES + 1)
    except OSError as exc:
        raise ParameterError(f"cannot read {file}: {exc.strerror or exc}") from None
    if len(data) > MAX_TEXT_BYTES:
        raise ParameterError(f"{file} is larger than {describe('MAX_TEXT_BYTES')}; a profile or experiment is a "
                             "short text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{file}: not UTF-8 text (byte {exc.start}); TOML files are UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{file}: malformed TOML: {exc}") from None
    except RecursionError:
        raise ParameterError(f"{file}: malformed TOML: nested too deeply") from None


@dataclass(frozen=True)
class Profile:
    """A loaded profile with its ``extends`` chain resolved.

    ``params`` holds the keyword arguments of the strategy function as the files give them, each checked
    by its rule (:func:`check_parameter`); ``sources`` the files read (the profile first, then its parents).
    """

    name: str
    path: Path
    strategy: str
    description: str = ""
    funds: tuple[str, ...] | None = None
    benchmark: str | None = None
    vix: str | None = None
    index: str | None = None
    bear: tuple[str, ...] | None = None
    start: str | None = None
    end: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    sources: tuple[Path, ...] = ()

    def with_params(self, **changes: Any) -> Profile:
        """A copy with some ``params`` replaced (used by experiment phases): names and values are
        checked by the parameter model, as :func:`load_profile` checks the file's."""
        where = f"profile {self.name} ({self.path})"
        check_names(self.strategy, changes, where)
        params = {**self.params, **changes}
        check_values(self.strategy, params, where)
        return Profile(**{**self.__dict__, "params": params})

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "strategy": self.strategy,
            "description": self.description,
            "funds": list(self.funds) if self.funds else None,
            "benchmark": self.benchmark,
            "vix": self.vix,
            "index": self.index,
            "bear": list(self.bear) if self.bear else None,
            "start": self.start,
            "end": self.end,
            "params": dict(self.params),
        }


def _resolve(name_or_path: str | os.PathLike[str], dirs: list | None) -> Path:
    text = str(name_or_path)
    candidate = Path(text).expanduser()
    if text.endswith(".toml") or os.sep in text or (os.altsep and os.altsep in text):
        if not candidate.is_file():
            raise ParameterError(f"profile file {candidate} not found")
        return candidate
    known = list_profiles(dirs)
    if text not in known:
        raise ParameterError(f"unknown profile {text!r}{did_you_mean(text, known)}; known profiles: "
                             f"{', '.join(known) or '(none)'}")
    return known[text]


def did_you_mean(text: str, known: Any) -> str:
    """``" (did you mean 'sample_trend'?)"`` for the names of ``known`` closest to ``text``, or ``""``."""
    import difflib

    close = difflib.get_close_matches(text, list(known), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def _string_list(value: Any, key: str, file: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ParameterError(f"{file}: {key} must be a non-empty list of ticker strings, got {value!r}")
    return tuple(value)


def _optional_str(value: Any, key: str, file: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ParameterError(f"{file}: {key} must be a non-empty string, got {value!r}")
    return value


def _date_text(value: Any, key: str, file: Path) -> str | None:
    if value is None:
        return None
    import datetime as _dt

    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, str):
        try:
            _dt.date.fromisoformat(value)
        except ValueError:
            raise ParameterError(f"{file}: {key} must be a date YYYY-MM-DD, got {value!r}") from None
        return value
    raise ParameterError(f"{file}: {key} must be a date YYYY-MM-DD, got {value!r}")


def _read_one(file: Path) -> dict[str, Any]:
    """One profile file's table, its keys and [params] checked for shape."""
    data = read_toml(file)
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise ParameterError(f"{file}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(TOP_KEYS))}")
    if "params" in data and not isinstance(data["params"], dict):
        raise ParameterError(f"{file}: params must be a table ([params]), got {data['params']!r}")
    return data


def _read_chain(path: Path, dirs: list | None) -> list[tuple[Path, dict[str, Any]]]:
    """The profile's file and table, then its parent's (``extends``), and so on; a cycle is an error, and so is a
    chain longer than :data:`~xlsector.limits.MAX_EXTENDS_DEPTH`."""
    from xlsector.limits import MAX_EXTENDS_DEPTH, describe

    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: set[Path] = set()
    current: Path | None = path
    while current is not None:
        if len(chain) >= MAX_EXTENDS_DEPTH:
            raise ParameterError(f"{path}: its extends chain is longer than {describe('MAX_EXTENDS_DEPTH')} "
                                 f"({' -> '.join(p.stem for p, _ in chain[:4])} -> ...)")
        real = current.resolve()
        if real in seen:
            raise ParameterError(
                f"{current}: extends cycle ({' -> '.join(p.stem for p, _ in chain)} -> {current.stem})"
            )
        seen.add(real)
        data = _read_one(current)
        chain.append((current, data))
        parent = data.get("extends")
        # a name looked up in the profile folders, never a path: a shared profile must not read other files
        if parent is not None and (not isinstance(parent, str) or not parent or parent.endswith(".toml")
                                   or any(sep in parent for sep in "/\\:~")):
            raise ParameterError(f"{current}: extends must be a profile name (a .toml file of the profile folders, "
                                 f"named without .toml), got {parent!r}")
        current = None if parent is None else _resolve(parent, list(dirs or []) + [current.parent])
    return chain


def _merge(chain: list[tuple[Path, dict[str, Any]]]) -> tuple[dict[str, tuple[Path, Any]], dict[str, Any]]:
    """(key -> (file that set it, value), the merged [params]): parents first, the profile itself last."""
    merged: dict[str, tuple[Path, Any]] = {}
    params: dict[str, Any] = {}
    for file, data in reversed(chain):
        for key, value in data.items():
            if key == "params":
                params.update(value)
            elif key != "extends":
                merged[key] = (file, value)
    return merged, params


def _check_params(strategy: str, chain: list[tuple[Path, dict[str, Any]]], params: dict[str, Any]) -> None:
    """Every file's [params] by name and rule (errors name that file), then the merged set together."""
    for file, data in chain:
        own = data.get("params", {})
        check_names(strategy, own, str(file), " in [params]")
        check_values(strategy, own, f"profile {file.stem} ({file})")
    path = chain[0][0]
    check_values(strategy, params, f"profile {path.stem} ({path})")  # together, across extends


def load_profile(name_or_path: str | os.PathLike[str], dirs: list | None = None) -> Profile:
    """Load a profile by name (searched in :func:`profile_dirs`) or by file path; resolve ``extends``.

    Raises ParameterError naming the file and key for an unknown name, malformed TOML (with line and
    column), an unknown key or parameter, a wrong type, a parameter value its rule does not allow (inf,
    NaN, text for a number: :func:`check_parameter`), or an ``extends`` cycle.
    """
    path = _resolve(name_or_path, dirs)
    chain = _read_chain(path, dirs)
    merged, params = _merge(chain)
    strategy_file, strategy = merged.get("strategy", (path, "momentum"))
    if strategy not in STRATEGIES:
        raise ParameterError(
            f"{strategy_file}: strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}"
        )
    _check_params(strategy, chain, params)

    def get(key: str) -> tuple[Path, Any]:
        return merged.get(key, (path, None))

    description_file, description = get("description")
    if not isinstance(description or "", str):
        raise ParameterError(f"{description_file}: description must be a string, got {description!r}")
    funds_file, funds = get("funds")
    bear_file, bear = get("bear")
    return Profile(
        name=path.stem,
        path=path,
        strategy=strategy,
        description=description or "",
        funds=None if funds is None else _string_list(funds, "funds", funds_file),
        benchmark=_optional_str(get("benchmark")[1], "benchmark", get("benchmark")[0]),
        vix=_optional_str(get("vix")[1], "vix", get("vix")[0]),
        index=_optional_str(get("index")[1], "index", get("index")[0]),
        bear=None if bear is None else _string_list(bear, "bear", bear_file),
        start=_date_text(get("start")[1], "start", get("start")[0]),
        end=_date_text(get("end")[1], "end", get("end")[0]),
        params=params,
        sources=tuple(p for p, _ in chain),
    )
