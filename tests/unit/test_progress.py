"""Progress of a training or a backtest from its epoch events."""

from __future__ import annotations

import pytest

from forecasting.progress import backtest_progress, training_progress
from forecasting.training import EpochEvent


def events(member: int, members: int, epochs_done: int, epochs: int = 10) -> list[EpochEvent]:
    """Every epoch event of networks 1 .. member, the last one `epochs_done` epochs in;
    each epoch takes 2 s, the first of each network 5 s (it builds the graph)."""
    out = []
    for m in range(1, member + 1):
        done = epochs if m < member else epochs_done
        for epoch in range(1, done + 1):
            out.append(
                EpochEvent(
                    epoch,
                    epochs,
                    1.0 / epoch,
                    None if epoch == 1 else 0.5,
                    5.0 + 2.0 * (epoch - 1),
                    m,
                    members,
                )
            )
    return out


def test_no_progress_before_the_first_epoch() -> None:
    assert training_progress([]) is None


def test_one_network() -> None:
    progress = training_progress(events(1, 1, 4))
    assert progress.fraction == pytest.approx(0.4)
    assert progress.text == "Epoch 4 of 10"
    assert progress.seconds_per_epoch == pytest.approx(2.0)  # the first epoch left out
    assert progress.remaining_seconds == pytest.approx(6 * 2.0)
    assert len(progress.current) == 4


def test_an_ensemble_counts_every_network() -> None:
    progress = training_progress(events(2, 3, 5))
    assert progress.fraction == pytest.approx(15 / 30)
    assert progress.text == "Epoch 5 of 10 · network 2 of 3"
    assert [e.member for e in progress.current] == [2] * 5
    assert progress.remaining_seconds == pytest.approx(15 * 2.0)


def test_the_first_epoch_alone_is_timed_as_it_is() -> None:
    progress = training_progress(events(1, 1, 1))
    assert progress.seconds_per_epoch == pytest.approx(5.0)
    assert progress.remaining_seconds == pytest.approx(9 * 5.0)


def test_backtest_progress() -> None:
    assert backtest_progress(0, 3, []) == (0.0, "Backtest: fold 1 of 3, epoch 0")
    fraction, text = backtest_progress(2, 3, events(1, 1, 7))
    assert fraction == pytest.approx(1 / 3) and text == "Backtest: fold 2 of 3, epoch 7"


# ------------------------------------------------------- estimated training time (issue 19)
def test_the_estimate_is_windows_steps_epochs_networks_and_size() -> None:
    from forecasting.progress import SECONDS_PER_WINDOW_STEP, TrainingEstimate

    small = TrainingEstimate(windows=100, window=24, epochs=100, networks=6)
    assert small.seconds == pytest.approx(100 * 24 * 100 * 6 * SECONDS_PER_WINDOW_STEP)
    assert TrainingEstimate(100, 24, 100, 6, units=64, layers=2).seconds == pytest.approx(
        4 * small.seconds
    )
    assert TrainingEstimate(100, 24, 100, 6, units=4).seconds == small.seconds  # no cheaper
    assert not small.long and small.warning(150) == ""


def test_a_long_training_is_warned_of_with_what_to_do() -> None:
    from forecasting.progress import LONG_TRAINING_SECONDS, TrainingEstimate, format_seconds

    # A 1M-row hourly upload with the defaults: about 640k windows of 48 steps.
    estimate = TrainingEstimate(windows=640_000, window=48, epochs=100, networks=6)
    assert estimate.seconds > LONG_TRAINING_SECONDS and estimate.long
    text = estimate.warning(1_000_000)
    assert format_seconds(estimate.seconds) in text and " h " in text
    assert "resample" in text and "Data page" in text and "recent part" in text
    assert "640,000 training windows" in text


@pytest.mark.parametrize(
    ("seconds", "text"), [(42.4, "42 s"), (185, "3 min 05 s"), (24_600, "6 h 50 min")]
)
def test_format_seconds(seconds, text) -> None:
    from forecasting.progress import format_seconds

    assert format_seconds(seconds) == text
