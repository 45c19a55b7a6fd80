"""Each setting declared once: validation, the CLI's flags and the Train page's widgets all
cover exactly the config fields, and agree with each other."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from forecasting.cli import build_parser
from forecasting.config import AUTO, ModelConfig, RunConfig, TrainConfig
from forecasting.errors import ConfigError
from forecasting.settings import (
    SECTIONS,
    Settings,
    auto_key,
    config_from_widgets,
    setting_fields,
    widget_defaults,
    widget_key,
)
from forecasting.ui_text import HELP

SETTINGS = setting_fields(RunConfig)
NAMES = [item.name for item in SETTINGS]
WIDGET_KINDS = {"slider", "select_slider", "radio", "select", "number", "checkbox"}
CUSTOM = RunConfig().with_settings(
    horizon=7,
    test_size=0.25,
    level=0.8,
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
    epochs=17,
    batch_size=8,
    learning_rate=0.01,
    patience=4,
    seed=123,
    clipnorm=0.0,
    validation_fraction=0.2,
    loss="huber",
)


def _config_fields() -> list[str]:
    """Every field of the config classes that is not itself a config."""
    return [
        f.name
        for cls in (RunConfig, ModelConfig, TrainConfig)
        for f in dataclasses.fields(cls)
        if f.name not in ("model", "train")
    ]


def _model_flags(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The setting flags of a subcommand, by destination."""
    group = next(g for g in parser._action_groups if g.title.startswith("model"))
    return {action.dest: action for action in group._group_actions if action.dest != "config"}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(commands.choices)


def test_every_config_field_is_a_declared_setting():
    assert sorted(NAMES) == sorted(_config_fields())
    assert len(set(NAMES)) == len(NAMES), "a setting name is used twice"


@pytest.mark.parametrize("command", ["train", "forecast", "backtest"])
def test_cli_flags_cover_exactly_the_settings(command):
    flags = _model_flags(_subcommands()[command])
    assert list(flags) == NAMES
    for item in SETTINGS:
        action = flags[item.name]
        assert action.help == item.setting.summary
        assert action.default is None  # unset flags keep a --config file's value
        if item.setting.choices is not None:
            assert tuple(action.choices) == item.setting.choices


def test_cli_flags_are_named_after_the_fields():
    flags = _model_flags(_subcommands()["train"])
    assert flags["batch_size"].option_strings == ["--batch-size"]
    assert flags["log"].option_strings == ["--log"]  # off by default: the flag turns it on
    assert flags["deseasonalize"].option_strings == ["--no-deseasonalize"]


def test_train_page_widgets_and_help_cover_exactly_the_settings():
    widgets = widget_defaults(RunConfig())
    autos = [item.name for item in SETTINGS if item.setting.auto]
    assert autos == ["horizon", "window", "ensemble"]
    assert set(widgets) == {widget_key(n) for n in NAMES} | {auto_key(n) for n in autos}
    for item in SETTINGS:
        spec = item.setting
        assert spec.label and spec.help and spec.summary, item.name
        assert spec.section in SECTIONS and spec.widget.kind in WIDGET_KINDS, item.name
        assert item.name not in HELP, f"{item.name}'s help is declared on its field"
        if spec.auto:
            assert spec.auto.label and spec.auto.help


@pytest.mark.parametrize("item", SETTINGS, ids=NAMES)
def test_widget_choices_are_valid_and_show_the_default(item):
    """Every value a widget offers passes validation, and the widget can show the default."""
    spec, widget, kind = item.setting, item.setting.widget, item.kind
    shown = widget_defaults(RunConfig())[widget_key(item.name)]
    assert spec.accepts(shown, kind)
    if widget.kind in ("slider", "number"):
        low, high = widget.range or spec.range
        assert spec.accepts(kind(low), kind) and spec.accepts(kind(high), kind)
        assert low <= shown <= high
        if widget.step:  # the default is on the slider's grid
            assert (shown - low) / widget.step == pytest.approx(round((shown - low) / widget.step))
    elif widget.kind == "select_slider":
        assert all(spec.accepts(v, kind) for v in widget.options) and shown in widget.options
    elif widget.kind in ("radio", "select"):
        assert spec.choices and shown in spec.choices
        assert widget.labels is None or set(widget.labels) == set(spec.choices)
    else:
        assert kind is bool


@pytest.mark.parametrize("config", [RunConfig(), CUSTOM])
def test_widgets_round_trip_a_config(config):
    assert config_from_widgets(RunConfig(), widget_defaults(config)) == config


def test_automatic_toggles_give_auto():
    values = widget_defaults(CUSTOM)
    assert not values[auto_key("window")] and values[widget_key("window")] == 21
    values[auto_key("window")] = values[auto_key("horizon")] = True
    config = config_from_widgets(RunConfig(), values)
    assert config.model.window == AUTO and config.horizon == AUTO
    assert widget_defaults(RunConfig())[widget_key("window")] == 24  # shown until the plan


def test_widget_values_are_converted_to_the_field_type():
    values = {**widget_defaults(RunConfig()), widget_key("units"): 8.0, widget_key("seed"): 7.0}
    config = config_from_widgets(RunConfig(), values)
    assert config.model.units == 8 and isinstance(config.model.units, int)
    assert config.train.seed == 7 and isinstance(config.train.seed, int)


@pytest.mark.parametrize(
    ("cls", "name", "value", "message"),
    [
        (ModelConfig, "dropout", "x", "`dropout` must be in [0, 1). Received: dropout='x'"),
        (TrainConfig, "clipnorm", None, "`clipnorm` must be 0 or more. Received: clipnorm=None"),
        (ModelConfig, "log", 1, "`log` must be true or false. Received: log=1"),
        (
            ModelConfig,
            "window",
            1,
            "`window` must be at least 2 (or 0 for automatic). Received: window=1",
        ),
        (
            RunConfig,
            "horizon",
            1001,
            "`horizon` must be between 1 and 1000 (or 0 for automatic). Received: horizon=1001",
        ),
        (
            TrainConfig,
            "loss",
            "l1",
            "`loss` must be one of auto, mse, mae, huber. Received: loss='l1'",
        ),
    ],
)
def test_messages_come_from_the_declaration(cls, name, value, message):
    with pytest.raises(ConfigError) as info:
        cls(**{name: value})
    assert str(info.value) == message


def test_min_max_texts_say_what_the_scaler_does():
    """preprocessing.py scales min-max to [-1, 1] (tested in test_preprocessing.py)."""
    scaling = next(item.setting for item in SETTINGS if item.name == "scaling")
    assert "[-1, 1]" in scaling.widget.labels["minmax"] and "[-1, 1]" in scaling.help
    assert "[0, 1]" not in scaling.widget.labels["minmax"] + scaling.help


def test_settings_of_a_part_are_its_own_fields():
    assert [item.name for item in setting_fields(RunConfig, nested=False)] == [
        "horizon",
        "test_size",
        "level",
        "combine",
    ]
    assert all(issubclass(cls, Settings) for cls in (RunConfig, ModelConfig, TrainConfig))
    owners = {item.name: item.owner for item in SETTINGS}
    assert owners["cell"] is ModelConfig and owners["epochs"] is TrainConfig
    assert owners["level"] is RunConfig and owners["combine"] is RunConfig
