"""Sliding windows and chronological splits, checked against plain Python loops."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.errors import DataError
from forecasting.windows import (
    MIN_TRAIN_WINDOWS,
    Split,
    chronological_split,
    minimum_length,
    sliding_windows,
    windows_ending_at,
)


def loop_windows(values, window, horizon):
    """Reference: every input window and the `horizon` values right after it."""
    xs, ys = [], []
    for i in range(len(values) - window - horizon + 1):
        xs.append(list(values[i : i + window]))
        ys.append(list(values[i + window : i + window + horizon]))
    return xs, ys


@pytest.mark.parametrize(
    ("window", "horizon"), [(2, 1), (3, 2), (5, 5), (12, 6), (24, 12), (1, 1), (7, 1)]
)
def test_sliding_windows_match_a_plain_loop(window, horizon):
    values = np.random.default_rng(window * 31 + horizon).normal(size=60)
    x, y = sliding_windows(values, window, horizon)
    xs, ys = loop_windows(values, window, horizon)
    assert x.shape == (len(xs), window)
    assert y.shape == (len(ys), horizon)
    np.testing.assert_array_equal(x, np.array(xs))
    np.testing.assert_array_equal(y, np.array(ys))
    # Targets are exactly the next values after each window.
    for i in range(len(x)):
        assert y[i, 0] == values[i + window]


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=50),
    window=st.integers(1, 12),
    horizon=st.integers(1, 8),
)
def test_sliding_windows_property(values, window, horizon):
    values = np.array(values, dtype=float)
    x, y = sliding_windows(values, window, horizon)
    xs, ys = loop_windows(values, window, horizon)
    assert x.shape == (len(xs), window)
    assert y.shape == (len(ys), horizon)
    if xs:
        np.testing.assert_array_equal(x, np.array(xs))
        np.testing.assert_array_equal(y, np.array(ys))


def test_sliding_windows_are_read_only_views():
    values = np.arange(40, dtype=float)
    x, y = sliding_windows(values, 8, 3)
    assert np.shares_memory(x, values)
    assert np.shares_memory(y, values)
    assert not x.flags.writeable and not y.flags.writeable
    with pytest.raises(ValueError):
        x[0, 0] = 1.0


def test_sliding_windows_of_a_too_short_series_are_empty():
    x, y = sliding_windows(np.arange(5.0), 4, 2)
    assert x.shape == (0, 4) and y.shape == (0, 2)


def test_windows_ending_at_match_a_loop():
    values = np.arange(30, dtype=float) ** 1.5
    origins = np.array([5, 6, 17, 29, 30])  # 30 = forecast beyond the end
    got = windows_ending_at(values, 5, origins)
    expected = np.array([values[o - 5 : o] for o in origins])
    np.testing.assert_array_equal(got, expected)
    # The window ends right before the origin: the value at the origin is never included.
    assert np.all(got[:, -1] == values[origins - 1])


# ------------------------------------------------------------------ splits
SPLIT_CASES = [
    (150, 12, 6, 0.2, 0.15, 6),
    (150, 12, 6, 0.2, 0.15, 1),
    (300, 24, 12, 0.1, 0.2, 12),
    (60, 4, 3, 0.3, 0.3, 1),
    (1000, 104, 24, 0.05, 0.1, 24),
]


def _check_split(split: Split, n, window, horizon, target_len):
    assert split.n == n
    assert 0 < split.train_end < split.fit_end < n
    assert split.n_test == n - split.fit_end >= horizon
    assert split.n_val == split.fit_end - split.train_end >= horizon
    assert split.train_end - window - target_len + 1 >= MIN_TRAIN_WINDOWS


@pytest.mark.parametrize(("n", "window", "horizon", "test_size", "val", "target_len"), SPLIT_CASES)
def test_chronological_split_order_and_sizes(n, window, horizon, test_size, val, target_len):
    split = chronological_split(n, window, horizon, test_size, val, target_len)
    _check_split(split, n, window, horizon, target_len)
    assert split.n_test == max(horizon, round(test_size * n))


def test_chronological_split_sizes_by_hand():
    split = chronological_split(100, 6, 5, 0.2, 0.25, 5)
    assert (split.train_end, split.fit_end, split.n) == (60, 80, 100)
    # A long horizon claims at least a whole horizon for test and validation.
    split = chronological_split(100, 6, 30, 0.1, 0.1, 1)
    assert split.n_test == 30 and split.n_val == 30


@pytest.mark.parametrize("part", ["val", "test"])
@pytest.mark.parametrize("horizon", [1, 4, 12])
def test_split_origins_never_reach_beyond_the_part(part, horizon):
    split = chronological_split(200, 12, horizon, 0.2, 0.15, horizon)
    start, end = {"val": (split.train_end, split.fit_end), "test": (split.fit_end, split.n)}[part]
    origins = split.origins(part, horizon)
    assert origins.size > 0
    assert origins.min() == start
    assert np.all(origins + horizon <= end)
    # Every origin whose horizon fits is used: the last one ends exactly at the border.
    assert origins.max() + horizon == end
    np.testing.assert_array_equal(origins, np.arange(start, end - horizon + 1))


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(5, 600),
    window=st.integers(2, 40),
    horizon=st.integers(1, 24),
    test_size=st.floats(0.05, 0.6),
    val=st.floats(0.05, 0.45),
    direct=st.booleans(),
)
def test_chronological_split_property(n, window, horizon, test_size, val, direct):
    target_len = horizon if direct else 1
    need = minimum_length(window, horizon, test_size, val, target_len)
    if n < need:
        with pytest.raises(DataError):
            chronological_split(n, window, horizon, test_size, val, target_len)
    else:
        split = chronological_split(n, window, horizon, test_size, val, target_len)
        _check_split(split, n, window, horizon, target_len)


@pytest.mark.parametrize(
    ("window", "horizon", "test_size", "val", "target_len"),
    [
        (24, 12, 0.2, 0.15, 12),
        (24, 12, 0.2, 0.15, 1),
        (2, 1, 0.2, 0.15, 1),
        (52, 13, 0.3, 0.4, 13),
        (7, 14, 0.05, 0.05, 1),
    ],
)
def test_minimum_length_is_the_minimum(window, horizon, test_size, val, target_len):
    need = minimum_length(window, horizon, test_size, val, target_len)
    split = chronological_split(need, window, horizon, test_size, val, target_len)
    _check_split(split, need, window, horizon, target_len)
    with pytest.raises(DataError):
        chronological_split(need - 1, window, horizon, test_size, val, target_len)
    for longer in range(need, need + 30):  # and every longer series works too
        chronological_split(longer, window, horizon, test_size, val, target_len)


def test_too_short_series_message_names_the_minimum_and_what_to_lower():
    need = minimum_length(24, 12, 0.2, 0.15, 12)
    with pytest.raises(DataError) as info:
        chronological_split(50, 24, 12, 0.2, 0.15, 12)
    message = str(info.value)
    assert "50 points" in message
    assert re.search(rf"at least {need} points", message)
    assert "window 24" in message and "horizon 12" in message
    assert "--window" in message and "--horizon" in message
    assert "\n" not in message
