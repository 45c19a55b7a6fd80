"""Frozen settings: JSON round trips, validation messages, routing of flat settings."""

from __future__ import annotations

import dataclasses
import json

import pytest

from forecasting.config import (
    AUTO,
    ModelConfig,
    RunConfig,
    TrainConfig,
    read_run_file,
    run_file_text,
)
from forecasting.errors import ConfigError

CUSTOM = RunConfig(
    horizon=7,
    test_size=0.25,
    level=0.8,
    model=ModelConfig(
        cell="lstm",
        window=21,
        units=16,
        layers=2,
        dropout=0.1,
        strategy="recursive",
        scaling="minmax",
        deseasonalize=False,
        log=True,
        ensemble=3,
    ),
    train=TrainConfig(
        epochs=17,
        batch_size=8,
        learning_rate=0.01,
        patience=4,
        seed=123,
        clipnorm=0.0,
        validation_fraction=0.2,
    ),
)


@pytest.mark.parametrize("config", [RunConfig(), CUSTOM])
def test_run_config_json_round_trip(config):
    text = config.to_json()
    assert json.loads(text)["model"]["cell"] == config.model.cell
    again = RunConfig.from_json(text)
    assert again == config
    assert RunConfig.from_dict(config.to_dict()) == config
    assert again.to_json() == text


@pytest.mark.parametrize("config", [ModelConfig(), CUSTOM.model, TrainConfig(), CUSTOM.train])
def test_part_configs_round_trip(config):
    cls = type(config)
    assert cls.from_json(config.to_json()) == config
    assert cls.from_dict(config.to_dict()) == config


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunConfig().horizon = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelConfig().cell = "lstm"  # type: ignore[misc]


def test_defaults_and_missing_keys():
    assert RunConfig.from_dict({}) == RunConfig()
    assert RunConfig.from_dict(None) == RunConfig()
    partial = RunConfig.from_dict({"model": {"cell": "rnn"}, "train": {"epochs": 5}})
    assert partial.model == ModelConfig(cell="rnn")
    assert partial.train == TrainConfig(epochs=5)
    assert RunConfig().horizon == AUTO and ModelConfig().window == AUTO


@pytest.mark.parametrize(
    ("cls", "name", "value", "rule"),
    [
        (ModelConfig, "window", 1, "must be at least 2"),
        (ModelConfig, "window", -3, "must be at least 2"),
        (ModelConfig, "cell", "transformer", "must be one of rnn, lstm, gru"),
        (ModelConfig, "units", 0, "must be between 1 and 1024"),
        (ModelConfig, "layers", 9, "must be between 1 and 8"),
        (ModelConfig, "dropout", 1.0, "must be in [0, 1)"),
        (ModelConfig, "dropout", 2, "must be in [0, 1)"),
        (ModelConfig, "strategy", "mimo", "must be one of recursive, direct"),
        (ModelConfig, "scaling", "robust", "must be one of auto, window, standard, minmax"),
        (ModelConfig, "ensemble", 11, "must be between 1 and 10"),
        (TrainConfig, "epochs", 0, "must be between 1 and 10000"),
        (TrainConfig, "batch_size", 0, "must be between 1 and 65536"),
        (TrainConfig, "learning_rate", 0, "must be in (0, 1]"),
        (TrainConfig, "learning_rate", 1.5, "must be in (0, 1]"),
        (TrainConfig, "patience", -1, "must be 0 or more"),
        (TrainConfig, "seed", -1, "must be between 0 and 2**31 - 1"),
        (TrainConfig, "clipnorm", -0.5, "must be 0 or more"),
        (TrainConfig, "validation_fraction", 0.5, "must be in (0, 0.5)"),
        (RunConfig, "horizon", 1001, "must be between 1 and 1000"),
        (RunConfig, "horizon", -1, "must be between 1 and 1000"),
        (RunConfig, "test_size", 0.95, "must be in (0, 0.9)"),
        (RunConfig, "level", 0.3, "must be in [0.5, 1)"),
        (RunConfig, "level", 1.0, "must be in [0.5, 1)"),
    ],
)
def test_error_names_the_setting_and_the_value(cls, name, value, rule):
    with pytest.raises(ConfigError) as info:
        cls(**{name: value})
    message = str(info.value)
    assert message.startswith(f"`{name}` {rule}")
    assert message.endswith(f"Received: {name}={value!r}")
    # The same check runs when the value comes from JSON.
    with pytest.raises(ConfigError, match=f"Received: {name}="):
        cls.from_dict({name: value})


def test_window_message_like_keras():
    with pytest.raises(ConfigError) as info:
        ModelConfig(window=1)
    assert "`window` must be at least 2" in str(info.value)
    assert "Received: window=1" in str(info.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("window", 2.5), ("units", "8"), ("epochs", 3.0), ("horizon", "12"), ("ensemble", 1.5)],
)
def test_wrong_types_are_refused(name, value):
    config = RunConfig()
    with pytest.raises(ConfigError, match=f"`{name}`"):
        config.with_settings(**{name: value})


@pytest.mark.parametrize(
    ("data", "unknown"),
    [
        ({"horizon": 3, "colour": "red"}, "colour"),
        ({"model": {"cells": "gru"}}, "cells"),
        ({"train": {"epoch": 3}}, "epoch"),
    ],
)
def test_unknown_keys_are_refused(data, unknown):
    with pytest.raises(ConfigError) as info:
        RunConfig.from_dict(data)
    assert unknown in str(info.value)
    assert "Known settings" in str(info.value)


def test_invalid_json_text():
    with pytest.raises(ConfigError, match="not valid JSON"):
        RunConfig.from_json("{horizon: 3")
    with pytest.raises(ConfigError, match="object"):
        RunConfig.from_json("[1, 2]")
    # A nested part that is not an object is a ConfigError too (it was a bare ValueError /
    # TypeError, which the CLI and the bundle loader do not turn into a clean message).
    with pytest.raises(ConfigError, match="ModelConfig must be an object"):
        RunConfig.from_dict({"model": "gru"})
    with pytest.raises(ConfigError, match="TrainConfig must be an object"):
        RunConfig.from_dict({"train": 3})


def test_with_settings_routes_flat_settings():
    config = RunConfig().with_settings(
        cell="lstm", window=10, epochs=3, seed=7, horizon=5, test_size=0.3, level=0.95, dropout=None
    )
    assert config.model.cell == "lstm" and config.model.window == 10
    assert config.train.epochs == 3 and config.train.seed == 7
    assert (config.horizon, config.test_size, config.level) == (5, 0.3, 0.95)
    assert config.model.dropout == ModelConfig().dropout  # None means "not set"
    # Everything else is untouched, and the original object is unchanged.
    assert config.model.units == ModelConfig().units
    assert RunConfig().model.cell == ModelConfig().cell
    with pytest.raises(ConfigError, match="`colour`"):
        RunConfig().with_settings(colour="red")
    with pytest.raises(ConfigError, match="Received: dropout=2"):
        RunConfig().with_settings(dropout=2)


def test_replace_validates_again():
    with pytest.raises(ConfigError, match="Received: units=0"):
        ModelConfig().replace(units=0)
    assert ModelConfig().replace(units=3).units == 3


@pytest.mark.parametrize(
    "data_options", [None, {"date_col": "month", "sep": ";", "dayfirst": True}]
)
def test_run_file_round_trip(data_options):
    text = run_file_text(CUSTOM, data_options)
    config, options = read_run_file(text)
    assert config == CUSTOM
    assert options == data_options


def test_read_run_file_refusals():
    with pytest.raises(ConfigError, match="not valid JSON"):
        read_run_file("not json")
    with pytest.raises(ConfigError, match="object"):
        read_run_file("3")
    with pytest.raises(ConfigError, match='"data"'):
        read_run_file(json.dumps({"data": [1]}))
    with pytest.raises(ConfigError, match="Received: window=1"):
        read_run_file(json.dumps({"model": {"window": 1}}))
