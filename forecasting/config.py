"""Every setting of a run, as frozen dataclasses that round-trip through JSON.

Each setting is declared once, on its field: its range or choices, its help, its CLI summary
and its widget on the Train page (`forecasting.settings.setting`). Validation, the CLI's
flags and the dashboard's widgets are derived from these declarations.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from forecasting.errors import ConfigError
from forecasting.records import parse_json_object
from forecasting.settings import AUTO, Auto, Settings, Widget, setting, setting_fields

CELLS = ("rnn", "lstm", "gru")
CELL_NAMES = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
STRATEGIES = ("recursive", "direct")
SCALINGS = ("auto", "window", "standard", "minmax")
# What "auto" compares on the validation part (pipeline.train keeps the better one).
AUTO_SCALINGS = ("window", "standard")
LOSSES = ("auto", "mse", "mae", "huber")
# What "auto" trains on: one series' network the mean squared error (MAE measured no better,
# README "How it forecasts"); a global network over many series the mean absolute error
# (the scale of M4's sMAPE and MASE; on 1,000 generated hourly series OWA 0.48 -> 0.44, on
# M1 and Tourism monthly and M4 weekly within 0.02 either way: `benchmarks/panel.py`).
SERIES_LOSS = "mse"
# Networks of an automatic ensemble (3 and 5 measured on M4 and Tourism: README "How it
# forecasts"); a panel with long epochs trains two, twice as wide
# (`panel_pipeline.LONG_EPOCH_STEPS`).
SERIES_ENSEMBLE = 5
LONG_EPOCH_ENSEMBLE = 2
PANEL_LOSS = "mae"
# The network alone ("none"), or its mean with Theta / ETS and Theta (forecasting.combination);
# "auto" keeps the one with the lowest error on the validation part.
COMBINES = ("auto", "none", "theta", "ets_theta")
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)  # the dashboard's choices
BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512)  # the dashboard's choices


def _check(condition: bool, name: str, rule: str, value: Any) -> None:
    if not condition:
        raise ConfigError(f"`{name}` {rule}. Received: {name}={value!r}")


@dataclass(frozen=True)
class ModelConfig(Settings):
    """The network and how its inputs are prepared (each field's `setting` says what it does)."""

    cell: str = field(
        default="gru",
        metadata=setting(
            choices=CELLS,
            section="network",
            label="Cell",
            widget=Widget("radio", labels=CELL_NAMES, horizontal=True),
            summary="rnn (SimpleRNN), lstm or gru",
            help="The recurrent layer. SimpleRNN is the classic cell and forgets quickly; LSTM and "
            "GRU have gates that keep information over longer spans (GRU is lighter).",
        ),
    )
    window: int = field(
        default=AUTO,
        metadata=setting(
            range=(2, None),
            section="network",
            label="Window length (steps)",
            widget=Widget("slider", range=(2, 256)),
            auto=Auto(
                "Automatic window",
                "Let the studio choose the window from the seasonal period (two cycles).",
                shown=24,
            ),
            summary="input length (default: 2 seasons)",
            help="How many past steps the network sees to make one forecast (the 'look back' of "
            "the tutorials). Longer windows see more seasonality but leave fewer training "
            "examples.",
        ),
    )
    units: int = field(
        default=32,
        metadata=setting(
            range=(1, 1024),
            section="network",
            label="Units per layer",
            widget=Widget("slider", range=(1, 256)),
            summary="units per recurrent layer",
            help="Size of each recurrent layer. More units can learn more but overfit sooner and "
            "train slower.",
        ),
    )
    layers: int = field(
        default=1,
        metadata=setting(
            range=(1, 8),
            section="network",
            label="Layers",
            widget=Widget("slider", range=(1, 4)),
            summary="stacked recurrent layers",
            help="Recurrent layers stacked on each other. One is usually enough for a single "
            "series.",
        ),
    )
    dropout: float = field(
        default=0.0,
        metadata=setting(
            range=(0, 1),
            bounds="[)",
            section="network",
            label="Dropout",
            widget=Widget("slider", range=(0.0, 0.5), step=0.05),
            summary="dropout after each layer, in [0, 1)",
            help="Fraction of the layer's outputs dropped at random during training, to reduce "
            "overfitting. 0 disables it.",
        ),
    )
    strategy: str = field(
        default="direct",
        metadata=setting(
            choices=STRATEGIES,
            section="network",
            label="Multi-step strategy",
            widget=Widget(
                "radio",
                labels={
                    "direct": "Direct (all steps at once)",
                    "recursive": "Recursive (one step, fed back)",
                },
            ),
            summary="multi-step strategy",
            help="Direct: the network outputs every step of the horizon at once. Recursive: it "
            "predicts one step and feeds it back, step after step.",
        ),
    )
    scaling: str = field(
        default="auto",
        metadata=setting(
            choices=SCALINGS,
            section="advanced",
            label="Scaling",
            widget=Widget(
                "select",
                labels={
                    "auto": "Automatic (the better on validation)",
                    "window": "Per window (last value)",
                    "standard": "Standardize (z-score)",
                    "minmax": "Min-max to [-1, 1]",
                },
            ),
            summary="input scaling (default auto: the better on validation)",
            help="'Per window' feeds each input window as changes from its own last value "
            "(good with trends); 'standardize' and 'min-max' (to [-1, 1]) fit one scaler on the "
            "training part, as in the classic tutorials (good for series that swing around a "
            "stable level). 'Automatic' trains one network each way (per window and "
            "standardize) and keeps the one with the lower error on the validation part.",
        ),
    )
    deseasonalize: bool = field(
        default=True,
        metadata=setting(
            section="advanced",
            label="Remove the seasonal pattern first",
            widget=Widget("checkbox"),
            summary="keep the seasonal pattern (default: removed when one is found)",
            help="Remove a seasonal pattern (learned on the training part) before training, and "
            "add it back to the forecasts.",
        ),
    )
    log: bool = field(
        default=False,
        metadata=setting(
            section="advanced",
            label="Model the logarithm",
            widget=Widget("checkbox"),
            summary="model the logarithm (positive series); forecasts transformed back",
            help="Model the logarithm of a positive series: useful when the swings grow with the "
            "level.",
        ),
    )
    ensemble: int = field(
        default=AUTO,
        metadata=setting(
            range=(1, 10),
            section="advanced",
            label="Networks in the ensemble",
            widget=Widget("slider", range=(1, 5)),
            auto=Auto(
                "Automatic ensemble",
                f"{SERIES_ENSEMBLE} networks; {LONG_EPOCH_ENSEMBLE}, twice as wide, for a panel "
                "of many series whose epochs are long (many windows of many steps), where each "
                "network takes minutes.",
                shown=SERIES_ENSEMBLE,
            ),
            summary=f"networks to train (median; 0: automatic, {SERIES_ENSEMBLE} or "
            f"{LONG_EPOCH_ENSEMBLE} for a large panel)",
            help="Train several networks with different seeds and take the median forecast: "
            "steadier, but slower.",
        ),
    )

    @property
    def members(self) -> int:
        """Networks to train: the ensemble, or `SERIES_ENSEMBLE` when it is automatic."""
        return self.ensemble or SERIES_ENSEMBLE


@dataclass(frozen=True)
class TrainConfig(Settings):
    """How the network is fitted (each field's `setting` says what it does)."""

    epochs: int = field(
        default=100,
        metadata=setting(
            range=(1, 10_000),
            section="training",
            label="Epochs (at most)",
            widget=Widget("slider", range=(1, 500)),
            summary="most training epochs",
            help="Most passes over the training windows. Early stopping usually ends the "
            "training sooner.",
        ),
    )
    batch_size: int = field(
        default=32,
        metadata=setting(
            range=(1, 65_536),
            section="training",
            label="Batch size",
            widget=Widget("select_slider", options=BATCH_SIZES),
            summary="windows per step",
            help="Windows per gradient step. Smaller batches give noisier but more frequent "
            "updates.",
        ),
    )
    learning_rate: float = field(
        default=0.003,
        metadata=setting(
            range=(0, 1),
            bounds="(]",
            section="training",
            label="Learning rate",
            widget=Widget(
                "select_slider",
                options=LEARNING_RATES,
                labels={rate: f"{rate:g}" for rate in LEARNING_RATES},
            ),
            summary="Adam learning rate",
            help="Step size of the Adam optimiser. Lower it if the loss jumps around or becomes "
            "NaN.",
        ),
    )
    patience: int = field(
        default=10,
        metadata=setting(
            range=(0, None),
            section="training",
            label="Early-stopping patience (epochs)",
            widget=Widget("slider", range=(0, 50)),
            summary="early-stopping patience",
            help="Stop when the validation loss has not improved for this many epochs; the best "
            "weights are kept. 0 disables early stopping.",
        ),
    )
    seed: int = field(
        default=42,
        metadata=setting(
            range=(0, 2**31 - 1),
            rule="must be between 0 and 2**31 - 1",
            section="training",
            label="Seed",
            widget=Widget("number"),
            summary="random seed (repeatable runs)",
            help="Seed of the weights, shuffling and dropout. The same seed repeats a run.",
        ),
    )
    clipnorm: float = field(
        default=1.0,
        metadata=setting(
            range=(0, None),
            section="advanced",
            label="Gradient clipping (norm)",
            widget=Widget("slider", range=(0.0, 5.0), step=0.5),
            summary="gradient norm clipping (0 disables it)",
            help="Largest norm of a gradient: larger gradients are scaled down to it, which keeps "
            "one unusual batch from throwing the weights off. 0 disables clipping.",
        ),
    )
    validation_fraction: float = field(
        default=0.15,
        metadata=setting(
            range=(0, 0.5),
            bounds="()",
            section="advanced",
            label="Validation fraction",
            widget=Widget("slider", range=(0.05, 0.45), step=0.05),
            summary="training tail kept to stop early and calibrate",
            help="Share of the training part, at its end, kept aside to stop early, choose the "
            "scaling and calibrate the prediction bands.",
        ),
    )
    loss: str = field(
        default="auto",
        metadata=setting(
            choices=LOSSES,
            section="advanced",
            label="Loss",
            widget=Widget(
                "select",
                labels={
                    "auto": "Automatic (absolute error for many series, squared for one)",
                    "mse": "Mean squared error",
                    "mae": "Mean absolute error (robust to spikes)",
                    "huber": "Huber (in between)",
                },
            ),
            summary="training loss (auto: mae for many series, mse for one)",
            help="What the training minimises: the mean squared error, the mean absolute error "
            "(robust to spikes) or Huber's loss (in between). Automatic: the absolute error "
            "for a global network over many series, the squared error for one series.",
        ),
    )


@dataclass(frozen=True)
class RunConfig(Settings):
    """A whole run: what to forecast, the network (`model`) and its training (`train`).

    Each setting field's `setting` says what it does; `setting_fields(RunConfig)` lists them
    all, nested ones included.
    """

    horizon: int = field(
        default=AUTO,
        metadata=setting(
            range=(1, 1000),
            section="forecast",
            label="Horizon (steps ahead)",
            widget=Widget("slider", range=(1, 180)),
            auto=Auto(
                "Automatic horizon",
                "Forecast one seasonal cycle ahead (12 months, 7 days, 24 hours, ...).",
                shown=12,
            ),
            summary="steps to forecast (default: one seasonal cycle)",
            help="How many steps ahead to forecast.",
        ),
    )
    test_size: float = field(
        default=0.2,
        metadata=setting(
            range=(0, 0.9),
            bounds="()",
            section="forecast",
            label="Test fraction",
            widget=Widget("slider", range=(0.05, 0.5), step=0.05),
            summary="fraction held out for testing",
            help="Share of the series, at its end, held out to test the network and the "
            "baselines (at least the horizon). It is never used for training.",
        ),
    )
    level: float = field(
        default=0.95,
        metadata=setting(
            range=(0.5, 1),
            bounds="[)",
            section="forecast",
            label="Prediction band level",
            widget=Widget("slider", range=(0.5, 0.99), step=0.01, format="%.2f"),
            summary="prediction interval coverage, e.g. 0.9",
            help="Nominal coverage of the prediction band: 0.9 means 90% of future values should "
            "fall inside it. Forecast files use this level; the charts also show 80% and 95% "
            "bands.",
        ),
    )
    combine: str = field(
        default="auto",
        metadata=setting(
            choices=COMBINES,
            section="advanced",
            label="Combine with Theta and ETS",
            widget=Widget(
                "select",
                labels={
                    "auto": "Automatic (the best on validation)",
                    "none": "Network alone",
                    "theta": "Mean of the network and Theta",
                    "ets_theta": "Mean of the network, ETS and Theta",
                },
            ),
            summary="forecast: auto (the best on validation), none (network alone), theta or "
            "ets_theta (means)",
            help="The forecast delivered: the network alone, or its mean with the Theta method "
            "(and ETS). Combinations often beat each method alone (the M4 competition's "
            "lesson). 'Automatic' scores the three on the validation part and keeps the one "
            "with the lowest error (with 4 validation forecasts or fewer, too few to choose "
            "on, the mean of all three); a network that reads covariates stays alone.",
        ),
    )
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(isinstance(self.model, ModelConfig), "model", "must be a ModelConfig", self.model)
        _check(isinstance(self.train, TrainConfig), "train", "must be a TrainConfig", self.train)

    def with_settings(self, **settings) -> RunConfig:
        """A copy with flat settings routed to the right part: `cell=` to model, `epochs=` to
        train, `horizon=` to the run. `None` values are ignored (unset CLI options)."""
        parts: dict[type, dict[str, Any]] = {RunConfig: {}, ModelConfig: {}, TrainConfig: {}}
        owners = {item.name: item.owner for item in setting_fields(RunConfig)}
        for name, value in settings.items():
            if value is None:
                continue
            if name not in owners:
                raise ConfigError(f"Unknown setting `{name}`.")
            parts[owners[name]][name] = value
        return dataclasses.replace(
            self,
            model=self.model.replace(**parts[ModelConfig]),
            train=self.train.replace(**parts[TrainConfig]),
            **parts[RunConfig],
        )


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
        raise ConfigError('The "data" part of the configuration file must be an object.')
    return RunConfig.from_dict(data), data_options
