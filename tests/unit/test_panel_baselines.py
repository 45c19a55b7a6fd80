"""The many-series baselines (`forecasting.panel_baselines`): the naive family is exactly the
single-series one, a model that cannot fit gives NaN (not an exception), and the too-short
fallback's forecast and band continue each series."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from forecasting import baselines
from forecasting.panel_baselines import baseline_forecasts, fallback_forecasts
from forecasting.series import TimeSeries


def _seasonal(n: int, seed: int, level: float = 100.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    return level * (1 + 0.2 * np.sin(2 * np.pi * steps / 12) + 0.001 * steps) + rng.normal(
        0, 0.5, n
    )


def test_the_naive_family_is_the_single_series_one_exactly() -> None:
    rng = np.random.default_rng(0)
    histories = [_seasonal(60 + 7 * k, k) for k in range(4)] + [rng.normal(0, 1, 30), [5.0]]
    done = baseline_forecasts(histories, 6, 12, ("naive", "seasonal_naive", "naive2"), 2)
    assert len(done) == len(histories)
    for history, forecasts in zip(histories, done, strict=True):
        for name in ("naive", "seasonal_naive", "naive2"):
            expected = baselines.ALL_BASELINES[name](np.asarray(history, float), 6, 12)
            np.testing.assert_array_equal(forecasts[name], expected)


def test_a_model_that_cannot_fit_gives_nan_not_an_exception() -> None:
    done = baseline_forecasts([np.array([5.0]), np.arange(1.0, 30.0)], 4, 1, ("ets",))
    assert np.all(np.isnan(done[0]["ets"])) and np.all(np.isfinite(done[1]["ets"]))


def test_the_fallback_continues_each_series_with_a_band_and_says_so() -> None:
    short = TimeSeries.from_values(_seasonal(30, 1), "MS", start="2020-01-01", name="sales")
    tiny = TimeSeries.from_values(np.array([3.0, 4.0, 5.0]), "MS", start="2020-01-01")
    (frame, note), (tiny_frame, tiny_note) = fallback_forecasts([short, tiny], 6, 0.9, 12)
    assert list(frame.columns) == ["date", "forecast", "lower", "upper"]
    assert list(frame["date"]) == list(short.future_index(6))
    assert np.all(frame["lower"] <= frame["forecast"]) and np.all(
        frame["forecast"] <= frame["upper"]
    )
    np.testing.assert_allclose(frame["forecast"], baselines.theta(short.values, 6, 12))
    assert "Theta method's forecast" in note and "30 points" in note and "rough" not in note
    # 3 points: Theta's forecast, a rough band from the step changes, said so
    np.testing.assert_allclose(tiny_frame["forecast"], baselines.theta(tiny.values, 6, 12))
    assert "rough" in tiny_note


def test_importing_the_many_series_modules_loads_no_statsforecast_numba_or_ray() -> None:
    code = (
        "import sys\n"
        "import forecasting.fanout, forecasting.panel_baselines, forecasting.panel_pipeline\n"
        "import forecasting.panel_bundle, forecasting.cli_panel\n"
        "print(sorted(m for m in ('statsforecast', 'numba', 'ray') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
