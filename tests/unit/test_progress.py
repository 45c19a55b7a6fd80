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
            out.append(EpochEvent(epoch, epochs, 1.0 / epoch, None if epoch == 1 else 0.5,
                                  5.0 + 2.0 * (epoch - 1), m, members))
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
