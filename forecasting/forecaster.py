"""The recurrent forecaster: an estimator with `fit` and `predict`, in the scikit-learn way.

`__init__` stores settings; `fit` sets the attributes ending in `_`; predicting before
fitting raises a clear error.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from forecasting.config import ModelConfig, TrainConfig
from forecasting.errors import ConfigError, ForecastingError, NotFittedError
from forecasting.features import CovariateData, CovariateEncoder, Features
from forecasting.models import build_model
from forecasting.preprocessing import Preprocessor
from forecasting.training import EpochEvent, History, fit_ensemble
from forecasting.windows import Split, row_windows, sliding_windows, windows_ending_at


class RNNForecaster:
    """SimpleRNN / LSTM / GRU forecaster of one series, optionally with covariates.

    With covariates the network reads, for an origin `o`, the target, the past covariates and
    the known features (future covariates, calendar) at rows `o - window .. o - 1`, and the
    known features at rows `o .. o + horizon - 1` through its direct head; nothing else.

    Args:
        model: Network and input settings; `model.window` must be resolved (not automatic).
        train: Training settings.
        horizon: Steps forecast from each origin.
        period: Seasonal period of the series (1 for none).
        compiled_calls: Whether the networks are called through their compiled predict
            function (see `call_padded`); False (eager calls) unless `serve_compiled`.
    """

    def __init__(self, model: ModelConfig, train: TrainConfig, horizon: int, period: int = 1):
        self.model = model
        self.train = train
        self.horizon = horizon
        self.period = period
        self.compiled_calls = False

    def serve_compiled(self) -> None:
        """Call the networks through their compiled predict function from now on: each input
        shape compiles once (about a second), then a call costs a tenth of an eager one. For a
        server answering many forecasts; a training run predicts a few times and stays eager."""
        self.compiled_calls = True

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
        covariates: CovariateData | None = None,
        on_epoch: Callable[[EpochEvent], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> RNNForecaster:
        """Fit on `values[:split.train_end]`, stopping early on the validation part.

        With `scaling="auto"` the scaling is chosen by `forecasting.selection` (which compares
        candidates on the validation part when it holds enough forecasts). Nothing at or
        after `split.fit_end` (the test part) is read. `covariates` (rows aligned with
        `values`) are encoded with statistics of the training rows only.

        Raises:
            ConfigError: Covariates with the recursive strategy.
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
                    covariates=covariates,
                    on_epoch=on_epoch,
                    should_stop=should_stop,
                ).forecaster
            )
        self.encoder_ = self._fit_encoder(covariates, split)
        features = None if self.encoder_ is None else self.encoder_.encode(covariates)
        values = np.asarray(values, dtype=float)[: split.fit_end]
        self.preprocessor_ = Preprocessor(
            log=self.model.log,
            period=self.period,
            deseasonalize=self.model.deseasonalize,
            scaling=self.model.scaling,
        )
        self.preprocessor_.fit(values[: split.train_end])
        level = self.preprocessor_.to_level(values)
        x, y = self._training_windows(level[: split.train_end], features, 0)
        validation = None
        if split.n_val:
            start = split.train_end - self.window
            val_x, val_y = self._training_windows(level[start:], features, start)
            validation = (val_x, val_y) if len(val_y) else None
        self.models_, self.histories_ = fit_ensemble(
            lambda member: build_model(
                self.model,
                self.window,
                self.target_len,
                features=1 + self.n_past + self.n_known,
                known_ahead=self.n_known,
            ),
            self.model.members,
            x,
            y,
            validation,
            self.train,
            on_epoch=on_epoch,
            should_stop=should_stop,
        )
        return self

    def adopt(self, other: RNNForecaster) -> RNNForecaster:
        """Take over the fitted state (preprocessing, networks, histories) of `other`."""
        other._check_fitted()
        self.preprocessor_, self.encoder_ = other.preprocessor_, other.encoder_
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

    def _fit_encoder(self, covariates: CovariateData | None, split: Split):
        if covariates is None or not covariates.roles.any:
            return None
        if self.model.strategy != "direct":
            raise ConfigError(
                "Covariates need the direct strategy: the recursive one feeds its own forecast "
                "back step after step and would need the covariates' values at every step it "
                "has not seen. Choose Direct (--strategy direct), or train without covariates."
            )
        return CovariateEncoder.fit(covariates, split.train_end)

    @property
    def n_past(self) -> int:
        """Past-covariate features per step (0 without covariates)."""
        return 0 if self.encoder_ is None else self.encoder_.n_past

    @property
    def n_known(self) -> int:
        """Known-ahead features per step: future covariates and calendar (0 without)."""
        return 0 if self.encoder_ is None else self.encoder_.n_known

    def features(self, covariates: CovariateData | None) -> Features | None:
        """The encoded covariates this forecaster reads (None when it reads none).

        Raises:
            ForecastingError: Covariates needed but not given.
        """
        self._check_fitted()
        if self.encoder_ is None:
            return None
        if covariates is None:
            needs = ", ".join(self.encoder_.roles.columns) or "calendar features"
            raise ForecastingError(f"This model reads covariates ({needs}); give data with them.")
        return self.encoder_.encode(covariates)

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
            "covariates": None if self.encoder_ is None else self.encoder_.to_dict(),
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
            encoder = state.get("covariates")
            forecaster.encoder_ = None if encoder is None else CovariateEncoder.from_dict(encoder)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"The preprocessing is malformed ({exc}).") from None
        try:
            history = History.from_dict(state["history"])
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"The training history is malformed ({exc}).") from None
        forecaster.models_, forecaster.histories_ = list(networks), [history]
        return forecaster

    def _training_windows(self, level: np.ndarray, features: Features | None, start: int):
        """Network inputs and targets of every window of `level`, whose first row is row
        `start` of the series (where the features are read)."""
        x, y = sliding_windows(level, self.window, self.target_len)
        zx, zy, _ = self.preprocessor_.scale_windows(x, y)
        origins = start + self.window + np.arange(len(zx))
        return self._inputs(zx, features, origins), zy

    def _inputs(self, zx: np.ndarray, features: Features | None, origins: np.ndarray):
        """Scaled target windows `zx` (n, window) ending before `origins`, with the
        covariate features of the same rows and of the horizon ahead: the network's input."""
        x = zx[..., None]
        if features is None:
            return x
        rows = origins - self.window
        parts = [x]
        if self.n_past:
            parts.append(row_windows(features.past, self.window, rows))
        if self.n_known:
            if origins.size and origins.max() + self.horizon > len(features.known):
                raise ForecastingError(
                    "The known-ahead covariates do not reach the end of the horizon; give "
                    "the future covariates' values for every step forecast."
                )
            parts.append(row_windows(features.known, self.window, rows))
        x = np.concatenate(parts, axis=2)
        if not self.n_known:
            return x
        return [x, row_windows(features.known, self.horizon, origins)]

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

    def predict(
        self,
        values: np.ndarray,
        origins,
        start: int = 0,
        covariates: CovariateData | None = None,
        features: Features | None = None,
    ) -> np.ndarray:
        """Forecast `horizon` steps from each origin, in original units.

        Args:
            values: The series up to (at least) the last origin; only `values[:origin]`
                is used for the forecast from `origin`.
            origins: Indices into `values` of the first forecast point of each forecast.
                `len(values)` forecasts beyond the end.
            start: Position of `values[0]` counted from the first training point (keeps
                the seasonal phase right when `values` is a later stretch of the series).
            covariates: The covariates, rows aligned with `values` (for a model with them).
            features: Already encoded covariates, instead of `covariates`.

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
        if features is None:
            features = self.features(covariates)
        level = self.preprocessor_.to_level(np.asarray(values, dtype=float), start)
        history = windows_ending_at(level, self.window, origins)
        forecasts = np.median(
            [self._predict_level(network, history, features, origins) for network in self.models_],
            axis=0,
        )
        positions = start + origins[:, None] + np.arange(self.horizon)[None, :]
        return self.preprocessor_.from_level(forecasts, positions)

    def forecast(
        self, values: np.ndarray, start: int = 0, covariates: CovariateData | None = None
    ) -> np.ndarray:
        """The `horizon` values after the end of `values`."""
        return self.predict(values, [len(values)], start, covariates)[0]

    def _predict_level(self, network, history, features, origins) -> np.ndarray:
        """Forecasts in level units from windows `history` (n, window) ending before
        `origins`."""
        if self.model.strategy == "direct":
            return self._step(network, history, features, origins)
        window = np.array(history, dtype=float)
        steps = []
        for _ in range(self.horizon):
            nxt = self._step(network, window)
            steps.append(nxt[:, 0])
            window = np.concatenate([window[:, 1:], nxt], axis=1)
        return np.stack(steps, axis=1)

    def _step(self, network, windows: np.ndarray, features=None, origins=None) -> np.ndarray:
        zx, _, anchor = self.preprocessor_.scale_windows(windows)
        z = call_padded(network, self._inputs(zx, features, origins), self.compiled_calls)
        return self.preprocessor_.unscale(z, anchor)


def call_padded(network, x, compiled: bool = False) -> np.ndarray:
    """`network(x)` with the batch padded to a power of two: JAX compiles the network once
    per input shape, so a few shapes serve every number of forecast origins. `x` is one
    array or a list of them (one per network input). `compiled` calls the network's compiled
    predict function instead of calling it eagerly (the same values to float32 rounding)."""
    parts = x if isinstance(x, list) else [x]
    n = len(parts[0])
    size = 1 << max(n - 1, 0).bit_length()
    padded = [
        np.concatenate([p, np.zeros((size - n, *p.shape[1:]), p.dtype)]) if size > n else p
        for p in (part.astype("float32") for part in parts)
    ]
    inputs = padded if isinstance(x, list) else padded[0]
    out = network.predict_on_batch(inputs) if compiled else network(inputs, training=False)
    return np.asarray(out, dtype=float)[:n]
