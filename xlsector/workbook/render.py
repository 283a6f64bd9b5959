"""``xlsector render``: read a workbook, write every computed sheet as live formulas with their values, write it
atomically.

Stages (timed, reported by :class:`RenderReport`):

1. **read**: check the file (signature, zip sizes), load it with openpyxl, read Settings and the data;
2. **compute**: what is not one formula (:mod:`xlsector.workbook.compute`);
3. **write**: each computed sheet's tables as xlsector formulas over the Data table and the Settings names,
   their results evaluated by the Excel functions themselves (:mod:`xlsector.workbook.formulas`), charts
   over their ranges, Data (if it came from elsewhere), provenance; save to memory;
4. **cached values**: put every formula's value into the saved file (:mod:`xlsector.workbook.xlsx_patch`),
   optionally drop the formulas (``values_only``), and replace the target atomically.

The Excel functions are passed in (``functions``: name -> callable, as :mod:`udfs.xlsector_udfs` defines
them), so this package does not depend on the add-in layer above it. Nothing is written when any stage
fails: the target keeps its previous bytes.
"""

from __future__ import annotations

import io
import os
import time
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from xlsector.contract import COMPUTED_SHEETS, DATA_SHEET, REQUIRED_SHEETS, WorkbookSettings
from xlsector.errors import XlsectorError
from xlsector.workbook import layout

__all__ = ["RenderReport", "render_workbook"]

#: Sheets in the order they are written: a sheet may read what an earlier one wrote (Summary reads FWPT).
WRITE_ORDER = ["Theory", "Trends", "Hysteresis", "StormGuard", "TrendChart", "Stationarity", "FWPT", "Summary",
               "Momentum"]


@dataclass
class RenderReport:
    """What a render did: the file written, the time per stage (seconds), formula cells given values."""

    path: Path
    timings: dict[str, float] = field(default_factory=dict)
    cached_cells: int = 0
    notes: list[str] = field(default_factory=list)
    data_source: str = ""


def _stage(stream: TextIO | None, text: str) -> None:
    if stream is not None:
        print(text, file=stream, flush=True)


def _load(data: bytes, name: str, *, keep_vba: bool = False) -> Any:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # openpyxl: unsupported extensions, data validation
            return openpyxl.load_workbook(io.BytesIO(data), rich_text=False, keep_vba=keep_vba)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, SyntaxError) as exc:
        raise XlsectorError(f"{name} cannot be read as a spreadsheet: {type(exc).__name__}: {exc}") from exc


def _check_output(source: Path, target: Path, macros: bool) -> None:
    """The output keeps the source's kind: .xlsx, or .xlsm when the source holds macros (kept, never dropped)."""
    suffix = target.suffix.lower()
    if suffix not in (".xlsx", ".xlsm"):
        raise XlsectorError(f"cannot write {target}: a render writes an Excel workbook, so the name must end in .xlsx "
                            "(or .xlsm for a workbook with macros)" + ("; for CSV prices use the Data sheet" if
                                                                      suffix in (".csv", ".txt") else ""))
    if macros and suffix != ".xlsm":
        raise XlsectorError(f"{source} holds macros (a VBA project); write to a .xlsm name (-o NAME.xlsm) so that "
                            "they are kept: an .xlsx cannot hold them")
    if not macros and suffix == ".xlsm":
        raise XlsectorError(f"cannot write {target}: {source} holds no macros, and Excel refuses an .xlsm without "
                            "them; use an .xlsx name")


def render_workbook(
    workbook: str | Path,
    out: str | Path | None = None,
    *,
    functions: Mapping[str, Callable[..., Any]],
    cell_errors: tuple[type[Exception], ...] = (),
    data: str | None = None,
    values_only: bool = False,
    progress: TextIO | None = None,
) -> RenderReport:
    """Render ``workbook`` (in place, or to ``out``); see the module docstring.

    Parameters
    ----------
    workbook : path of an .xlsx made by ``xlsector template`` (or one with its Settings and Data sheets).
    out : output path; default: replace ``workbook``.
    functions : the Excel functions by name (their results are the cached values).
    cell_errors : the exception types with which a function refuses its arguments; the cell then holds
        ``#VALUE!`` and the message goes to the report's notes (anything else is a bug and propagates).
    data : a price file or source for :func:`xlsector.data.load_prices` instead of the Data sheet.
    values_only : write the values without the formulas (a copy any spreadsheet program shows as is); needs
        ``out`` other than ``workbook``, whose formulas it would replace.
    progress : stream for one line per stage (None: silent).
    """
    t_import = time.perf_counter()
    from xlsector.fileio import workbook_lock

    source = Path(workbook)
    target = Path(out) if out is not None else source
    if values_only and (out is None or os.path.realpath(target) == os.path.realpath(source)):
        raise XlsectorError(f"--values writes a copy without formulas: give -o OUT.xlsx (it would replace every "
                            f"formula of {source} by its value)")
    timings: dict[str, float] = {"import": time.perf_counter() - t_import}
    notice = None if progress is None else (lambda text: _stage(progress, f"render: {text}"))
    with workbook_lock(target, notify=notice):
        return _render(source, target, t_import, timings, functions, cell_errors, data, values_only, progress)


def _render(source: Path, target: Path, t_import: float, timings: dict[str, float],
            functions: Mapping[str, Callable[..., Any]], cell_errors: tuple[type[Exception], ...],
            data: str | None, values_only: bool, progress: TextIO | None) -> RenderReport:
    """The render's stages, under the target's lock (see :func:`render_workbook`)."""
    from xlsector.data.workbook import has_vba
    from xlsector.fileio import atomic_write_bytes, check_writable
    from xlsector.workbook.compute import compute
    from xlsector.workbook.data_xml import prepare_for_load
    from xlsector.workbook.guard import read_workbook_bytes
    from xlsector.workbook.inputs import load_table, split_inputs
    from xlsector.workbook.settings import read_settings

    t0 = time.perf_counter()
    _stage(progress, f"render: reading {source}")
    raw = read_workbook_bytes(source)
    check_writable(target)
    macros = has_vba(raw)
    _check_output(source, target, macros)
    stripped, data_rows = prepare_for_load(raw, DATA_SHEET, name=str(source))
    wb = _load(stripped, str(source), keep_vba=macros)
    for sheet in REQUIRED_SHEETS:
        if sheet not in wb.sheetnames:
            raise XlsectorError(f"{source} has no sheet named {sheet!r} (sheets: {', '.join(wb.sheetnames)}); "
                                "make a fresh one with: xlsector template PATH")
    settings = read_settings(wb)
    header = [c.value for c in wb[DATA_SHEET][1]]
    table, provenance, _ = load_table(header, data_rows, data, where=f"{source}, sheet {DATA_SHEET}")
    inputs = split_inputs(table, settings, source=data)
    inputs.provenance = provenance
    timings["read"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    _stage(progress, f"render: computing ({len(table)} days x {inputs.funds.shape[1]} funds)")
    computed = compute(inputs, settings)
    timings["compute"] = time.perf_counter() - t1
    for part, seconds in computed.timings.items():
        timings[f"  compute: {part}"] = seconds

    t2 = time.perf_counter()
    _stage(progress, "render: writing sheets, evaluating their formulas")
    notes, cached, bulks = _write(wb, settings, inputs, computed, functions, cell_errors)
    buffer = io.BytesIO()
    wb.save(buffer)
    timings["write"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    _stage(progress, "render: storing cached values")
    from xlsector.workbook.xlsx_patch import cached_formula_values, finish_xlsx

    keep = cached_formula_values(raw)
    patched, count = finish_xlsx(buffer.getvalue(), cached, keep, bulks, DATA_SHEET, table,
                                 functions=tuple(functions), values_only=values_only)
    atomic_write_bytes(target, patched)
    timings["cached values"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t_import
    _stage(progress, f"render: wrote {target} ({count} formula cells with values, {timings['total']:.1f} s)")
    return RenderReport(path=target, timings=timings, cached_cells=count, notes=notes,
                        data_source=str(provenance.get("DataSource", "workbook Data sheet")))


def _write(wb: Any, settings: WorkbookSettings, inputs: Any, computed: Any,
           functions: Mapping[str, Callable[..., Any]], cell_errors: tuple[type[Exception], ...],
           ) -> tuple[list[str], dict, dict]:
    from xlsector.workbook import (
        sheet_momentum,
        sheet_series,
        sheet_summary,
        sheet_theory,
        sheet_tuning,
        style,
    )
    from xlsector.workbook.calls import Calls, Quoted
    from xlsector.workbook.data_xml import table_grid
    from xlsector.workbook.formulas import FormulaEvaluator, uses_udf
    from xlsector.workbook.sheet_data import define_data_table, one_selection_per_pane, write_data_header
    from xlsector.workbook.writer import SheetWriter

    cached: dict[str, dict[str, Any]] = {}
    write_data_header(wb[DATA_SHEET], inputs.table)
    notes = define_data_table(wb)
    sheet_summary.write_provenance(wb, inputs.provenance, inputs.table)
    calls = Calls(functions)
    bulks: dict[str, Any] = {}
    evaluator = FormulaEvaluator(wb, dict(functions), grids={DATA_SHEET: table_grid(inputs.table)}, bulks=bulks,
                                 cell_errors=cell_errors)
    writers: dict[str, SheetWriter] = {}

    def sheet(name: str) -> SheetWriter:
        if name not in wb.sheetnames:
            ws = wb.create_sheet(name)
            style.title(ws, name, layout.SHEET_DESCRIPTIONS[name])
        w = SheetWriter(wb, wb[name], cached, evaluator.evaluate_array, cell_errors)
        writers[name] = w
        bulks[name] = w.bulk
        return w

    strategy = settings.strategy
    for name in WRITE_ORDER:
        w = sheet(name)
        if name == "Theory":
            sheet_theory.write_theory(w, computed.theory, strategy.k, strategy.tc)
        elif name == "Trends":
            sheet_series.write_trends(w, calls)
        elif name == "Hysteresis":
            sheet_series.write_hysteresis(w, calls, computed.hysteresis)
        elif name == "StormGuard":
            sheet_series.write_stormguard(w, calls)
        elif name == "TrendChart":
            sheet_tuning.write_trend_chart(w, calls)
        elif name == "Stationarity":
            sheet_tuning.write_stationarity(w, calls)
        elif name == "FWPT":
            fwpt_summary = sheet_tuning.write_fwpt(w, calls)
        elif name == "Summary":
            from xlsector.contract import named_values

            source = named_values(wb, ["DataSource"]).get("DataSource")
            sheet_summary.write_summary(w, calls, fwpt_summary, calls("FWPT_TABLE", part=Quoted("summary")), source)
        elif name == "Momentum":
            sheet_momentum.write_momentum(w, computed.momentum)
    assert set(WRITE_ORDER) == set(COMPUTED_SHEETS)
    for w in writers.values():
        w.finish()
        notes.extend(w.notes)
    for ws in wb.worksheets:
        one_selection_per_pane(ws)

    # Single-cell xlsector formulas (Summary's pick, Theory's EMA2_TREND column): their values, as Excel shows
    # them in one cell.
    names = tuple(functions)
    for sheet_name, cells in cached.items():
        formulas = dict(bulks[sheet_name].formulas()) if sheet_name in bulks else {}
        for ref in [r for r, v in cells.items() if v is None]:
            formula = formulas.get(ref)
            if isinstance(formula, str) and uses_udf(formula, names):
                try:
                    cells[ref] = evaluator.evaluate(formula, sheet_name)
                except cell_errors as exc:  # the function refused its arguments: Excel shows #VALUE!
                    cells[ref] = "#VALUE!"
                    notes.append(f"{sheet_name}!{ref}: {exc}")
    sheet_theory.fill_differences(cached.setdefault("Theory", {}), computed.theory)
    return notes, cached, bulks
