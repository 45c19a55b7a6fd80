"""Training callbacks: epoch events, early stopping with best weights, cancel, NaN, seeds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from forecasting import pipeline
from forecasting.baselines import QUICK_BASELINES
from forecasting.config import ModelConfig, TrainConfig
from forecasting.errors import TrainingError
from forecasting.forecaster import NotFittedError, RNNForecaster
from forecasting.models import build_model
from forecasting.training import EpochEvent, fit_network, set_seed
from forecasting.windows import chronological_split

WINDOW = 4
SAMPLES, BATCH = 64, 4  # 16 batches per epoch


def _network(seed: int = 0):
    set_seed(seed)
    return build_model(ModelConfig(cell="rnn", window=WINDOW, units=4), WINDOW, 1)


def _data(seed: int = 0, train_target: float = 1.0, val_target: float = -1.0):
    """Training targets +1 and validation targets -1: every epoch that fits the training
    data better makes the validation loss worse, so the first epoch is the best one."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(SAMPLES, WINDOW, 1))
    y = np.full((SAMPLES, 1), train_target)
    val = (rng.normal(size=(16, WINDOW, 1)), np.full((16, 1), val_target))
    return x, y, val


def _weights_equal(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))


def test_epoch_events():
    x, y, val = _data()
    x_val, _ = val
    events: list[EpochEvent] = []
    config = TrainConfig(epochs=4, batch_size=16, patience=0, learning_rate=0.001)
    history = fit_network(
        _network(), x, y, (x_val, np.zeros((16, 1))), config, on_epoch=events.append
    )
    assert [e.epoch for e in events] == [1, 2, 3, 4]
    assert all(e.epochs == 4 and e.member == 1 and e.members == 1 for e in events)
    assert [e.loss for e in events] == pytest.approx(history.loss)
    assert [e.val_loss for e in events] == pytest.approx(history.val_loss)
    assert all(isinstance(e.loss, float) and np.isfinite(e.loss) for e in events)
    assert all(isinstance(e.val_loss, float) for e in events)
    elapsed = [e.elapsed for e in events]
    assert elapsed[0] > 0 and all(b > a for a, b in zip(elapsed, elapsed[1:], strict=False))
    assert set(events[0].to_dict()) == {f.name for f in dataclasses.fields(EpochEvent)}
    assert [EpochEvent.from_dict(e.to_dict()) for e in events] == events  # events.jsonl lines
    assert [e.progress for e in events] == [0.25, 0.5, 0.75, 1.0]
    assert history.epochs_run == 4 and history.stopped_by == "epochs"
    assert history.train_seconds >= elapsed[-1] * 0.5
    assert history.seconds_per_epoch == pytest.approx(history.train_seconds / 4)


def test_events_without_validation_have_no_val_loss():
    x, y, _ = _data()
    events = []
    history = fit_network(
        _network(), x, y, None, TrainConfig(epochs=2, batch_size=32), on_epoch=events.append
    )
    assert [e.val_loss for e in events] == [None, None]
    assert history.val_loss == []
    assert history.best_epoch >= 1


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y, val = _data()
    network = _network()
    weights_at_epoch_end = []
    config = TrainConfig(epochs=50, batch_size=BATCH, patience=2, learning_rate=0.02)
    history = fit_network(
        network,
        x,
        y,
        val,
        config,
        on_epoch=lambda e: weights_at_epoch_end.append(network.get_weights()),
    )
    assert history.stopped_by == "early_stopping"
    assert history.epochs_run < 50
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    assert history.epochs_run == history.best_epoch + config.patience
    # The network holds the weights of the best epoch, not those of the last one.
    best = weights_at_epoch_end[history.best_epoch - 1]
    assert _weights_equal(network.get_weights(), best)
    assert not _weights_equal(network.get_weights(), weights_at_epoch_end[-1])


def test_the_learning_rate_decays_on_a_plateau_and_the_decayed_rate_is_used(monkeypatch):
    """The first epoch is the best (see `_data`): with patience 6 the rate is lowered after
    3 epochs without improvement (epoch 4) and early stopping ends epoch 7. A factor of 0
    shows that the compiled train step uses the lowered rate: the weights stop moving."""
    from forecasting import training

    monkeypatch.setattr(training, "LR_DECAY_FACTOR", 0.0)
    x, y, val = _data()
    network = _network()
    weights = []
    config = TrainConfig(epochs=50, batch_size=BATCH, patience=6, learning_rate=0.02)
    history = fit_network(
        network,
        x,
        y,
        val,
        config,
        on_epoch=lambda e: weights.append(network.get_weights()),
        decay=True,
    )
    assert history.best_epoch == 1 and history.epochs_run == 7
    assert history.learning_rates == [(4, 0.0)]
    assert not _weights_equal(weights[2], weights[3])  # epoch 4 still learned
    assert all(_weights_equal(weights[3], later) for later in weights[4:])
    assert type(history).from_dict(history.to_dict()) == history


def test_the_learning_rate_halves_only_when_asked_and_with_early_stopping():
    x, y, val = _data()
    config = TrainConfig(epochs=30, batch_size=BATCH, patience=4, learning_rate=0.02)
    history = fit_network(_network(), x, y, val, config, decay=True)
    assert history.best_epoch == 1 and history.epochs_run == 5  # 4 epochs without improvement
    assert history.learning_rates == [(3, pytest.approx(0.01))]
    assert fit_network(_network(), x, y, val, config).learning_rates == []  # not asked
    no_stop = fit_network(_network(), x, y, val, config.replace(patience=0, epochs=6), decay=True)
    assert no_stop.learning_rates == []  # no early stopping, no plateau schedule


def test_patience_zero_runs_every_epoch():
    x, y, val = _data()
    history = fit_network(
        _network(), x, y, val, TrainConfig(epochs=5, batch_size=32, patience=0, learning_rate=0.02)
    )
    assert history.epochs_run == 5 and history.stopped_by == "epochs"


def test_cancel_stops_within_one_batch_and_keeps_the_best_weights():
    x, y, val = _data()
    network = _network()
    weights_at_epoch_end = []
    calls = []
    batches_per_epoch = SAMPLES // BATCH
    # should_stop is polled once before fitting, after every batch and after every epoch.
    # Answer True at the 6th batch of the third epoch.
    cancel_batch = 2 * batches_per_epoch + 6
    cancel_call = 1 + cancel_batch + 2

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) >= cancel_call

    config = TrainConfig(epochs=50, batch_size=BATCH, patience=0, learning_rate=0.02)
    history = fit_network(
        network,
        x,
        y,
        val,
        config,
        should_stop=should_stop,
        on_epoch=lambda e: weights_at_epoch_end.append(network.get_weights()),
    )
    assert history.stopped_by == "cancel"
    assert history.epochs_run == 3  # the cancelled epoch still reports its partial loss
    # Not one gradient step after the cancel: the optimizer counts the batches it ran.
    assert int(network.optimizer.iterations.numpy()) == cancel_batch
    assert len(calls) == cancel_call + 1  # plus the check at the end of the epoch
    assert history.best_epoch == 1
    assert _weights_equal(network.get_weights(), weights_at_epoch_end[0])
    assert not _weights_equal(network.get_weights(), weights_at_epoch_end[-1])


def test_cancel_before_the_first_epoch(make_values):
    x, y, val = _data()
    history = fit_network(_network(), x, y, val, TrainConfig(epochs=3), should_stop=lambda: True)
    assert history.stopped_by == "cancel" and history.epochs_run == 0
    values = make_values(120)
    split = chronological_split(values.size, WINDOW, 3, 0.2, 0.15, 3)
    forecaster = RNNForecaster(
        ModelConfig(cell="rnn", window=WINDOW, units=2), TrainConfig(epochs=2), 3, 12
    )
    with pytest.raises(NotFittedError, match="cancelled before the first epoch"):
        forecaster.fit(values, split, should_stop=lambda: True)


def test_nan_targets_raise_training_error():
    x, y, val = _data()
    y = y.copy()
    y[5] = np.nan
    with pytest.raises(TrainingError, match="NaN"):
        fit_network(_network(), x, y, val, TrainConfig(epochs=3, batch_size=16))


def test_overflowing_loss_raises_training_error():
    x, _, _ = _data()
    huge = np.full((SAMPLES, 1), 1e20)  # squared error overflows float32
    with pytest.raises(TrainingError, match="Lower the learning rate"):
        fit_network(
            _network(),
            x * 1e20,
            huge,
            None,
            TrainConfig(epochs=3, batch_size=16, learning_rate=1.0, clipnorm=0.0),
        )


def test_same_seed_repeats_a_run_and_another_seed_does_not(
    monthly_series, tiny_config, monthly_run
):
    again = pipeline.train(monthly_series, tiny_config, baselines=QUICK_BASELINES)
    pd.testing.assert_frame_equal(again.forecast, monthly_run.forecast, check_exact=True)
    pd.testing.assert_frame_equal(again.one_step, monthly_run.one_step, check_exact=True)
    assert again.forecaster.history_.loss == monthly_run.forecaster.history_.loss
    other = pipeline.train(
        monthly_series, tiny_config.with_settings(seed=43), baselines=QUICK_BASELINES
    )
    assert not np.allclose(other.forecast["forecast"], monthly_run.forecast["forecast"])
    assert other.forecaster.history_.loss != monthly_run.forecaster.history_.loss


def test_ensemble_reports_every_member(make_values):
    values = make_values(120)
    split = chronological_split(values.size, WINDOW, 3, 0.2, 0.15, 3)
    events = []
    forecaster = RNNForecaster(
        ModelConfig(cell="rnn", window=WINDOW, units=2, ensemble=2),
        TrainConfig(epochs=2, patience=0),
        3,
        12,
    )
    forecaster.fit(values, split, on_epoch=events.append)
    assert [(e.member, e.members, e.epoch) for e in events] == [
        (1, 2, 1),
        (1, 2, 2),
        (2, 2, 1),
        (2, 2, 2),
    ]
    assert len(forecaster.models_) == 2
    # The forecast is the median (here: mean of two) of the members' forecasts.
    state, networks = forecaster.get_state()
    single = [RNNForecaster.from_state(state, [network]).forecast(values) for network in networks]
    np.testing.assert_allclose(forecaster.forecast(values), np.mean(single, axis=0), rtol=1e-9)
