"""Every setting of a run, as frozen dataclasses that round-trip through JSON."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from forecasting.errors import ConfigError
from forecasting.records import JsonRecord, parse_json_object

CELLS = ("rnn", "lstm", "gru")
CELL_NAMES = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
STRATEGIES = ("recursive", "direct")
SCALINGS = ("auto", "window", "standard", "minmax")
# What "auto" compares on the validation part (pipeline.train keeps the better one).
AUTO_SCALINGS = ("window", "standard")
LOSSES = ("mse", "mae", "huber")
AUTO = 0  # window / horizon value meaning "derive from the seasonal period"


def _check(condition: bool, name: str, rule: str, value: Any) -> None:
    if not condition:
        raise ConfigError(f"`{name}` {rule}. Received: {name}={value!r}")


@dataclass(frozen=True)
class ModelConfig(JsonRecord):
    """The network and how its inputs are prepared.

    Attributes:
        cell: "rnn" (SimpleRNN), "lstm" or "gru".
        window: Input length in steps; 0 derives it from the season (two cycles).
        units: Units of each recurrent layer.
        layers: Number of stacked recurrent layers.
        dropout: Dropout after each recurrent layer (0 disables it).
        strategy: "direct" (one output per lead time) or "recursive" (one step fed back).
        scaling: "window" scales each input window as differences from its own last value
            (so the network learns changes, not levels: good with trends); "standard" and
            "minmax" fit one global scaler on the training part (the tutorial way: good for
            series that swing around a stable level); "auto" trains with "window" and with
            "standard" and keeps the one with the lower error on the validation part.
        deseasonalize: Remove a seasonal pattern (fit on the training part) when one is found.
        log: Model the logarithm of positive series; forecasts are transformed back.
        ensemble: Number of networks trained with different seeds; forecasts take their median.
    """

    cell: str = "gru"
    window: int = AUTO
    units: int = 32
    layers: int = 1
    dropout: float = 0.0
    strategy: str = "direct"
    scaling: str = "auto"
    deseasonalize: bool = True
    log: bool = False
    ensemble: int = 5

    def __post_init__(self) -> None:
        _check(self.cell in CELLS, "cell", f"must be one of {', '.join(CELLS)}", self.cell)
        _check(isinstance(self.window, int) and (self.window == AUTO or self.window >= 2),
               "window", "must be at least 2 (or 0 for automatic)", self.window)
        _check(isinstance(self.units, int) and 1 <= self.units <= 1024, "units",
               "must be between 1 and 1024", self.units)
        _check(isinstance(self.layers, int) and 1 <= self.layers <= 8, "layers",
               "must be between 1 and 8", self.layers)
        _check(0.0 <= self.dropout < 1.0, "dropout", "must be in [0, 1)", self.dropout)
        _check(self.strategy in STRATEGIES, "strategy",
               f"must be one of {', '.join(STRATEGIES)}", self.strategy)
        _check(self.scaling in SCALINGS, "scaling", f"must be one of {', '.join(SCALINGS)}",
               self.scaling)
        _check(isinstance(self.ensemble, int) and 1 <= self.ensemble <= 10, "ensemble",
               "must be between 1 and 10", self.ensemble)


@dataclass(frozen=True)
class TrainConfig(JsonRecord):
    """How the network is fitted.

    Attributes:
        epochs: Maximum passes over the training windows.
        batch_size: Windows per gradient step.
        learning_rate: Adam step size.
        patience: Epochs without validation improvement before stopping (0 disables it).
        seed: Seed of weights, shuffling and dropout; the same seed repeats a run.
        clipnorm: Gradient norm clipping (0 disables it).
        validation_fraction: Tail of the training part used to stop early and calibrate.
        loss: "mse", "mae" (robust to spikes) or "huber" (in between).
    """

    epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 0.003
    patience: int = 10
    seed: int = 42
    clipnorm: float = 1.0
    validation_fraction: float = 0.15
    loss: str = "mse"

    def __post_init__(self) -> None:
        _check(isinstance(self.epochs, int) and 1 <= self.epochs <= 10_000, "epochs",
               "must be between 1 and 10000", self.epochs)
        _check(isinstance(self.batch_size, int) and 1 <= self.batch_size <= 65_536,
               "batch_size", "must be between 1 and 65536", self.batch_size)
        _check(0 < self.learning_rate <= 1, "learning_rate", "must be in (0, 1]",
               self.learning_rate)
        _check(isinstance(self.patience, int) and self.patience >= 0, "patience",
               "must be 0 or more", self.patience)
        _check(isinstance(self.seed, int) and 0 <= self.seed < 2**31, "seed",
               "must be between 0 and 2**31 - 1", self.seed)
        _check(self.clipnorm >= 0, "clipnorm", "must be 0 or more", self.clipnorm)
        _check(0 < self.validation_fraction < 0.5, "validation_fraction",
               "must be in (0, 0.5)", self.validation_fraction)
        _check(self.loss in LOSSES, "loss", f"must be one of {', '.join(LOSSES)}", self.loss)


@dataclass(frozen=True)
class RunConfig(JsonRecord):
    """A whole run: what to forecast, the network and its training.

    Attributes:
        horizon: Steps to forecast; 0 derives it from the season (one cycle).
        test_size: Fraction of the series held out at the end for testing (at least the
            horizon).
        level: Coverage of the prediction interval in forecast files (0.95 -> 95%); the
            dashboard also shows 80% and 95% bands.
        model: The network settings.
        train: The training settings.
    """

    horizon: int = AUTO
    test_size: float = 0.2
    level: float = 0.95
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        _check(isinstance(self.horizon, int) and 0 <= self.horizon <= 1000, "horizon",
               "must be between 1 and 1000 (or 0 for automatic)", self.horizon)
        _check(0 < self.test_size < 0.9, "test_size", "must be in (0, 0.9)", self.test_size)
        _check(0.5 <= self.level < 1, "level", "must be in [0.5, 1)", self.level)
        _check(isinstance(self.model, ModelConfig), "model", "must be a ModelConfig",
               self.model)
        _check(isinstance(self.train, TrainConfig), "train", "must be a TrainConfig",
               self.train)

    def with_settings(self, **settings) -> RunConfig:
        """A copy with flat settings routed to the right part: `cell=` to model, `epochs=` to
        train, `horizon=` to the run. `None` values are ignored (unset CLI options)."""
        model_names = {f.name for f in dataclasses.fields(ModelConfig)}
        train_names = {f.name for f in dataclasses.fields(TrainConfig)}
        run, model, train = {}, {}, {}
        for name, value in settings.items():
            if value is None:
                continue
            if name in model_names:
                model[name] = value
            elif name in train_names:
                train[name] = value
            elif name in {"horizon", "test_size", "level"}:
                run[name] = value
            else:
                raise ConfigError(f"Unknown setting `{name}`.")
        return dataclasses.replace(self, model=self.model.replace(**model),
                                   train=self.train.replace(**train), **run)


def run_file_text(config: RunConfig, data_options: dict | None = None) -> str:
    """The run configuration file a user downloads: the run settings plus, under "data",
    how the data file was read. `forecasting train DATA --config FILE` reproduces the run."""
    data = config.to_dict()
    if data_options is not None:
        data["data"] = data_options
    return json.dumps(data, indent=2, sort_keys=True)


def read_run_file(text: str) -> tuple[RunConfig, dict | None]:
    """Parse a run configuration file into the run settings and the data options (or None).

    Raises:
        ConfigError: Not JSON, not an object, or an unknown or invalid setting.
    """
    data = parse_json_object(text)
    data_options = data.pop("data", None)
    if data_options is not None and not isinstance(data_options, dict):
        raise ConfigError("The \"data\" part of the configuration file must be an object.")
    return RunConfig.from_dict(data), data_options
