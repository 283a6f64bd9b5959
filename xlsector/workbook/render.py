"""``xlsector render``: read a workbook, recompute every computed sheet with the core, write it atomically.

Stages (timed, reported by :class:`RenderReport`):

1. **read**: check the file (signature, zip sizes), load it with openpyxl, read Settings and the data;
2. **compute**: run the core (:mod:`xlsector.workbook.compute`);
3. **write**: fill the computed sheets, charts, Data (if it came from elsewhere), provenance; evaluate the
   xlsector-function formulas with the add-in's own functions; save to memory;
4. **cached values**: put every formula's value into the saved file (:mod:`xlsector.workbook.xlsx_patch`)
   and replace the target atomically (:mod:`xlsector.fileio`).

Nothing is written when any stage fails: the target keeps its previous bytes.
"""

from __future__ import annotations

import io
import sys
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from xlsector.errors import XlsectorError
from xlsector.workbook import layout

__all__ = ["RenderReport", "render_workbook"]


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


def _load(data: bytes, name: str):
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # openpyxl: unsupported extensions, data validation
            return openpyxl.load_workbook(io.BytesIO(data), rich_text=False)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise XlsectorError(f"{name} cannot be read as a spreadsheet: {exc}") from exc


def _ensure_sheet(wb: Any, name: str):
    if name in wb.sheetnames:
        return wb[name]
    from xlsector.workbook import style

    ws = wb.create_sheet(name)
    style.title(ws, name, layout.SHEET_DESCRIPTIONS[name])
    return ws


def render_workbook(
    workbook: str | Path,
    out: str | Path | None = None,
    *,
    data: str | None = None,
    progress: TextIO | None = sys.stderr,
) -> RenderReport:
    """Render ``workbook`` (in place, or to ``out``); see the module docstring.

    Parameters
    ----------
    workbook : path of an .xlsx made by ``xlsector template`` (or one with its Settings and Data sheets).
    out : output path; default: replace ``workbook``.
    data : a price file or source for :func:`xlsector.data.load_prices` instead of the Data sheet.
    progress : stream for one line per stage (None: silent).
    """
    t_import = time.perf_counter()
    from xlsector.fileio import atomic_write_bytes, check_writable
    from xlsector.workbook import compute as compute_mod
    from xlsector.workbook.guard import read_workbook_bytes
    from xlsector.workbook.inputs import load_table, split_inputs
    from xlsector.workbook.settings import read_settings

    source = Path(workbook)
    target = Path(out) if out is not None else source
    timings: dict[str, float] = {"import": time.perf_counter() - t_import}  # numpy, pandas, openpyxl (fresh process)
    t0 = time.perf_counter()
    _stage(progress, f"render: reading {source}")
    raw = read_workbook_bytes(source)
    check_writable(target)
    from xlsector.workbook.data_xml import prepare_for_load

    stripped, data_rows = prepare_for_load(raw, layout.DATA_SHEET)
    wb = _load(stripped, str(source))
    for sheet in layout.REQUIRED_SHEETS:
        if sheet not in wb.sheetnames:
            raise XlsectorError(f"{source} has no sheet named {sheet!r} (sheets: {', '.join(wb.sheetnames)}); "
                                "make a fresh one with: xlsector template PATH")
    settings = read_settings(wb)
    table, provenance, write_data = load_table(wb[layout.DATA_SHEET], data, data_rows)
    inputs = split_inputs(table, settings)
    inputs.provenance = provenance
    timings["read"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    _stage(progress, f"render: computing ({len(table)} days x {inputs.funds.shape[1]} funds)")
    computed = compute_mod.compute(inputs, settings)
    timings["compute"] = time.perf_counter() - t1
    for part, seconds in computed.timings.items():
        timings[f"  compute: {part}"] = seconds

    t2 = time.perf_counter()
    _stage(progress, "render: writing sheets and charts")
    notes, cached, data_table, bulks = _write(wb, settings, inputs, computed, write_data)
    buffer = io.BytesIO()
    wb.save(buffer)
    timings["write"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    _stage(progress, "render: storing cached values")
    from xlsector.workbook.xlsx_patch import cached_formula_values, finish_xlsx

    keep = cached_formula_values(raw)
    patched, count = finish_xlsx(buffer.getvalue(), cached, keep, bulks, layout.DATA_SHEET, data_table)
    atomic_write_bytes(target, patched)
    timings["cached values"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t_import
    _stage(progress, f"render: wrote {target} ({count} formula cells with values, {timings['total']:.1f} s)")
    return RenderReport(path=target, timings=timings, cached_cells=count, notes=notes,
                        data_source=str(provenance.get("DataSource", "workbook Data sheet")))


def _write(wb: Any, settings: Any, inputs: Any, computed: Any, write_data: bool) -> tuple[list[str], dict, Any, dict]:
    from xlsector.workbook import sheet_series, sheet_summary, sheet_theory, sheet_tuning
    from xlsector.workbook.data_xml import table_grid
    from xlsector.workbook.formulas import FormulaEvaluator, uses_udf
    from xlsector.workbook.settings import tickers
    from xlsector.workbook.sheet_data import define_price_ranges, order_table, write_data_header
    from xlsector.workbook.writer import SheetWriter

    cached: dict[str, dict[str, Any]] = {}
    data_ws = wb[layout.DATA_SHEET]
    funds = [str(c) for c in inputs.funds.columns]
    bear = tickers(settings["BearFunds"])
    table = order_table(inputs.table, funds) if write_data else inputs.table
    write_data_header(data_ws, table)
    notes = define_price_ranges(wb, data_ws, funds, settings["MarketIndex"], bear, len(table) + 1)
    sheet_summary.write_provenance(wb, inputs.provenance, inputs.table)
    params = computed.params

    def sheet(name: str) -> SheetWriter:
        return SheetWriter(wb, _ensure_sheet(wb, name), cached)

    writers = []
    w = sheet("Theory")
    sheet_theory.write_theory(w, computed.theory, params["k"], params["tc"])
    writers.append(w)
    w = sheet("Trends")
    sheet_series.write_trends(w, computed.trends, params["tc"], params["k"])
    writers.append(w)
    w = sheet("Hysteresis")
    sheet_series.write_hysteresis(w, computed.hysteresis, params["hysteresis"], params["tc"], params["decay"])
    writers.append(w)
    w = sheet("StormGuard")
    sheet_series.write_stormguard(w, computed.stormguard, params["shift"], settings["StormGuard"])
    writers.append(w)
    fwpt = sheet_tuning.write_tuning(sheet, computed, writers)
    w = sheet("Summary")
    sheet_summary.write_summary(w, computed, bool(bear), fwpt)
    writers.append(w)
    from xlsector.workbook import sheet_momentum

    sheet_momentum.write_momentum(sheet, computed, writers)
    for w in writers:
        w.finish()
    if computed.tuning.get("fwpt_note"):
        notes.append(f"FWPT sheet: not possible on this data: {computed.tuning['fwpt_note']}")
    if computed.tuning.get("progressive_note"):
        notes.append(f"Stationarity sheet: progressive tune not possible: {computed.tuning['progressive_note']}")
    if "error" in computed.momentum:
        notes.append(f"Momentum sheet: {computed.momentum['error']}")

    # The xlsector-function formulas: evaluate with the add-in's functions on the cells as written.
    bulks = {w.ws.title: w.bulk for w in writers}
    evaluator = FormulaEvaluator(wb, grids={layout.DATA_SHEET: table_grid(table)}, bulks=bulks)
    for sheet_name, cells in cached.items():
        formulas = dict(bulks[sheet_name].formulas()) if sheet_name in bulks else {}
        for ref in [r for r, v in cells.items() if v is None]:
            formula = formulas.get(ref)
            if isinstance(formula, str) and uses_udf(formula):
                try:
                    cells[ref] = evaluator.evaluate(formula, sheet_name)
                except XlsectorError:
                    raise
                except Exception as exc:  # the function reported a user error (XlwingsError): show it as Excel
                    cells[ref] = "#VALUE!"
                    notes.append(f"{sheet_name}!{ref}: {exc}")
    sheet_theory.fill_differences(cached.setdefault("Theory", {}), computed.theory)
    return notes, cached, table, bulks
