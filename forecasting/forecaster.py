"""The recurrent forecaster: an estimator with `fit` and `predict`, in the scikit-learn way.

`__init__` stores settings; `fit` sets the attributes ending in `_`; predicting before
fitting raises a clear error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from forecasting.config import AUTO_SCALINGS, ModelConfig, TrainConfig
from forecasting.errors import ForecastingError
from forecasting.models import build_model
from forecasting.preprocessing import Preprocessor
from forecasting.training import EpochEvent, History, fit_network, set_seed
from forecasting.windows import Split, sliding_windows, windows_ending_at

# Validation forecasts needed before automatic scaling compares candidates: with fewer, the
# comparison is noise and per-window scaling (the safer with trends) is used.
MIN_ORIGINS_TO_CHOOSE = 50


def can_choose_scaling(split: Split, horizon: int) -> bool:
    """Whether the validation part holds enough forecasts to compare scalings."""
    return len(split.origins("val", horizon)) >= MIN_ORIGINS_TO_CHOOSE


class NotFittedError(ForecastingError, RuntimeError):
    """The forecaster was asked to predict before it was fitted."""


class RNNForecaster:
    """SimpleRNN / LSTM / GRU forecaster of one series.

    Args:
        model: Network and input settings; `model.window` must be resolved (not automatic).
        train: Training settings.
        horizon: Steps forecast from each origin.
        period: Seasonal period of the series (1 for none).
    """

    def __init__(self, model: ModelConfig, train: TrainConfig, horizon: int, period: int = 1):
        self.model = model
        self.train = train
        self.horizon = horizon
        self.period = period

    @property
    def window(self) -> int:
        return self.model.window

    @property
    def target_len(self) -> int:
        return self.horizon if self.model.strategy == "direct" else 1

    def fit(self, values: np.ndarray, split: Split, *,
            on_epoch: Callable[[EpochEvent], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> RNNForecaster:
        """Fit on `values[:split.train_end]`, stopping early on the validation part.

        With `scaling="auto"` and at least `MIN_ORIGINS_TO_CHOOSE` forecasts in the validation
        part, one forecaster per scaling of `AUTO_SCALINGS` is fitted and the one whose
        forecasts of the validation part have the lower mean absolute error is kept
        (`scaling_` names it, `scaling_errors_` holds every error); with fewer, per-window
        scaling is used. Nothing at or after `split.fit_end` (the test part) is read.
        """
        scaling = self.model.scaling
        if scaling == "auto":
            if can_choose_scaling(split, self.horizon):
                return self._fit_best_scaling(values, split, on_epoch, should_stop)
            scaling = "window"
        self.scaling_, self.scaling_errors_ = scaling, {}
        values = np.asarray(values, dtype=float)[: split.fit_end]
        self.preprocessor_ = Preprocessor(log=self.model.log, period=self.period,
                                          deseasonalize=self.model.deseasonalize,
                                          scaling=scaling)
        self.preprocessor_.fit(values[: split.train_end])
        level = self.preprocessor_.to_level(values)
        x, y = self._training_windows(level[: split.train_end])
        validation = None
        if split.n_val:
            val_x, val_y = self._training_windows(level[split.train_end - self.window:])
            validation = (val_x, val_y) if len(val_x) else None
        self.models_, self.histories_ = [], []
        for member in range(self.model.ensemble):
            set_seed(self.train.seed + member)
            network = build_model(self.model, self.window, self.target_len)
            history = fit_network(network, x, y, validation, self.train, member=member + 1,
                                  members=self.model.ensemble, on_epoch=on_epoch,
                                  should_stop=should_stop)
            if history.epochs_run:
                self.models_.append(network)
                self.histories_.append(history)
            if history.stopped_by == "cancel":
                break
        if not self.models_:
            raise NotFittedError("Training was cancelled before the first epoch ended; "
                                 "there is no model to keep. Train again.")
        self.all_histories_ = list(self.histories_)
        return self

    def _fit_best_scaling(self, values, split: Split, on_epoch, should_stop) -> RNNForecaster:
        """One network per candidate scaling (the ensemble's first seed); the rest of the
        ensemble is trained with the scaling whose network forecast the validation part
        better."""
        ensemble, members = self.model.ensemble, len(AUTO_SCALINGS) + self.model.ensemble - 1
        origins = split.origins("val", self.horizon)
        actual = np.asarray(values, dtype=float)[origins[:, None] + np.arange(self.horizon)]
        fitted, errors, histories = {}, {}, []

        def fit(scaling: str, networks: int, seed: int, offset: int) -> RNNForecaster | None:
            def event(e: EpochEvent) -> None:
                on_epoch(dataclasses.replace(e, member=offset + e.member, members=members))

            part = RNNForecaster(self.model.replace(scaling=scaling, ensemble=networks),
                                 self.train.replace(seed=seed), self.horizon, self.period)
            try:
                part.fit(values, split, on_epoch=event if on_epoch else None,
                         should_stop=should_stop)
            except NotFittedError:  # cancelled before its first epoch: keep what was fitted
                if not fitted:
                    raise
                return None
            histories.extend(part.histories_)
            return part

        for rank, scaling in enumerate(AUTO_SCALINGS):
            candidate = fit(scaling, 1, self.train.seed, rank)
            if candidate is None:
                break
            error = float(np.mean(np.abs(candidate.predict(values, origins) - actual)))
            fitted[scaling], errors[scaling] = candidate, error if np.isfinite(error) else np.inf
            if candidate.histories_[-1].stopped_by == "cancel":
                break
        best = fitted[min(errors, key=errors.get)]
        self.preprocessor_, self.models_, self.histories_ = (
            best.preprocessor_, list(best.models_), list(best.histories_))
        cancelled = histories[-1].stopped_by == "cancel"
        if ensemble > 1 and not cancelled:
            rest = fit(best.scaling_, ensemble - 1, self.train.seed + 1, len(AUTO_SCALINGS))
            if rest is not None:
                self.models_ += rest.models_
                self.histories_ += rest.histories_
        self.scaling_, self.scaling_errors_, self.all_histories_ = best.scaling_, errors, histories
        return self

    def _training_windows(self, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = sliding_windows(level, self.window, self.target_len)
        zx, zy, _ = self.preprocessor_.scale_windows(x, y)
        return zx[..., None], zy

    @property
    def history_(self) -> History:
        """History of the first network (what the loss chart shows)."""
        self._check_fitted()
        return self.histories_[0]

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise NotFittedError("This forecaster is not fitted yet. Call fit() first, or "
                                 "load a trained bundle.")

    def predict(self, values: np.ndarray, origins, start: int = 0) -> np.ndarray:
        """Forecast `horizon` steps from each origin, in original units.

        Args:
            values: The series up to (at least) the last origin; only `values[:origin]`
                is used for the forecast from `origin`.
            origins: Indices into `values` of the first forecast point of each forecast.
                `len(values)` forecasts beyond the end.
            start: Position of `values[0]` counted from the first training point (keeps
                the seasonal phase right when `values` is a later stretch of the series).

        Returns:
            Array of shape `(len(origins), horizon)`.
        """
        self._check_fitted()
        origins = np.atleast_1d(np.asarray(origins, dtype=int))
        if origins.size and origins.min() < self.window:
            raise ForecastingError(f"Forecasting needs {self.window} values before the origin "
                                   f"(the window length); received {origins.min()}.")
        level = self.preprocessor_.to_level(np.asarray(values, dtype=float), start)
        history = windows_ending_at(level, self.window, origins)
        forecasts = np.median([self._predict_level(network, history)
                               for network in self.models_], axis=0)
        positions = start + origins[:, None] + np.arange(self.horizon)[None, :]
        return self.preprocessor_.from_level(forecasts, positions)

    def forecast(self, values: np.ndarray, start: int = 0) -> np.ndarray:
        """The `horizon` values after the end of `values`."""
        return self.predict(values, [len(values)], start)[0]

    def _predict_level(self, network, history: np.ndarray) -> np.ndarray:
        """Forecasts in level units from windows `history` (n, window)."""
        if self.model.strategy == "direct":
            return self._step(network, history)
        window = np.array(history, dtype=float)
        steps = []
        for _ in range(self.horizon):
            nxt = self._step(network, window)
            steps.append(nxt[:, 0])
            window = np.concatenate([window[:, 1:], nxt], axis=1)
        return np.stack(steps, axis=1)

    def _step(self, network, windows: np.ndarray) -> np.ndarray:
        zx, _, anchor = self.preprocessor_.scale_windows(windows)
        z = _call_padded(network, zx[..., None].astype("float32"))
        return self.preprocessor_.unscale(z, anchor)


def _call_padded(network, x: np.ndarray) -> np.ndarray:
    """`network(x)` with the batch padded to a power of two: JAX compiles the network once
    per input shape, so a few shapes serve every number of forecast origins."""
    n = len(x)
    size = 1 << max(n - 1, 0).bit_length()
    padded = np.concatenate([x, np.zeros((size - n, *x.shape[1:]), x.dtype)]) if size > n else x
    return np.asarray(network(padded, training=False), dtype=float)[:n]
