"""Sliding windows over a series and its chronological train / validation / test split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.errors import SeriesTooShortError

MIN_TRAIN_WINDOWS = 8


def sliding_windows(values: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of every window, as read-only views (no copy, no Python loop).

    Args:
        values: 1-D series.
        window: Input length.
        horizon: Target length: the values right after each input.

    Returns:
        `(x, y)` with `x[i] = values[i : i + window]` and
        `y[i] = values[i + window : i + window + horizon]`.
    """
    values = np.asarray(values)
    if values.size < window + horizon:
        empty = np.empty((0, window)), np.empty((0, horizon))
        return empty
    frames = np.lib.stride_tricks.sliding_window_view(values, window + horizon)
    return frames[:, :window], frames[:, window:]


def windows_ending_at(values: np.ndarray, window: int, origins: np.ndarray) -> np.ndarray:
    """The input windows whose last value sits just before each origin: `values[o-window:o]`."""
    frames = np.lib.stride_tricks.sliding_window_view(np.asarray(values), window)
    return frames[np.asarray(origins) - window]


def row_windows(rows: np.ndarray, length: int, starts: np.ndarray) -> np.ndarray:
    """The `length` rows of a 2-D array from each start: shape (len(starts), length, columns),
    `out[i] = rows[starts[i] : starts[i] + length]` (a view, no copy)."""
    frames = np.lib.stride_tricks.sliding_window_view(np.asarray(rows), length, axis=0)
    return frames[np.asarray(starts)].transpose(0, 2, 1)


@dataclass(frozen=True)
class Split:
    """Chronological split of `n` points: train = [0, train_end), validation =
    [train_end, fit_end), test = [fit_end, n). Nothing is shuffled across the borders."""

    n: int
    train_end: int
    fit_end: int

    @property
    def n_test(self) -> int:
        return self.n - self.fit_end

    @property
    def n_val(self) -> int:
        return self.fit_end - self.train_end

    def origins(self, part: str, horizon: int) -> np.ndarray:
        """Forecast origins (index of the first predicted point) whose whole horizon lies in
        `part` ("val" or "test")."""
        start, end = {"val": (self.train_end, self.fit_end), "test": (self.fit_end, self.n)}[part]
        return np.arange(start, end - horizon + 1)


def _sizes(
    n: int, window: int, horizon: int, test_size: float, validation_fraction: float, target_len: int
) -> tuple[int, int, int]:
    """(train_end, fit_end, training windows) of a split of `n` points."""
    n_test = max(horizon, round(test_size * n))
    fit_end = n - n_test
    n_val = max(horizon, round(validation_fraction * fit_end))
    train_end = fit_end - n_val
    return train_end, fit_end, train_end - window - target_len + 1


def minimum_length(
    window: int, horizon: int, test_size: float, validation_fraction: float, target_len: int
) -> int:
    """Shortest series that leaves enough training windows plus validation and test parts."""
    n = window + target_len + MIN_TRAIN_WINDOWS + 2 * horizon - 1
    while (
        _sizes(n, window, horizon, test_size, validation_fraction, target_len)[2]
        < MIN_TRAIN_WINDOWS
    ):
        n += 1
    return n


def chronological_split(
    n: int, window: int, horizon: int, test_size: float, validation_fraction: float, target_len: int
) -> Split:
    """Split `n` points in time order; the test and validation parts each hold at least one
    whole horizon.

    Args:
        n: Series length.
        window: Input length of the network.
        horizon: Forecast horizon.
        test_size: Fraction of the series for the test part.
        validation_fraction: Fraction of the rest for the validation part.
        target_len: Targets per training window (horizon for direct, 1 for recursive).

    Raises:
        SeriesTooShortError: When the series is too short (names the minimum and the fix).
    """
    train_end, fit_end, train_windows = _sizes(
        n, window, horizon, test_size, validation_fraction, target_len
    )
    if train_windows < MIN_TRAIN_WINDOWS:
        need = minimum_length(window, horizon, test_size, validation_fraction, target_len)
        raise SeriesTooShortError(
            f"The series has {n} points, too short for window {window}, horizon {horizon} "
            f"and a test fraction of {test_size:g}: at least {need} points are needed. "
            f"Move the window length slider (--window) or the horizon (--horizon) down, "
            f"lower the test fraction (--test-size), or use a longer series."
        )
    return Split(n=n, train_end=train_end, fit_end=fit_end)
