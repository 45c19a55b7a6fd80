"""Transforms fit on the training part only: log, deseasonalization and scaling.

The series goes `values -> level` (log, seasonal pattern removed) and windows of the level
series are then scaled for the network: each window as differences from its own last value
("window"), or all by one global scaler ("standard", "minmax").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from forecasting.errors import DataError
from forecasting.seasonality import seasonal_indices, seasonality_test


@dataclass
class Preprocessor:
    """Turns values into the level series the network sees, and back.

    Fit with `fit(train_values)`; positions count steps from the first training point, so
    the seasonal phase of any point is `position % period`.
    """

    log: bool = False
    period: int = 1
    deseasonalize: bool = True
    scaling: str = "window"
    # fitted
    seasonal_: list[float] | None = None
    multiplicative_: bool = False
    center_: float = 0.0
    scale_: float = 1.0

    def fit(self, train: np.ndarray) -> Preprocessor:
        """Fit every statistic on `train` (the training part only)."""
        train = self._log(np.asarray(train, dtype=float))
        positive = bool(np.all(train > 0))
        self.multiplicative_ = positive and not self.log
        self.seasonal_ = None
        if self.deseasonalize and seasonality_test(train, self.period):
            self.seasonal_ = seasonal_indices(train, self.period, self.multiplicative_).tolist()
        level = self.to_level(train, 0, logged=True)
        if self.scaling == "window":
            # Differences from a window's last value, in units of the typical step: measured
            # more robust than log-ratios on spiky or near-zero series (benchmarks/accuracy.py).
            self.center_, self.scale_ = 0.0, float(np.std(np.diff(level))) or 1.0
        elif self.scaling == "standard":
            self.center_, self.scale_ = float(level.mean()), float(level.std()) or 1.0
        else:  # minmax to [-1, 1]
            low, high = float(level.min()), float(level.max())
            self.center_, self.scale_ = (low + high) / 2, ((high - low) / 2) or 1.0
        return self

    def _log(self, values: np.ndarray) -> np.ndarray:
        if not self.log:
            return values
        if np.any(values <= 0):
            raise DataError(
                "The log transform needs positive values, and this series has "
                "zeros or negatives. Turn the log transform off."
            )
        return np.log(values)

    def _season(self, positions: np.ndarray) -> np.ndarray | None:
        if self.seasonal_ is None:
            return None
        return np.asarray(self.seasonal_)[np.asarray(positions) % self.period]

    def to_level(self, values: np.ndarray, start: int = 0, logged: bool = False) -> np.ndarray:
        """Log (unless `logged`) and deseasonalize 1-D values whose first position is `start`."""
        values = np.asarray(values, dtype=float)
        level = values if logged else self._log(values)
        season = self._season(start + np.arange(level.size))
        if season is None:
            return level
        return level / season if self.multiplicative_ else level - season

    def from_level(self, level: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Inverse of `to_level`; `positions` has the shape of `level` (any shape)."""
        level = np.asarray(level, dtype=float)
        season = self._season(positions)
        if season is not None:
            level = level * season if self.multiplicative_ else level + season
        return np.exp(level) if self.log else level

    def scale_windows(self, x: np.ndarray, y: np.ndarray | None = None):
        """Scale input windows `x` (and targets `y`) for the network.

        Returns:
            `(zx, zy, anchor)` where `anchor` is what `unscale` needs (the windows' last
            values in "window" mode).
        """
        x = np.asarray(x, dtype=float)
        if self.scaling == "window":
            anchor = x[:, -1:]
            zx = (x - anchor) / self.scale_
            zy = None if y is None else (np.asarray(y, dtype=float) - anchor) / self.scale_
        else:
            anchor = None
            zx = (x - self.center_) / self.scale_
            zy = None if y is None else (np.asarray(y, dtype=float) - self.center_) / self.scale_
        return zx, zy, anchor

    def unscale(self, z: np.ndarray, anchor: np.ndarray | None) -> np.ndarray:
        """Network outputs back to level units."""
        z = np.asarray(z, dtype=float)
        if self.scaling != "window":
            return z * self.scale_ + self.center_
        return anchor + z * self.scale_

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Preprocessor:
        return cls(**data)
