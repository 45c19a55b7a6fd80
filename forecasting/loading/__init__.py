"""Read user files into a validated `TimeSeries`, repairing what can be repaired.

The pipeline runs one way: bytes -> text -> table of cells -> typed columns -> a chosen date
column and value column -> sorted, de-duplicated, regular series with gaps filled. Every
decision the parser takes is written in `Table.notes`; every change made to the data is a
`Repair` record (kind, count, affected timestamps, sentence) in `TimeSeries.repairs`. Anything
that cannot be read raises `DataError` with a message naming the problem and the fix.

Modules, in the order the data flows: `limits` (caps on untrusted input), `formats` (bytes,
encodings, .xlsx, Parquet), `layout` (separator, preamble, header, footer), `numbers` (decimal
marks, bad cells), `dates` (the date rule chain), `columns` (typed columns, column choice),
`categories` (text columns read as categories), `repair` (undated rows, sort, duplicates,
regular steps, resample, trim, fill), `summary`; `options` holds `LoadOptions` and `Table`,
`api` the entry points, `future` the future file of future covariates (`read_future`);
`layout_detect` tells one series from many (`detect_layout`), `panel` reads many (`load_panel`).

Typical use::

    series = load_series(Path("sales.csv"))
    table = read_table(uploaded_bytes, filename="sales.csv")   # pick columns in a UI
    series = series_from_table(table, LoadOptions(value_col="units"))
    future = read_future(Path("future.csv"))   # date + future covariates over the horizon
    panel = load_panel(Path("stores.csv"), id_cols=("store", "item"))   # many series
"""

from forecasting.frequency import describe_frequency, infer_frequency
from forecasting.loading.api import load_series, read_table, series_from_table, workbook_sheets
from forecasting.loading.dates import AmbiguousDatesError
from forecasting.loading.future import read_future
from forecasting.loading.layout import SEPARATORS
from forecasting.loading.layout_detect import Layout, detect_layout, layout_of
from forecasting.loading.limits import MAX_BYTES, MAX_COLUMNS, MAX_ROWS
from forecasting.loading.options import AGGREGATES, FILLS, RESAMPLE_HOWS, LoadOptions, Table
from forecasting.loading.panel import load_panel, panel_from_table
from forecasting.loading.summary import summarize

__all__ = [
    "AGGREGATES",
    "FILLS",
    "MAX_BYTES",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "RESAMPLE_HOWS",
    "SEPARATORS",
    "AmbiguousDatesError",
    "Layout",
    "LoadOptions",
    "Table",
    "describe_frequency",
    "detect_layout",
    "infer_frequency",
    "layout_of",
    "load_panel",
    "load_series",
    "panel_from_table",
    "read_future",
    "read_table",
    "series_from_table",
    "summarize",
    "workbook_sheets",
]
