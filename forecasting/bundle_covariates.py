"""A bundle's covariates: the stored roles and encoding checked against each other, the
stored last window of their values, the network's input shapes against the configuration,
and the covariates a loaded bundle reads at the end of newer data (`read_covariates`).

Split out of `forecasting.bundle`, which calls these before and after Keras reads a network.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.config import RunConfig
from forecasting.covariates import Roles, future_values, is_categorical
from forecasting.errors import BundleError, ConfigError, DataError
from forecasting.features import CYCLES, MAX_CATEGORIES, CovariateData, CovariateEncoder
from forecasting.records import stamp_texts
from forecasting.series import TimeSeries, _column_from_json


def _check_covariates(manifest, config: RunConfig) -> tuple[Roles, CovariateEncoder | None]:
    """The stored roles and covariate encoding of `manifest` (a `BundleManifest`), checked
    against each other and against the stored last window of the covariates.

    Raises:
        BundleError: Naming what does not hold.
    """
    try:
        roles = Roles() if manifest.roles is None else Roles.from_dict(manifest.roles)
    except ConfigError as exc:
        raise BundleError(f"Schema check failed: the stored roles are invalid ({exc}).") from None
    if manifest.covariates is None:
        if roles.any or manifest.last_covariates is not None:
            raise BundleError(
                "Schema check failed: the roles say the network reads covariates, but the "
                "bundle holds no covariate encoding."
            )
        return roles, None
    try:
        encoder = CovariateEncoder.from_dict(manifest.covariates)
    except (ConfigError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BundleError(
            f"Schema check failed: the covariate encoding is malformed ({exc})."
        ) from None
    numeric, categories = encoder.numeric, encoder.categories
    if (
        encoder.roles != roles
        or not roles.any
        or set(numeric) | set(categories) != set(roles.columns)
        or set(numeric) & set(categories)
        or any(cycle not in CYCLES for cycle in encoder.cycles)
        or bool(encoder.cycles) != roles.calendar
        or any(len(scale) != 2 or not np.all(np.isfinite(scale)) for scale in numeric.values())
        or any(scale[1] == 0 for scale in numeric.values())
        or any(not 1 <= len(seen) <= MAX_CATEGORIES for seen in categories.values())
        or config.model.strategy != "direct"
    ):
        raise BundleError(
            "Schema check failed: the covariate encoding does not match the stored roles."
        )
    return roles, encoder


def _last_covariates(stored, encoder: CovariateEncoder, window: int) -> pd.DataFrame:
    """The stored last window of the covariates as a table (rows: the last window)."""
    columns = list(encoder.roles.columns)
    if not isinstance(stored, dict) or set(stored) != set(columns):
        raise BundleError(
            "Schema check failed: the stored last window of the covariates does not hold "
            "the columns the network reads."
        )
    index = pd.RangeIndex(window)
    frame = pd.DataFrame(index=index)
    for column in columns:
        values = stored[column]
        text = column in encoder.categories
        kind = str if text else (int, float)
        if (
            not isinstance(values, list)
            or len(values) != window
            or not all(
                v is None or (isinstance(v, kind) and not isinstance(v, bool)) for v in values
            )
        ):
            raise BundleError(
                f"Schema check failed: the stored last window of {column!r} must be "
                f"{window} {'texts' if text else 'numbers'}."
            )
        cells = _column_from_json(column, values, index)
        frame[column] = cells.astype(object) if text else cells.astype("float64")
    return frame


def input_shapes(network) -> list[tuple]:
    """The network's input shapes, one per input."""
    shapes = network.input_shape
    if not isinstance(shapes, list):
        shapes = [shapes]
    return [tuple(shape) for shape in shapes]


def _expected_inputs(config: RunConfig, encoder: CovariateEncoder | None) -> list[tuple]:
    """The input shapes the stored configuration and covariate encoding make."""
    window = config.model.window
    if encoder is None:
        return [(None, window, 1)]
    past, known = encoder.n_past, encoder.n_known
    shapes = [(None, window, 1 + past + known)]
    if known:
        shapes.append((None, config.horizon, known))
    return shapes


def role_words(roles: Roles) -> str:
    """The covariates a network reads, in words ("past covariates a, b; future ...")."""
    said = []
    if roles.past:
        said.append(f"past covariates {', '.join(roles.past)}")
    if roles.future:
        said.append(f"future covariates {', '.join(roles.future)}")
    return "; ".join(said)


def read_covariates(
    encoder: CovariateEncoder,
    window: int,
    horizon: int,
    series: TimeSeries,
    future: pd.DataFrame | None,
) -> CovariateData:
    """The covariates a network with `encoder` reads at the end of `series` (their last
    `window` values) and over the horizon (future covariates from `future`).

    Raises:
        DataError: A column the network reads is missing (named, with the columns the data
            has), holds text where the network read numbers or the reverse, or lacks a value
            in the window read; future covariates without `future` or with gaps.
    """
    roles = encoder.roles
    has = [] if series.extra is None else [str(c) for c in series.extra.columns]
    missing = [c for c in roles.columns if c not in has]
    if missing:
        raise DataError(
            f"The data lacks the column(s) {', '.join(missing)}, which the model reads "
            f"({role_words(roles)}). The data has: {', '.join(has) or 'no other column'}. "
            "Upload data with these columns."
        )
    recent = series.extra[list(roles.columns)].iloc[-window:]
    for column in roles.columns:
        cells = recent[column]
        if column in encoder.numeric and is_categorical(cells):
            raise DataError(
                f"Column {column!r} holds text, but the model was trained on it as numbers. "
                "Upload data where it holds numbers."
            )
        if column in encoder.categories and not is_categorical(cells):
            raise DataError(
                f"Column {column!r} holds numbers, but the model was trained on it as "
                f"categories ({', '.join(encoder.categories[column])}). Upload data where "
                "it holds those categories."
            )
        gaps = recent.index[cells.isna().to_numpy()]
        if len(gaps):
            raise DataError(
                f"Column {column!r} has no value at {', '.join(stamp_texts(gaps[:3]))}: the "
                f"model reads the last {window} values of every covariate. Fill the gap."
            )
    ahead = future_values(series, roles, future, horizon)
    return CovariateData.of(series, roles, ahead)


__all__ = ["input_shapes", "read_covariates", "role_words"]
