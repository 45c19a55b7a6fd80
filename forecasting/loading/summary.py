"""A JSON-ready overview of a loaded series for the dashboard and the CLI report."""

from __future__ import annotations

from dateutil.relativedelta import relativedelta

from forecasting.frequency import describe_frequency
from forecasting.loading._shared import _s, _stamp_texts
from forecasting.series import TimeSeries

# The figures the summary reports, and the repair kinds whose counts add up to each.
COUNTED_KINDS = {
    "missing_filled": ("timestamps_filled", "values_filled"),
    "duplicates_merged": ("duplicates_merged",),
    "non_numeric": ("bad_cells",),
}


def summarize(series: TimeSeries) -> dict:
    """A JSON-ready overview of a loaded series for the dashboard and the CLI report.

    Returns:
        Keys: name, rows, start, end, span (plain words), frequency (plain words), freq
        (alias or None), season_length, missing_filled, duplicates_merged, non_numeric,
        repairs (list of sentences), columns (the other columns, numeric and categorical)
        and column_types ({column: "numeric" or "categorical"}).
    """
    counts = {
        figure: sum(repair.count for repair in series.repairs if repair.kind in kinds)
        for figure, kinds in COUNTED_KINDS.items()
    }
    ends = series.index[[0, -1]]
    start, end = _stamp_texts(ends) if series.has_dates else (int(ends[0]), int(ends[-1]))
    return {
        "name": series.name,
        "rows": len(series),
        "start": start,
        "end": end,
        "span": _span(series),
        "frequency": describe_frequency(series.freq),
        "freq": series.freq,
        "season_length": series.season_length,
        **counts,
        "repairs": [repair.sentence for repair in series.repairs],
        "columns": [] if series.extra is None else [str(c) for c in series.extra.columns],
        "column_types": series.column_types,
    }


def _span(series: TimeSeries) -> str:
    """The time the series covers, one step past its last point: '12 years', '1000 steps'."""
    if not series.has_dates:
        return f"{len(series)} step{_s(len(series))}"
    start = series.index[0]
    end = series.future_index(1)[0] if series.freq else series.index[-1]
    delta = relativedelta(end.to_pydatetime(), start.to_pydatetime())
    units = [
        (delta.years, "year"),
        (delta.months, "month"),
        (delta.days, "day"),
        (delta.hours, "hour"),
        (delta.minutes, "minute"),
        (delta.seconds, "second"),
    ]
    parts = [f"{n} {unit}{_s(n)}" for n, unit in units if n][:2]
    if not parts and delta.microseconds:
        return f"{delta.microseconds / 1000:g} ms"
    return " ".join(parts) or "0 days"
