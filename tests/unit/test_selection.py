"""The automatic scaling choice: never a global scale for a level the network never saw."""

from __future__ import annotations

import numpy as np

from forecasting.selection import (
    COMPARED,
    LEVEL_OUTSIDE,
    MIN_ORIGINS_TO_CHOOSE,
    REQUESTED,
    ScalingChoice,
    level_outside,
    plan_scaling,
)
from forecasting.windows import Split

# Enough validation forecasts to compare scalings.
SPLIT = Split(n=1000, train_end=600, fit_end=800)


def flat(n: int = 1000) -> np.ndarray:
    return 100 + np.random.default_rng(0).normal(0, 3, n)


def test_level_inside_the_training_range_compares_global_scaling():
    choice = plan_scaling("auto", SPLIT, 12, flat())
    assert choice.why == COMPARED and "standard" in choice.candidates
    assert len(SPLIT.origins("val", 12)) >= MIN_ORIGINS_TO_CHOOSE


def test_nothing_after_the_test_origin_decides_the_scaling():
    """Poison the test part (and the final forecast's origin): the choice must not change."""
    values = flat()
    values[SPLIT.fit_end :] *= 8
    assert plan_scaling("auto", SPLIT, 12, values) == plan_scaling("auto", SPLIT, 12, flat())
    assert level_outside(values, SPLIT, 12) is None


def test_late_level_shift_never_tries_a_global_scale():
    values = flat()
    values[SPLIT.fit_end - 60 :] *= 8  # in the validation part, before the test origin
    choice = plan_scaling("auto", SPLIT, 12, values)
    assert choice.why == LEVEL_OUTSIDE and choice.chosen == "window"
    assert choice.candidates == ()
    assert choice.recent_level > 700 and choice.train_range[1] < 120
    (sentence,) = choice.sentences()
    assert "per window" in sentence and "outside the range the network is trained on" in sentence


def test_rise_before_the_test_origin_is_seen_too():
    values = np.geomspace(100, 800, 1000)
    assert level_outside(values[:800], Split(800, 600, 800), 12) is not None
    assert plan_scaling("auto", SPLIT, 12, values).why == LEVEL_OUTSIDE


def test_margin_keeps_a_level_just_above_the_range_inside():
    values = flat()
    values[-12:] = values[:600].max() + 0.1 * np.ptp(values[:600])
    assert level_outside(values, SPLIT, 12) is None


def test_requested_global_scale_is_kept_but_the_plan_says_it():
    values = flat()
    values[SPLIT.fit_end - 60 :] *= 8
    choice = plan_scaling("standard", SPLIT, 12, values)
    assert choice.why == REQUESTED and choice.chosen == "standard" and choice.level_outside
    assert "as requested" in choice.sentences()[0]
    assert not plan_scaling("window", SPLIT, 12, values).level_outside


def test_choice_round_trips_as_json():
    values = flat()
    values[SPLIT.fit_end - 60 :] *= 8
    choice = plan_scaling("auto", SPLIT, 12, values)
    again = ScalingChoice.from_json(choice.to_json())
    assert again.sentences() == choice.sentences() and again.level_outside
