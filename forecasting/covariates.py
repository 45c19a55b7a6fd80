"""The roles of a file's other columns, and the checks that keep covariates from leaking.

A role says when a column's values are known (see `ROLE_HELP`): a **past covariate** only up to
the forecast origin, a **future covariate** over the whole horizon (its values there must be
supplied), a **static** column is constant. **Calendar** features are generated from the
timestamps and so are known ahead by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import ConfigError, DataError
from forecasting.records import JsonRecord, stamp_texts
from forecasting.series import TimeSeries

ROLES = ("target", "past", "future", "static", "ignore")
ROLE_LABELS = {
    "target": "target",
    "past": "past covariate",
    "future": "future covariate",
    "static": "static",
    "ignore": "ignore",
}
ROLE_HELP = {
    "target": "The column to forecast.",
    "past": "Known up to now: only its values before the forecast origin are read.",
    "future": "Known ahead (holidays, planned prices, a weather forecast): its values over "
    "the whole horizon must be supplied in a future file.",
    "static": "Constant for the series (store type, region): it carries information only "
    "when a file holds many series, so with one series it is recorded and not fed.",
    "ignore": "Not used.",
}
CALENDAR_HELP = (
    "Hour of day, day of week, day of year or month as sine-cosine pairs, computed from the "
    "timestamps: known ahead by construction."
)
LEAK_CORRELATION = 0.99
MAX_LEAK_LAG = 48  # steps ahead searched for a copy of the target


@dataclass(frozen=True)
class Roles(JsonRecord):
    """Which columns feed the network, and how.

    Attributes:
        past: Past covariates, in the order they are fed.
        future: Future covariates (their values over the horizon are needed to forecast).
        static: Static columns (recorded; constant for one series).
        calendar: Add calendar features generated from the timestamps.
    """

    past: tuple[str, ...] = ()
    future: tuple[str, ...] = ()
    static: tuple[str, ...] = ()
    calendar: bool = False

    def __post_init__(self) -> None:
        for name in ("past", "future", "static"):
            object.__setattr__(self, name, tuple(str(c) for c in getattr(self, name)))
        seen: dict[str, str] = {}
        for role in ("past", "future", "static"):
            for column in getattr(self, role):
                if column in seen:
                    raise ConfigError(
                        f"Column {column!r} has two roles ({ROLE_LABELS[seen[column]]} and "
                        f"{ROLE_LABELS[role]}). Give each column one role."
                    )
                seen[column] = role

    @property
    def any(self) -> bool:
        """True when the network reads anything besides the target."""
        return bool(self.past or self.future or self.calendar)

    @property
    def columns(self) -> tuple[str, ...]:
        """The file's columns the network reads: past, then future covariates."""
        return self.past + self.future

    def role_of(self, column: str) -> str:
        """The role of a column other than the target ("ignore" when it has none)."""
        for role in ("past", "future", "static"):
            if column in getattr(self, role):
                return role
        return "ignore"

    def sentences(self) -> tuple[str, ...]:
        """What the network reads, in plain words (for the plan)."""
        if not self.any and not self.static:
            return ()
        said = []
        if self.past:
            said.append(f"past covariates (values up to the origin): {', '.join(self.past)}")
        if self.future:
            said.append(f"future covariates (values over the horizon): {', '.join(self.future)}")
        if self.calendar:
            said.append("calendar features (known ahead)")
        text = ["Inputs: the target, " + "; ".join(said) + "." if said else ""]
        if self.static:
            text.append(
                f"Static column(s) {', '.join(self.static)} are constant for one series and "
                "are recorded, not fed."
            )
        return tuple(t for t in text if t)


def default_roles(series: TimeSeries) -> Roles:
    """Every other numeric column as a past covariate; none known ahead; no calendar."""
    if series.extra is None:
        return Roles()
    numeric = [str(c) for c, col in series.extra.items() if pd.api.types.is_numeric_dtype(col)]
    return Roles(past=tuple(numeric))


def is_categorical(column: pd.Series) -> bool:
    """Text columns are categories; numeric columns are numbers."""
    return not pd.api.types.is_numeric_dtype(column)


def check_roles(series: TimeSeries, roles: Roles, upto: int | None = None) -> None:
    """Refuse roles this series cannot honour.

    Checks: every named column exists; calendar features need dates; a static column is
    constant; no past or future covariate is the target moved forward (`leak_check`).

    Args:
        series: The series with its other columns in `extra`.
        roles: The roles chosen.
        upto: Only rows before this one are read by the leak check (default: all).

    Raises:
        DataError: Naming the column and the fix.
    """
    available = [] if series.extra is None else [str(c) for c in series.extra.columns]
    for column in (*roles.columns, *roles.static):
        if column == series.name:
            raise DataError(
                f"{column!r} is the target; it cannot also be a covariate. Give it another role."
            )
        if column not in available:
            raise DataError(
                f"Unknown column {column!r}. The columns besides the target "
                f"{series.name!r} are: {', '.join(available) or 'none'}."
            )
    if roles.calendar and not series.has_dates:
        raise DataError(
            "Calendar features need dates, and this series has integer steps. Choose a date "
            "column, or turn calendar features off."
        )
    for column in roles.static:
        if series.extra[column].nunique(dropna=False) > 1:
            raise DataError(
                f"Static column {column!r} changes over time; a static column is constant "
                "for a series. Make it a past or future covariate instead."
            )
    leak_check(series, roles, upto)


def leak_check(series: TimeSeries, roles: Roles, upto: int | None = None) -> None:
    """Refuse a covariate that is the target moved forward: an exact copy of the target at
    any shift from 0 to `MAX_LEAK_LAG` steps ahead, or a correlation above
    `LEAK_CORRELATION` with the target one or more steps ahead that beats the same-step
    correlation. Past and future covariates alike: a future covariate that copies the target
    would hand over the answer with its values over the horizon.

    Raises:
        DataError: Naming the column, the shift and the fix.
    """
    target = np.asarray(series.values[:upto], dtype=float)
    for column in roles.columns:
        values = series.extra[column].iloc[:upto]
        if is_categorical(values):
            continue
        values = values.to_numpy(dtype=float)
        lag = _leading_lag(values, target)
        if lag is not None:
            role = ROLE_LABELS[roles.role_of(column)]
            moved = "the target itself" if lag == 0 else f"the target {lag} step(s) ahead"
            raise DataError(
                f"Leak: {role} {column!r} is {moved}, so it would hand the network the values "
                f"it is asked to forecast. Set {column!r} to ignore (or, if it truly is known "
                "ahead, check that it is not the target copied)."
            )


def _leading_lag(values: np.ndarray, target: np.ndarray) -> int | None:
    """The first shift k >= 0 at which `values[t]` copies `target[t + k]` (exactly, or
    with a correlation above the threshold that beats the same-step correlation)."""
    same = _correlation(values, target)
    for lag in range(0, min(MAX_LEAK_LAG, len(target) // 4) + 1):
        ahead, now = target[lag:], values[: len(target) - lag]
        if np.array_equal(now, ahead):
            return lag
        if lag >= 1:
            corr = _correlation(now, ahead)
            if corr > LEAK_CORRELATION and corr > same + 1e-9:
                return lag
    return None


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or np.std(a) == 0 or np.std(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def future_values(
    series: TimeSeries, roles: Roles, future: pd.DataFrame | None, horizon: int
) -> pd.DataFrame:
    """The future covariates' values over the `horizon` timestamps after the series' end,
    checked: every timestamp present with a value in every future column.

    Args:
        series: The history.
        roles: Its roles (only `roles.future` is read).
        future: The future file's table, indexed by timestamp (extra rows and columns are
            ignored); None when no file was given.
        horizon: Steps to forecast.

    Returns:
        One row per horizon timestamp, one column per future covariate.

    Raises:
        DataError: No file, a missing column, or timestamps without values (the first few
            named, with the column).
    """
    stamps = series.future_index(horizon)
    if not roles.future:
        return pd.DataFrame(index=stamps)
    shown = ", ".join(stamp_texts(stamps[:3])) + (" ..." if horizon > 3 else "")
    if future is None:
        raise DataError(
            f"Future covariate(s) {', '.join(roles.future)} need their values over the "
            f"{horizon} timestamps to forecast ({shown}). Upload a future file (--future): a "
            "date column plus these columns."
        )
    missing = [c for c in roles.future if c not in future.columns]
    if missing:
        raise DataError(
            f"The future file lacks the column(s) {', '.join(missing)}. It has: "
            f"{', '.join(map(str, future.columns)) or 'none'}."
        )
    table = future.reindex(stamps)[list(roles.future)]
    for column in roles.future:
        gaps = stamps[table[column].isna().to_numpy()]
        if len(gaps):
            named = ", ".join(stamp_texts(gaps[:3]))
            more = f" and {len(gaps) - 3} more" if len(gaps) > 3 else ""
            raise DataError(
                f"The future file has no value of {column!r} for {named}{more}: a future "
                f"covariate needs a value at every one of the {horizon} timestamps after "
                f"the data ends ({shown})."
            )
        if not is_categorical(table[column]):
            finite = np.isfinite(table[column].to_numpy(dtype=float))
            if not finite.all():
                bad = ", ".join(stamp_texts(stamps[~finite][:3]))
                raise DataError(f"The future file holds a non-finite {column!r} at {bad}.")
    return table
