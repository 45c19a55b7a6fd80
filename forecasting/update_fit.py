"""The two trained candidates of an update: the saved networks fine-tuned on recent windows,
and new networks retrained from scratch with the saved configuration. Both read only the data
before the held-out newest part (`end`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from forecasting.bundle import Bundle
from forecasting.errors import DataError
from forecasting.features import CovariateData
from forecasting.forecaster import RNNForecaster
from forecasting.training import EpochEvent, fit_ensemble
from forecasting.windows import MIN_TRAIN_WINDOWS, Split

FINE_TUNE_RATE = 0.3  # fine-tuning's learning rate, as a share of the saved one


def fine_tune(
    parent: RNNForecaster,
    values: np.ndarray,
    end: int,
    start: int,
    covariates: CovariateData | None,
    epochs: int,
    recent: int,
    on_epoch: Callable[[EpochEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RNNForecaster:
    """The parent's networks trained `epochs` more epochs on the windows whose targets lie
    in the last `recent` points before `end` (nothing at or after `end` is read), with the
    parent's preprocessing; each network seeded with the saved seed (plus its index), so the
    same data gives the same networks.

    Args:
        parent: The fitted forecaster (not changed).
        values: The series; only `values[:end]` is read.
        end: Index of the first held-out point.
        start: Position of `values[0]` in the parent's preprocessing.
        covariates: The covariates, rows aligned with `values` (for a model with them).
        epochs: Epochs of fine-tuning.
        recent: Points of recent targets to train on.

    Raises:
        DataError: No whole window before `end`.
    """
    import keras

    window, target_len = parent.window, parent.target_len
    low = max(0, end - recent - window - target_len + 1)
    level = parent.preprocessor_.to_level(np.asarray(values[:end], float), start)
    features = parent.features(covariates)
    x, y = parent._training_windows(level[low:], features, low)
    if not len(y):
        raise DataError(
            f"Too few points before the newest part to fine-tune on ({end}; a window of "
            f"{window} and {target_len} target(s) are needed)."
        )
    settings = parent.train.replace(
        epochs=epochs, learning_rate=parent.train.learning_rate * FINE_TUNE_RATE, patience=0
    )
    tuned = RNNForecaster(parent.model, parent.train, parent.horizon, parent.period)
    tuned.preprocessor_, tuned.encoder_ = parent.preprocessor_, parent.encoder_

    def copy_of(member: int):
        copy = keras.models.clone_model(parent.models_[member])
        copy.set_weights(parent.models_[member].get_weights())
        return copy

    tuned.models_, tuned.histories_ = fit_ensemble(
        copy_of,
        len(parent.models_),
        x,
        y,
        None,
        settings,
        on_epoch=on_epoch,
        should_stop=should_stop,
    )
    return tuned


def retrain(
    bundle: Bundle,
    values: np.ndarray,
    end: int,
    covariates: CovariateData | None,
    on_epoch: Callable[[EpochEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RNNForecaster:
    """New networks trained from scratch with the bundle's configuration on `values[:end]`
    (the validation part for early stopping is its end; nothing at or after `end` is read).

    Raises:
        DataError: Too few points before `end` for the configuration's window and horizon.
    """
    config = bundle.config
    horizon, window = config.horizon, config.model.window
    target_len = horizon if config.model.strategy == "direct" else 1
    n_val = max(horizon, round(config.train.validation_fraction * end))
    train_end = end - n_val
    if train_end - window - target_len + 1 < MIN_TRAIN_WINDOWS:
        need = window + target_len - 1 + MIN_TRAIN_WINDOWS + n_val
        raise DataError(
            f"Too few points before the newest part to train a new network ({end}; about "
            f"{need} are needed for window {window} and horizon {horizon}). Upload the whole "
            "history with the new points."
        )
    split = Split(n=len(values), train_end=train_end, fit_end=end)
    fresh = RNNForecaster(config.model, config.train, horizon, bundle.period)
    return fresh.fit(
        values, split, covariates=covariates, on_epoch=on_epoch, should_stop=should_stop
    )


__all__ = ["fine_tune", "retrain"]
