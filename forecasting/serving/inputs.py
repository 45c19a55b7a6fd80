"""A forecast request turned into what `Bundle.forecast` reads: the history as a
`TimeSeries` at the model's frequency and the future covariates as a table.

The request's shape is checked here and every refusal names the field at fault
(`history[3].date`, `future[0].holiday`); what the bundle itself checks (the window, unseen
categories, the future timestamps) stays in `forecasting.bundle`. A history is read as
sent: sorted, one row per timestamp of the model's frequency, no gap (nothing is filled in).
"""

from __future__ import annotations

import re

import pandas as pd

from forecasting.bundle import Bundle
from forecasting.combination import SHORT_NAMES
from forecasting.errors import DataError
from forecasting.frequency import describe_frequency, infer_frequency
from forecasting.records import stamp_texts
from forecasting.series import TimeSeries
from forecasting.serving.schemas import FutureRow, HistoryRow

_ISO = re.compile(
    r"\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?)?(Z|[+-]\d{2}:?\d{2})?"
)


class FieldError(DataError):
    """A request refused for one field; `field` names it as a path (`history[3].date`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def history_series(bundle: Bundle, rows: list[HistoryRow]) -> TimeSeries:
    """The history as a series of the model's frequency, with the covariates it reads.

    Raises:
        FieldError: Fewer rows than the window (or than a combination's simple methods
            need, `Bundle.min_history`), dates that do not parse, are out of order
            or off the model's frequency (a gap is named), a covariate missing or of the
            wrong kind in the rows the model reads.
    """
    window, freq = bundle.config.model.window, bundle.series["freq"]
    if len(rows) < window:
        raise FieldError(
            "history",
            f"{len(rows)} rows, but the model needs at least its window of {window} rows. "
            "Send a longer history.",
        )
    if len(rows) < bundle.min_history:  # a combination's simple methods read the history
        raise FieldError(
            "history",
            f"{len(rows)} rows, but this model averages its network with "
            f"{' and '.join(SHORT_NAMES[m] for m in bundle.combination)}, fitted on the "
            f"history: it needs at least {bundle.min_history} rows. Send a longer history.",
        )
    index = _dates([row.date for row in rows], freq, "history")
    _check_regular(index, freq)
    values = [row.value for row in rows]
    extra = None
    if bundle.encoder is not None:  # the bundle reads the last window only
        start = len(rows) - window
        rows, index, values = rows[start:], index[start:], values[start:]
        extra = _covariates(bundle, rows, bundle.encoder.roles.columns, "history", start)
        extra = extra.set_axis(index)
    return TimeSeries(values, index, freq, str(bundle.series.get("name", "value")), (), extra)


def future_table(
    bundle: Bundle, rows: list[FutureRow] | None, history: TimeSeries
) -> pd.DataFrame | None:
    """The future covariates' values indexed by timestamp, or None when the model reads none.

    Raises:
        FieldError: `future` sent to a model without future covariates, or missing for one
            with them; a date that does not parse or repeats; a timestamp of the horizon
            after `history` without a row; a covariate missing or of the wrong kind.
    """
    wanted = () if bundle.encoder is None else bundle.encoder.roles.future
    if not wanted:
        if rows:
            raise FieldError(
                "future", "this model reads no future covariates. Drop `future` from the request."
            )
        return None
    if not rows:
        raise FieldError(
            "future",
            f"the model reads the future covariate(s) {', '.join(wanted)}: send their values "
            f"at each of the {bundle.config.horizon} timestamps after the history ends, as "
            f'rows {{"date": ..., {", ".join(f"{c!r}: ..." for c in wanted)}}}.',
        )
    index = _dates([row.date for row in rows], bundle.series["freq"], "future")
    repeated = index.duplicated()
    if repeated.any():
        i = int(repeated.argmax())
        raise FieldError(f"future[{i}].date", "this timestamp has an earlier row. Send one each.")
    stamps = history.future_index(bundle.config.horizon)
    missing = stamps[~stamps.isin(index)]
    if len(missing):
        raise FieldError(
            "future",
            f"no row for {', '.join(stamp_texts(missing[:3]))}"
            f"{f' and {len(missing) - 3} more' if len(missing) > 3 else ''}: the model reads "
            f"the future covariates at each of the {len(stamps)} timestamps after the history "
            f"ends ({_text(stamps[0])} to {_text(stamps[-1])}).",
        )
    table = _covariates(bundle, rows, wanted, "future", 0)
    return table.set_axis(index).sort_index()


def _dates(stamps: list, freq: str | None, where: str) -> pd.Index:
    """Dates parsed from ISO text (whole numbers for a model without dates)."""
    if freq is None:
        for i, stamp in enumerate(stamps):
            if not isinstance(stamp, int):
                raise FieldError(
                    f"{where}[{i}].date",
                    f"{stamp!r} is not a whole number: the model was trained on integer "
                    "steps (no dates).",
                )
        return pd.Index(stamps, dtype="int64", name="step")
    parsed = []
    for i, stamp in enumerate(stamps):
        try:
            if not isinstance(stamp, str) or not _ISO.fullmatch(stamp):
                raise ValueError
            parsed.append(pd.Timestamp(stamp))
        except ValueError:
            raise FieldError(
                f"{where}[{i}].date",
                f"{stamp!r} is not an ISO date or timestamp (such as 2024-01-31 or "
                "2024-01-31T13:00:00).",
            ) from None
        if parsed[-1].tzinfo is not None:
            raise FieldError(
                f"{where}[{i}].date",
                f"{stamp!r} has a time zone: send times as the model's data had them, "
                "without a zone.",
            )
    return pd.DatetimeIndex(parsed, name="date").as_unit("ns")


def _check_regular(index: pd.Index, freq: str | None) -> None:
    """Sorted, one row per timestamp of `freq`, no gap: else the first fault, named."""
    for i in range(1, len(index)):
        if index[i] <= index[i - 1]:
            raise FieldError(
                f"history[{i}].date",
                f"{_text(index[i])} is not after the row before it ({_text(index[i - 1])}). "
                "Send the history oldest first, one row per timestamp.",
            )
    if freq is None:
        expected = pd.RangeIndex(index[0], index[0] + len(index))
    else:
        expected = pd.date_range(index[0], periods=len(index), freq=freq)
    if len(expected) == len(index) and (expected == index).all():
        return
    words = describe_frequency(freq)
    if freq is not None and expected[0] != index[0]:
        raise FieldError(
            "history[0].date",
            f"{_text(index[0])} is not a timestamp of the model's frequency, {words} ({freq}): "
            f"the next one is {_text(expected[0])}. Send {words} dates.",
        )
    found = infer_frequency(index) if freq is not None else None
    if freq is not None and found != freq:
        said = describe_frequency(found) if found else "irregular"
        raise FieldError(
            "history.date",
            f"the dates are {said}, but the model forecasts {words} data ({freq}). Send "
            f"{words} dates.",
        )
    i = int((expected != index).argmax())
    raise FieldError(
        f"history[{i}].date",
        f"the history has no row for {_text(expected[i])} (between {_text(index[i - 1])} and "
        f"{_text(index[i])}): send every timestamp of the model's frequency, {words}, "
        "without gaps; fill missing values before sending.",
    )


def _covariates(
    bundle: Bundle, rows: list, columns: tuple[str, ...], where: str, offset: int
) -> pd.DataFrame:
    """The covariates the model reads, one column each: numbers (float64) or categories
    (text, object dtype) as the model was trained on them."""
    encoder, roles = bundle.encoder, bundle.encoder.roles
    data = {}
    for column in columns:
        text = column in encoder.categories
        cells = []
        for i, row in enumerate(rows, start=offset):
            covariates = row.covariates
            field = f"{where}[{i}].{column}"
            if column not in covariates:
                raise FieldError(
                    field,
                    f"missing: the model reads the {roles.role_of(column)} covariate "
                    f"{column!r}"
                    + (
                        f" in the last {bundle.config.model.window} history rows."
                        if where == "history"
                        else " at every timestamp of the horizon."
                    ),
                )
            value = covariates[column]
            if text != isinstance(value, str):
                kind = "categories (texts)" if text else "numbers"
                raise FieldError(
                    field, f"{value!r}: the model was trained on {column!r} as {kind}."
                )
            cells.append(value)
        data[column] = pd.Series(cells, dtype=object if text else "float64")
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))


def _text(stamp) -> str:
    return stamp_texts(pd.Index([stamp]))[0]
