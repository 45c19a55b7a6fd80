"""One recurrent network for many series (a **global** model, as ES-RNN and DeepAR train): the
windows of every series in one training set, each series scaled by its own preprocessing fit
on its own training part."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from forecasting.config import ModelConfig, TrainConfig
from forecasting.errors import ConfigError, NotFittedError
from forecasting.forecaster import call_padded
from forecasting.models import build_model
from forecasting.preprocessing import Preprocessor
from forecasting.training import EpochEvent, History, fit_ensemble
from forecasting.windows import Split, sliding_windows, windows_ending_at

# More training windows than this are not all seen in every epoch: each epoch takes the next
# batches of one shuffled pass (Keras' `steps_per_epoch`), so epochs stay short and early
# stopping looks often. Measured on M4 weekly (100 series, 98,000 windows, default settings,
# `benchmarks/panel.py`): 100,000 a epoch -> OWA 0.768 in 1,755 s; 16,384 -> 0.773 in 492 s;
# 8,192 -> 0.794 in 279 s.
MAX_WINDOWS_PER_EPOCH = 8192
PREDICT_BATCH = 4096


class GlobalForecaster:
    """SimpleRNN / LSTM / GRU forecaster of many series with one shared network.

    Args:
        model: Network settings; `model.window` resolved, `model.scaling` a concrete
            scaling (applied to each series with that series' own statistics).
        train: Training settings.
        horizon: Steps forecast from each origin.
        period: Seasonal period shared by the series (1 for none).
    """

    def __init__(self, model: ModelConfig, train: TrainConfig, horizon: int, period: int = 1):
        if model.scaling == "auto":
            raise ConfigError("Resolve the scaling before fitting a global model.")
        if model.strategy != "direct":
            raise ConfigError("A global model forecasts with the direct strategy.")
        self.model, self.train, self.horizon, self.period = model, train, horizon, period

    @property
    def window(self) -> int:
        return self.model.window

    def fit(
        self,
        values: list[np.ndarray],
        splits: list[Split],
        *,
        on_epoch: Callable[[EpochEvent], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> GlobalForecaster:
        """Fit on every series' training part, stopping early on the pooled validation loss.

        Each series `i` is read up to `splits[i].fit_end` only; its preprocessing is fit on
        `values[i][:splits[i].train_end]`. No window crosses from one series to another.
        """
        self.preprocessors_ = [
            Preprocessor(
                log=self.model.log,
                period=self.period,
                deseasonalize=self.model.deseasonalize,
                scaling=self.model.scaling,
            ).fit(np.asarray(v, dtype=float)[: s.train_end])
            for v, s in zip(values, splits, strict=True)
        ]
        x, y, vx, vy = [], [], [], []
        for prep, v, split in zip(self.preprocessors_, values, splits, strict=True):
            level = prep.to_level(np.asarray(v, dtype=float)[: split.fit_end])
            part_x, part_y = self._windows(prep, level[: split.train_end])
            x.append(part_x)
            y.append(part_y)
            if split.n_val:
                val_x, val_y = self._windows(prep, level[split.train_end - self.window :])
                vx.append(val_x)
                vy.append(val_y)
        x, y = np.concatenate(x), np.concatenate(y)
        validation = (np.concatenate(vx), np.concatenate(vy)) if vx else None
        if validation is not None and not len(validation[1]):
            validation = None
        self.windows_ = len(x)
        steps = None
        if len(x) > MAX_WINDOWS_PER_EPOCH:
            steps = math.ceil(MAX_WINDOWS_PER_EPOCH / self.train.batch_size)
        self.models_, self.histories_ = fit_ensemble(
            lambda member: build_model(self.model, self.window, self.horizon),
            self.model.members,
            x[..., None],
            y,
            None if validation is None else (validation[0][..., None], validation[1]),
            self.train,
            on_epoch=on_epoch,
            should_stop=should_stop,
            steps_per_epoch=steps,
            decay=True,
        )
        return self

    def _windows(self, prep: Preprocessor, level: np.ndarray):
        x, y = sliding_windows(level, self.window, self.horizon)
        zx, zy, _ = prep.scale_windows(x, y)
        return zx.astype(np.float32), zy.astype(np.float32)  # what the network computes in

    @property
    def history_(self) -> History:
        self._check_fitted()
        return self.histories_[0]

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise NotFittedError("This global model is not fitted yet. Call fit() first.")

    def predict(
        self, values: list[np.ndarray], origins: list, starts: list[int] | None = None
    ) -> list[np.ndarray]:
        """Forecast `horizon` steps from each origin of each series, in original units.

        Args:
            values: Each series (up to at least its last origin; only `values[i][:origin]`
                is read for a forecast from `origin`).
            origins: For each series, the origins (`len(values[i])` forecasts beyond its end).
            starts: Position of each `values[i][0]` from that series' first training point.

        Returns:
            For each series an array `(len(origins[i]), horizon)`.
        """
        self._check_fitted()
        starts = starts or [0] * len(values)
        scaled, anchors, counts = [], [], []
        for prep, v, o, start in zip(self.preprocessors_, values, origins, starts, strict=True):
            o = np.atleast_1d(np.asarray(o, dtype=int))
            level = prep.to_level(np.asarray(v, dtype=float), start)
            zx, _, anchor = prep.scale_windows(windows_ending_at(level, self.window, o))
            scaled.append(zx)
            anchors.append(anchor)
            counts.append(len(o))
        zx = np.concatenate(scaled)[..., None].astype("float32")
        z = np.median([self._call(network, zx) for network in self.models_], axis=0)
        out, at = [], 0
        for prep, anchor, count, o, start in zip(
            self.preprocessors_, anchors, counts, origins, starts, strict=True
        ):
            level = prep.unscale(z[at : at + count], anchor)
            positions = start + np.atleast_1d(o)[:, None] + np.arange(self.horizon)[None, :]
            out.append(prep.from_level(level, positions))
            at += count
        return out

    @staticmethod
    def _call(network, x: np.ndarray) -> np.ndarray:
        parts = [
            call_padded(network, x[i : i + PREDICT_BATCH]) for i in range(0, len(x), PREDICT_BATCH)
        ]
        return np.concatenate(parts) if parts else np.empty((0,))

    def get_state(self) -> tuple[dict, list]:
        """JSON-ready settings, every series' preprocessing and the first history; networks."""
        self._check_fitted()
        return (
            {
                "model": self.model.to_dict(),
                "train": self.train.to_dict(),
                "horizon": self.horizon,
                "period": self.period,
                "preprocessors": [p.to_dict() for p in self.preprocessors_],
                "history": self.history_.to_dict(),
            },
            list(self.models_),
        )

    @classmethod
    def from_state(cls, state: dict, networks: list) -> GlobalForecaster:
        """A fitted global model from `get_state()` output.

        Raises:
            ConfigError: A part is missing or malformed.
        """
        if not networks:
            raise ConfigError("A fitted global model needs at least one network.")
        try:
            forecaster = cls(
                ModelConfig.from_dict(state["model"]),
                TrainConfig.from_dict(state["train"]),
                int(state["horizon"]),
                int(state["period"]),
            )
            forecaster.preprocessors_ = [Preprocessor.from_dict(p) for p in state["preprocessors"]]
            history = History.from_dict(state["history"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"The global model's state is malformed ({exc}).") from None
        forecaster.models_, forecaster.histories_ = list(networks), [history]
        return forecaster
