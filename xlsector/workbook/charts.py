"""Chart builders (openpyxl): lines over a date axis, scatter of score against tc, bands for states.

Every chart is rebuilt by each render (openpyxl reads charts back only approximately), its data on the
same sheet, so the chart follows the table when Excel or LibreOffice recalculates nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl.chart import AreaChart, LineChart, Reference, ScatterChart, Series
from openpyxl.chart.axis import DateAxis
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["band_chart", "date_line_chart", "scatter_chart"]

_COLORS = ["1F77B4", "FF7F0E", "2CA02C", "D62728", "9467BD", "8C564B", "E377C2", "7F7F7F", "BCBD22",
           "17BECF", "393B79", "AD494A", "637939"]


def _size(chart, width: float, height: float) -> None:
    chart.width = width
    chart.height = height
    chart.legend.position = "b"


def _style_line(series, i: int, width_emu: int = 15875, dash: str | None = None) -> None:
    props = series.graphicalProperties
    props.line.solidFill = _COLORS[i % len(_COLORS)]
    props.line.width = width_emu
    if dash:
        props.line.dashStyle = dash
    series.smooth = False
    series.marker.symbol = "none"


def date_line_chart(
    ws: Worksheet,
    *,
    title: str,
    date_col: int,
    series_cols: Sequence[int],
    header_row: int,
    last_row: int,
    anchor: str,
    y_title: str,
    y_format: str | None = None,
    width: float = 26,
    height: float = 12,
    dashed: Sequence[int] = (),
    log_scale: bool = False,
    date_format: str = "yyyy",
) -> LineChart:
    """Line chart of columns ``series_cols`` (headers in ``header_row``) against the dates in ``date_col``."""
    chart = LineChart()
    chart.title = title
    _size(chart, width, height)
    chart.y_axis.title = y_title
    chart.y_axis.crossAx = 500
    if y_format:
        chart.y_axis.number_format = y_format
    if log_scale:
        chart.y_axis.scaling.logBase = 10
    chart.x_axis = DateAxis(crossAx=100)
    chart.x_axis.number_format = date_format
    chart.x_axis.majorTimeUnit = "years" if date_format == "yyyy" else "months"
    chart.x_axis.title = "Date"
    chart.x_axis.tickLblPos = "low"  # labels below the plot even when the values cross zero
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    for i, col in enumerate(series_cols):
        data = Reference(ws, min_col=col, min_row=header_row, max_row=last_row)
        chart.add_data(data, titles_from_data=True)
        _style_line(chart.series[-1], i, dash="dash" if col in dashed else None)
    chart.set_categories(Reference(ws, min_col=date_col, min_row=header_row + 1, max_row=last_row))
    ws.add_chart(chart, anchor)
    return chart


def scatter_chart(
    ws: Worksheet,
    *,
    title: str,
    x_col: int,
    y_cols: Sequence[int],
    header_row: int,
    last_row: int,
    anchor: str,
    x_title: str,
    y_title: str,
    y_format: str | None = None,
    markers: bool = True,
    lines: bool | None = None,
    width: float = 20,
    height: float = 11,
    x_range: tuple[float, float] | None = None,
    marker_sizes: Sequence[int] = (),
) -> ScatterChart:
    """Scatter (x = ``x_col``) of each of ``y_cols``: e.g. score against trend constant."""
    chart = ScatterChart(scatterStyle="lineMarker")
    chart.title = title
    chart.style = 13
    _size(chart, width, height)
    chart.x_axis.title = x_title
    chart.y_axis.title = y_title
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.x_axis.tickLblPos = "low"  # labels below the plot even when the values cross zero
    chart.y_axis.tickLblPos = "low"
    if x_range is not None:
        chart.x_axis.scaling.min = x_range[0]
        chart.x_axis.scaling.max = x_range[1]
    if y_format:
        chart.y_axis.number_format = y_format
    if lines is None:
        lines = not markers
    xref = Reference(ws, min_col=x_col, min_row=header_row + 1, max_row=last_row)
    for i, col in enumerate(y_cols):
        yref = Reference(ws, min_col=col, min_row=header_row, max_row=last_row)
        series = Series(yref, xref, title_from_data=True)
        series.smooth = False  # straight segments between points (openpyxl's scatter default is smoothed)
        color = _COLORS[i % len(_COLORS)]
        if markers:
            series.marker.symbol = "circle"
            series.marker.size = marker_sizes[i] if i < len(marker_sizes) else 4
            series.marker.graphicalProperties.solidFill = color
            series.marker.graphicalProperties.line.solidFill = color
        else:
            series.marker.symbol = "none"
        if lines:
            series.graphicalProperties.line.solidFill = color
            series.graphicalProperties.line.width = 19050
        else:
            series.graphicalProperties.line.noFill = True
        chart.series.append(series)
    ws.add_chart(chart, anchor)
    return chart


def band_chart(
    ws: Worksheet,
    *,
    title: str,
    date_col: int,
    series_cols: Sequence[int],
    header_row: int,
    last_row: int,
    anchor: str,
    y_title: str,
    stacked: bool = True,
    width: float = 26,
    height: float = 7,
    date_format: str = "yyyy",
) -> AreaChart:
    """Filled bands over dates (0/1 state columns): in/out of market, or which fund is held (stacked)."""
    chart = AreaChart()
    chart.title = title
    chart.grouping = "stacked" if stacked else "standard"
    _size(chart, width, height)
    chart.y_axis.title = y_title
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 1
    chart.y_axis.majorUnit = 1
    chart.y_axis.delete = False
    chart.x_axis = DateAxis(crossAx=100)
    chart.x_axis.number_format = date_format
    chart.x_axis.majorTimeUnit = "years" if date_format == "yyyy" else "months"
    chart.x_axis.delete = False
    for i, col in enumerate(series_cols):
        chart.add_data(Reference(ws, min_col=col, min_row=header_row, max_row=last_row), titles_from_data=True)
        series = chart.series[-1]
        series.graphicalProperties.solidFill = _COLORS[i % len(_COLORS)]
        series.graphicalProperties.line.noFill = True
    chart.set_categories(Reference(ws, min_col=date_col, min_row=header_row + 1, max_row=last_row))
    ws.add_chart(chart, anchor)
    return chart



def print_charts(ws: Worksheet, anchor: str, *, columns: int = 18, rows: int = 42) -> None:
    """Make the charts' region the sheet's print area, landscape, fitted to one page."""
    from openpyxl.utils import column_index_from_string, get_column_letter
    from openpyxl.utils.cell import coordinate_from_string

    col_letter, row = coordinate_from_string(anchor)
    last_col = get_column_letter(column_index_from_string(col_letter) + columns - 1)
    ws.print_area = f"{col_letter}{row}:{last_col}{row + rows - 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
