"""What a setting is: one declaration per config field, read by validation, the CLI and the
dashboard.

A config field carries its rule (range or choices), its texts and its widget in the field's
metadata: `units: int = field(default=32, metadata=setting(range=(1, 1024), ...))`.
`Settings.__post_init__` validates every such field, `forecasting.cli` builds its flags from
them and the Train page draws its widgets from them, so adding a setting is one edit.
"""

from __future__ import annotations

import dataclasses
import numbers
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from forecasting.errors import ConfigError
from forecasting.records import JsonRecord

AUTO = 0  # window / horizon value meaning "derive from the seasonal period"
SECTIONS = ("network", "training", "forecast", "advanced")  # the Train page's groups


@dataclass(frozen=True)
class Widget:
    """How the Train page draws a setting.

    Attributes:
        kind: "slider", "select_slider", "radio", "select", "number" or "checkbox".
        range: Slider or number bounds where they differ from the validation range.
        step: Slider step (floats).
        options: Values of a select slider.
        labels: Display text of each value (radio, select, select slider).
        format: Printf-style number format of a slider, e.g. "%.2f".
        horizontal: Radio buttons in a row.
    """

    kind: str
    range: tuple | None = None
    step: float | None = None
    options: tuple | None = None
    labels: dict | None = None
    format: str | None = None
    horizontal: bool = False


@dataclass(frozen=True)
class Auto:
    """A setting that `AUTO` (0) derives from the data, shown as a toggle above its widget.

    Attributes:
        label: Label of the toggle.
        help: Help of the toggle.
        shown: Value the widget shows before the data decides it.
    """

    label: str
    help: str
    shown: int


@dataclass(frozen=True)
class Setting:
    """One setting's declaration (see `setting`)."""

    label: str
    help: str
    summary: str
    widget: Widget
    section: str
    range: tuple | None = None
    bounds: str = "[]"
    choices: tuple | None = None
    auto: Auto | None = None
    rule: str | None = None

    def rule_text(self, kind: type) -> str:
        """The rule as error messages state it, e.g. "must be between 1 and 1024"."""
        if self.rule:
            return self.rule
        if self.choices is not None:
            return f"must be one of {', '.join(map(str, self.choices))}"
        if kind is bool:
            return "must be true or false"
        low, high = self.range
        if high is None:
            text = "must be 0 or more" if low == 0 else f"must be at least {low}"
        elif kind is int:
            text = f"must be between {low} and {high}"
        else:
            text = f"must be in {self.bounds[0]}{low}, {high}{self.bounds[1]}"
        return f"{text} (or {AUTO} for automatic)" if self.auto else text

    def accepts(self, value: Any, kind: type) -> bool:
        """Whether `value` is of the field's type and inside its range or choices."""
        if kind is bool:
            return isinstance(value, bool)
        if kind is str:
            return value in self.choices
        if not isinstance(value, int if kind is int else numbers.Real):
            return False
        if self.auto and value == AUTO:
            return True
        if self.choices is not None:
            return value in self.choices
        low, high = self.range
        above = value > low if self.bounds[0] == "(" else value >= low
        below = high is None or (value < high if self.bounds[1] == ")" else value <= high)
        return above and below


def setting(
    *,
    label: str,
    help: str,
    summary: str,
    widget: Widget,
    section: str,
    range: tuple | None = None,
    bounds: str = "[]",
    choices: tuple | None = None,
    auto: Auto | None = None,
    rule: str | None = None,
) -> dict[str, Setting]:
    """The metadata of a config field that is a setting.

    Args:
        label: The dashboard's label.
        help: The dashboard's help text: what the setting does, in plain words.
        summary: One line for `forecasting --help`.
        widget: How the Train page draws it.
        section: Where the Train page shows it (one of `SECTIONS`).
        range: Valid `(low, high)`; `high` None for no upper bound.
        bounds: Closed or open ends of `range`: "[]", "[)", "(]" or "()".
        choices: The valid values (instead of a range).
        auto: Whether `AUTO` (0) is also valid, and the toggle that sets it.
        rule: The rule's text in error messages, where the generated one reads badly.

    Returns:
        `{"setting": Setting(...)}`, to pass as `dataclasses.field(metadata=...)`.
    """
    if section not in SECTIONS:
        raise ValueError(f"Unknown section {section!r}; expected one of {SECTIONS}.")
    return {
        "setting": Setting(
            label, help, summary, widget, section, range, bounds, choices, auto, rule
        )
    }


@dataclass(frozen=True)
class SettingField:
    """A setting as found on a config class: its name, declaration, default and type."""

    name: str
    setting: Setting
    default: Any
    owner: type

    @property
    def kind(self) -> type:
        """The value's type: bool, int, float or str (from the default)."""
        return type(self.default)


class Settings(JsonRecord):
    """Base of the config classes: validates every setting field on construction."""

    def __post_init__(self) -> None:
        for item in setting_fields(type(self), nested=False):
            value = getattr(self, item.name)
            if not item.setting.accepts(value, item.kind):
                raise ConfigError(
                    f"`{item.name}` {item.setting.rule_text(item.kind)}. "
                    f"Received: {item.name}={value!r}"
                )


@cache
def setting_fields(cls: type, nested: bool = True) -> tuple[SettingField, ...]:
    """The settings of a config class in declaration order, those of nested configs in place.

    Args:
        cls: A `Settings` dataclass.
        nested: Include the settings of fields that are themselves `Settings`.
    """
    hints = typing.get_type_hints(cls)
    found: list[SettingField] = []
    for f in dataclasses.fields(cls):
        if "setting" in f.metadata:
            found.append(SettingField(f.name, f.metadata["setting"], f.default, cls))
        elif nested and isinstance(hints[f.name], type) and issubclass(hints[f.name], Settings):
            found.extend(setting_fields(hints[f.name]))
    return tuple(found)


def widget_key(name: str) -> str:
    """The dashboard's session key of a setting's widget."""
    return f"p_{name}"


def auto_key(name: str) -> str:
    """The dashboard's session key of a setting's "automatic" toggle."""
    return f"p_auto_{name}"


def flat_values(config: Settings) -> dict[str, Any]:
    """Every setting of `config` (nested configs included) by name."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, Settings):
            values.update(flat_values(value))
        elif "setting" in f.metadata:
            values[f.name] = value
    return values


def widget_defaults(config: Settings) -> dict[str, Any]:
    """The value of every setting widget (and automatic toggle) for `config`, by session key."""
    values = flat_values(config)
    widgets: dict[str, Any] = {}
    for item in setting_fields(type(config)):
        value = values[item.name]
        if item.setting.auto:
            widgets[auto_key(item.name)] = value == AUTO
            value = value or item.setting.auto.shown
        widgets[widget_key(item.name)] = value
    return widgets


def config_from_widgets(base: Settings, values: typing.Mapping[str, Any]) -> Settings:
    """The config the widgets describe: `base` with every setting read from `values`.

    Args:
        base: The config (a `RunConfig`) whose `with_settings` routes flat settings.
        values: Widget values by session key (`widget_defaults`' keys), e.g. session state.

    Raises:
        ConfigError: A value out of range.
    """
    settings = {}
    for item in setting_fields(type(base)):
        if item.setting.auto and values[auto_key(item.name)]:
            settings[item.name] = AUTO
        else:
            settings[item.name] = item.kind(values[widget_key(item.name)])
    return base.with_settings(**settings)
