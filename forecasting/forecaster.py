"""The recurrent forecaster: an estimator with `fit` and `predict`, in the scikit-learn way.

`__init__` stores settings; `fit` sets the attributes ending in `_`; predicting before
fitting raises a clear error.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from forecasting.config import ModelConfig, TrainConfig
from forecasting.errors import ConfigError, ForecastingError
from forecasting.models import build_model
from forecasting.preprocessing import Preprocessor
from forecasting.training import EpochEvent, History, fit_network, set_seed
from forecasting.windows import Split, sliding_windows, windows_ending_at


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

    def fit(
        self,
        values: np.ndarray,
        split: Split,
        *,
        on_epoch: Callable[[EpochEvent], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> RNNForecaster:
        """Fit on `values[:split.train_end]`, stopping early on the validation part.

        With `scaling="auto"` the scaling is chosen by `forecasting.selection` (which compares
        candidates on the validation part when it holds enough forecasts). Nothing at or
        after `split.fit_end` (the test part) is read.
        """
        if self.model.scaling == "auto":
            from forecasting.selection import fit_forecaster

            return self.adopt(
                fit_forecaster(
                    self.model,
                    self.train,
                    self.horizon,
                    self.period,
                    values,
                    split,
                    on_epoch=on_epoch,
                    should_stop=should_stop,
                ).forecaster
            )
        values = np.asarray(values, dtype=float)[: split.fit_end]
        self.preprocessor_ = Preprocessor(
            log=self.model.log,
            period=self.period,
            deseasonalize=self.model.deseasonalize,
            scaling=self.model.scaling,
        )
        self.preprocessor_.fit(values[: split.train_end])
        level = self.preprocessor_.to_level(values)
        x, y = self._training_windows(level[: split.train_end])
        validation = None
        if split.n_val:
            val_x, val_y = self._training_windows(level[split.train_end - self.window :])
            validation = (val_x, val_y) if len(val_x) else None
        self.models_, self.histories_ = [], []
        for member in range(self.model.ensemble):
            set_seed(self.train.seed + member)
            network = build_model(self.model, self.window, self.target_len)
            history = fit_network(
                network,
                x,
                y,
                validation,
                self.train,
                member=member + 1,
                members=self.model.ensemble,
                on_epoch=on_epoch,
                should_stop=should_stop,
            )
            if history.epochs_run:
                self.models_.append(network)
                self.histories_.append(history)
            if history.stopped_by == "cancel":
                break
        if not self.models_:
            raise NotFittedError(
                "Training was cancelled before the first epoch ended; "
                "there is no model to keep. Train again."
            )
        return self

    def adopt(self, other: RNNForecaster) -> RNNForecaster:
        """Take over the fitted state (preprocessing, networks, histories) of `other`."""
        other._check_fitted()
        self.preprocessor_ = other.preprocessor_
        self.models_, self.histories_ = list(other.models_), list(other.histories_)
        return self

    def join(self, other: RNNForecaster) -> RNNForecaster:
        """Add the networks of `other`, fitted with the same settings and preprocessing, to
        this ensemble."""
        self._check_fitted()
        other._check_fitted()
        self.models_ += other.models_
        self.histories_ += other.histories_
        return self

    # ----------------------------------------------------------------- state
    def get_state(self) -> tuple[dict, list]:
        """The fitted forecaster as JSON-ready data and its Keras networks (like Keras'
        `get_config`): `RNNForecaster.from_state(*forecaster.get_state())` forecasts the same.

        Returns:
            `(state, networks)`: `state` holds the settings (model, train, horizon, period),
            the fitted preprocessing and the first network's history.

        Raises:
            NotFittedError: Not fitted yet.
        """
        self._check_fitted()
        state = {
            "model": self.model.to_dict(),
            "train": self.train.to_dict(),
            "horizon": self.horizon,
            "period": self.period,
            "preprocessor": self.preprocessor_.to_dict(),
            "history": self.history_.to_dict(),
        }
        return state, list(self.models_)

    @classmethod
    def from_state(cls, state: dict, networks: list) -> RNNForecaster:
        """A fitted forecaster from what `get_state` returned.

        Raises:
            ConfigError: A part of the state is missing or malformed (named).
        """
        if not networks:
            raise ConfigError("A fitted forecaster needs at least one network.")
        try:
            forecaster = cls(
                ModelConfig.from_dict(state["model"]),
                TrainConfig.from_dict(state["train"]),
                int(state["horizon"]),
                int(state["period"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"The forecaster's settings are malformed ({exc}).") from None
        try:
            forecaster.preprocessor_ = Preprocessor.from_dict(state["preprocessor"])
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"The preprocessing is malformed ({exc}).") from None
        try:
            history = History.from_dict(state["history"])
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"The training history is malformed ({exc}).") from None
        forecaster.models_, forecaster.histories_ = list(networks), [history]
        return forecaster

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
            raise NotFittedError(
                "This forecaster is not fitted yet. Call fit() first, or load a trained bundle."
            )

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
            raise ForecastingError(
                f"Forecasting needs {self.window} values before the origin "
                f"(the window length); received {origins.min()}."
            )
        level = self.preprocessor_.to_level(np.asarray(values, dtype=float), start)
        history = windows_ending_at(level, self.window, origins)
        forecasts = np.median(
            [self._predict_level(network, history) for network in self.models_], axis=0
        )
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
