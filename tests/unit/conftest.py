"""Shared fixtures of the unit tests: tiny seeded series and one small trained run.

Every network here is tiny (a few units, a few epochs) so the whole unit suite stays fast on
a CPU; the point is the behaviour of the code around the network, not its accuracy.
"""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.baselines import QUICK_BASELINES
from forecasting.config import RunConfig
from forecasting.series import TimeSeries

# The settings of every quick training in the unit tests. The network alone (no mean with
# Theta and ETS, which refit per origin): tests/unit/test_combination.py covers combinations.
TINY = {
    "units": 4,
    "epochs": 3,
    "batch_size": 32,
    "window": 12,
    "patience": 0,
    "ensemble": 1,
    "combine": "none",
}


def seasonal_values(
    n: int = 150,
    period: int = 12,
    seed: int = 0,
    level: float = 100.0,
    trend: float = 0.2,
    amplitude: float = 10.0,
    noise: float = 1.0,
) -> np.ndarray:
    """A positive series with a trend, a seasonal cycle and gaussian noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return level + trend * t + amplitude * np.sin(2 * np.pi * t / period) + rng.normal(0, noise, n)


def flat_then_climbing(flat: int = 700, climb: int = 100, seed: int = 0) -> np.ndarray:
    """Weekly-like: about 200 wandering for `flat` points, then a steady climb of about 150 a
    step (M4 W211's shape)."""
    rng = np.random.default_rng(seed)
    still = 200 + np.cumsum(rng.normal(0.3, 3, flat)).clip(-150)
    return np.r_[still, still[-1] + np.cumsum(rng.normal(150, 20, climb))]


@pytest.fixture(scope="session")
def make_climb():
    """Factory of a flat stretch then a steady climb: `make_climb(flat=700, climb=100)`."""
    return flat_then_climbing


@pytest.fixture(scope="session")
def make_values():
    """Factory of seeded seasonal values: `make_values(n=150, period=12, seed=0, ...)`."""
    return seasonal_values


@pytest.fixture(scope="session")
def monthly_series() -> TimeSeries:
    """150 months from 2000-01 with a yearly cycle."""
    return TimeSeries.from_values(seasonal_values(150), freq="MS")


@pytest.fixture(scope="session")
def tiny_config() -> RunConfig:
    """A run configuration that trains in a second or two."""
    return RunConfig(horizon=6).with_settings(cell="gru", strategy="direct", **TINY)


@pytest.fixture(scope="session")
def monthly_run(monthly_series, tiny_config):
    """One trained run shared by the pipeline and bundle tests (do not mutate it)."""
    from forecasting import pipeline

    return pipeline.train(monthly_series, tiny_config, baselines=QUICK_BASELINES)
