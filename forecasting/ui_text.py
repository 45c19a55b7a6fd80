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
    """Who won on the test part, the network or the best baseline, in plain sentences.

    Args:
        result: A run result (`forecasting.results.run_result`).

    Returns:
        `(sentence, beats)`: e.g. ("ETS (Holt-Winters) beats the GRU on the test part: MASE
        1.25 against the network's 1.50 (seasonal naive 2.72). ...", False); `beats` is True
        when the network beats every baseline.
    """
    from forecasting.verdict import MODEL, model_label, verdict

    cell = model_label(result.config)
    judged = verdict({name: scores.mase for name, scores in result.metrics.test.items()})
    naive = result.metrics.baseline("seasonal_naive").mase
    also = (
        f" (seasonal naive {naive:.2f})"
        if naive is not None and judged.best != "seasonal_naive"
        else ""
    )
    if not judged.winner:
        return (
            f"The {cell}'s MASE cannot be compared with the baselines on this series "
            "(the scale of the errors is zero or undefined); compare MAE and RMSE in the "
            "table instead.",
            False,
        )
    if judged.winner == MODEL:
        return (
            f"The {cell} beats every baseline on the test part: MASE {judged.model:.2f} "
            f"against {judged.best_mase:.2f} for {judged.best_label}, the best of "
            f"them{also}.",
            True,
        )
    tie = judged.model == judged.best_mase
    return (
        f"{judged.best_label} {'ties with' if tie else 'beats'} the {cell} on the test part: "
        f"MASE {judged.best_mase:.2f} against the network's {judged.model:.2f}{also}. Its "
        "forecast is offered on the Forecast page. To improve the network, try more epochs, "
        "a longer window, another cell, or removing the seasonal pattern first (Advanced).",
        False,
    )
