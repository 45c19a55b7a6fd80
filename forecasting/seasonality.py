"""Finding and measuring a seasonal pattern."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np


def autocorrelation(values: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation at lags 0 ... `max_lag` (via FFT, fast on long series)."""
    values = np.asarray(values, dtype=float)
    centered = values - values.mean()
    n = centered.size
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centered, size)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1]
    return acov / acov[0] if acov[0] > 0 else np.zeros(max_lag + 1)


def seasonality_test(values: np.ndarray, period: int, z: float = 1.645) -> bool:
    """The M4 competition's 90% autocorrelation test for a seasonal pattern at `period`
    (`z` is the critical value; a larger one makes the test stricter)."""
    values = np.asarray(values, dtype=float)
    if period < 2 or values.size < 3 * period:
        return False
    acf = autocorrelation(values, period)
    if acf[0] == 0:
        return False
    limit = z * np.sqrt((1 + 2 * np.sum(acf[1:period] ** 2)) / values.size)
    return bool(abs(acf[period]) > limit)


def seasonal_indices(values: np.ndarray, period: int, multiplicative: bool) -> np.ndarray:
    """Classical decomposition: average detrended value at each phase `position % period`.

    Returns:
        `period` indices (mean 1 when multiplicative, mean 0 when additive).
    """
    values = np.asarray(values, dtype=float)
    kernel = np.ones(period) / period
    if period % 2 == 0:  # 2 x m moving average keeps the trend centred
        kernel = np.convolve(kernel, [0.5, 0.5])
    trend = np.convolve(values, kernel, mode="valid")
    offset = (kernel.size - 1) // 2
    part = values[offset : offset + trend.size]
    detrended = part / trend if multiplicative else part - trend
    phases = np.arange(offset, offset + trend.size) % period
    indices = np.array([detrended[phases == p].mean() for p in range(period)])
    return indices / indices.mean() if multiplicative else indices - indices.mean()


def detect_period(values: np.ndarray, max_period: int = 400) -> int:
    """Seasonal period from the autocorrelation: the lag of its highest local peak that
    passes `seasonality_test`, or 1 when there is none.

    Searching many lags makes some peak pass a test at a fixed level by chance (white noise
    of 300 points "had" a season almost always), so the critical value is Bonferroni-corrected
    for the number of peaks searched.
    """
    values = np.asarray(values, dtype=float)
    max_lag = min(max_period, values.size // 3)
    if max_lag < 4:
        return 1
    acf = autocorrelation(values, max_lag)
    peaks = [
        k for k in range(2, max_lag) if acf[k] > acf[k - 1] and acf[k] >= acf[k + 1] and acf[k] > 0
    ]
    peaks.sort(key=lambda k: acf[k], reverse=True)
    z = NormalDist().inv_cdf(1 - 0.05 / max(1, len(peaks)))
    for lag in peaks[:3]:
        if seasonality_test(values, lag, z):
            return lag
    return 1
