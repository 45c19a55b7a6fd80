"""M4 interval scores: MSIS against a hand-computed example, pooled coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecasting.scoring import msis, pooled_coverage


def test_msis_matches_a_hand_computed_example() -> None:
    # inside (width 4); 2 below the band (width 4 + 40 * 2); 2 above (width 3 + 40 * 2)
    # mean (4 + 84 + 83) / 3 = 57, divided by the scale 2
    actual, lower, upper = [10, 20, 30], [8, 22, 25], [12, 26, 28]
    assert msis(actual, lower, upper, scale=2.0) == pytest.approx(28.5)
    # a wider alpha penalises misses less: 2 / 0.2 = 10 per unit missed
    assert msis(actual, lower, upper, scale=2.0, alpha=0.2) == pytest.approx((4 + 24 + 23) / 3 / 2)


def test_msis_is_only_the_width_when_every_value_is_inside() -> None:
    actual = np.array([1.0, 2.0, 3.0])
    assert msis(actual, actual - 1, actual + 2, scale=3.0) == pytest.approx(1.0)


def test_msis_is_nan_without_a_scale() -> None:
    assert math.isnan(msis([1.0], [0.0], [2.0], scale=0.0))
    assert math.isnan(msis([1.0], [0.0], [2.0], scale=math.nan))


def test_pooled_coverage_counts_every_point_of_every_forecast() -> None:
    first = (np.array([10, 20, 30]), np.array([8, 22, 25]), np.array([12, 26, 28]))
    second = (np.array([5.0]), np.array([4.0]), np.array([6.0]))
    assert pooled_coverage([first]) == pytest.approx(1 / 3)
    assert pooled_coverage([first, second]) == pytest.approx(2 / 4)
    assert math.isnan(pooled_coverage([]))
