"""Help texts of the dashboard's controls, in one place so they read alike.

Plain strings only (no Streamlit import); the pages pass them as `help=`. The run settings'
help texts are declared with the settings themselves (`forecasting.config`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forecasting.results import RunResult

# Characters with a meaning in Streamlit's Markdown: CommonMark and GitHub's specials, Streamlit's
# `:material/...:` icons and `:red[...]` colours, and `$` (LaTeX).
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]()#+\-.!|<>{}~:$=^\"'&])")

WORD_JOINER = "\u2060"
_AUTOLINK_STARTS = re.compile(r":/|www\.|@", re.IGNORECASE)


def md(text: object) -> str:
    """User-provided text (a column, file, sheet or series name, a run label, an error message
    that embeds one) made literal for Markdown: every special character is backslash-escaped
    and line breaks become spaces, so `![t](http://host/x.png)` shows as typed, never as an
    image, a link, a heading or a list."""
    flat = " ".join(str(text).splitlines())
    # GitHub's autolinks are found in the text after escapes are resolved: an invisible
    # word joiner keeps `http://...`, `www.` and `a@b.c` from becoming links.
    flat = _AUTOLINK_STARTS.sub(lambda m: m[0][:-1] + WORD_JOINER + m[0][-1], flat)
    return _MARKDOWN_SPECIALS.sub(r"\\\1", flat)


def plot_text(text: object) -> str:
    """User-provided text made literal for Plotly titles, axis labels and legend names, which
    render a subset of HTML (`<a href>`, `<b>`, entities): `&`, `<` and `>` become entities."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


HELP = {
    # Data
    "source": "Start with a built-in sample, or bring your own file. Nothing you had is lost "
    "when a new file cannot be read.",
    "sample": "Small generated data sets that run offline. Each shows something typical: a "
    "seasonal pattern, gaps, several columns.",
    "upload": "CSV, TSV, Excel (.xlsx) or Parquet, up to 50 MB. The format is recognised from "
    "the content; the separator, decimal mark and date format are detected.",
    "date_col": "The column with the timestamps. Columns that read as dates are listed, best "
    "first; separate year/month/day/hour columns are combined into one.",
    "value_col": "The numeric column to forecast. The other numeric columns are kept aside.",
    "fill": "How missing values and absent timestamps are filled. 'linear' and 'time' "
    "interpolate, 'seasonal' uses the same moment of the previous cycle, 'ffill' "
    "repeats the last value, 'none' refuses a series with gaps.",
    "aggregate": "How rows that share a timestamp are merged into one.",
    "resample": "Make the series coarser, e.g. hourly readings to daily totals. Fewer, "
    "smoother points train faster.",
    "resample_how": "How the values inside each new period are combined.",
    "dayfirst": "Dates such as 03/04/2020 can be read either way; your answer is used for the "
    "whole column.",
    # Train (each setting's help is declared on its field in forecasting/config.py)
    "train": "Start the training in the background. You can change settings, switch pages or "
    "reload: the training goes on.",
    "cancel": "Stop after the current batch. The best weights so far are kept and evaluated.",
    # Evaluate / Forecast / Runs
    "run": "The training whose results are shown.",
    "baselines": "Simple methods forecasting from the same points in time. A network is only "
    "worth it when it beats them.",
    "lead_methods": "Methods drawn in the error-by-lead-time chart.",
    "bundle_upload": "A model bundle (.zip) downloaded from this studio. It is checked before "
    "anything in it is loaded.",
    "bundle_series": "Forecast after the series loaded on the Data page (it must have the same "
    "frequency), or after the data stored in the bundle.",
    "history_points": "How much history to show before the forecast.",
    "runs": "Runs whose forecasts and loss curves are drawn together.",
}


def skill_sentence(result: RunResult) -> tuple[str, bool]:
    """Whether the network beats seasonal naive on the test part, in one plain sentence.

    Args:
        result: A run result (`forecasting.results.run_result`).

    Returns:
        `(sentence, beats)`: e.g. ("The GRU beats seasonal naive: its MASE is 46% lower
        (1.43 vs 2.67).", True).
    """
    from forecasting.config import CELL_NAMES

    cell = CELL_NAMES.get(result.config.model.cell, "network")
    metrics = result.metrics
    model, naive = metrics.model.mase, metrics.baseline("seasonal_naive").mase
    skill = metrics.skill_vs_seasonal_naive
    if model is None or naive is None or skill is None:
        return (
            f"The {cell}'s MASE cannot be compared with seasonal naive on this series "
            "(the scale of the errors is zero or undefined); compare MAE and RMSE in the "
            "table instead.",
            False,
        )
    figures = f"({model:.2f} vs {naive:.2f})"
    if skill > 0:
        return (f"The {cell} beats seasonal naive: its MASE is {skill:.0%} lower {figures}.", True)
    if skill == 0:
        return f"The {cell} ties with seasonal naive: the same MASE {figures}.", False
    return (
        f"The {cell} does not beat seasonal naive: its MASE is {-skill:.0%} higher "
        f"{figures}. Try more epochs, a longer window, another cell, or removing the "
        "seasonal pattern first (Advanced).",
        False,
    )
