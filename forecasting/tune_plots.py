"""Tables and figures of a tuning's leaderboard (rows as `tuning.search.Trial.to_dict`):
the table sorted by score, the best score so far against elapsed time, a
parallel-coordinates chart of settings against score, and the sentences that sum a search up.

Plain data in, a DataFrame or a Plotly figure out, in the look of `forecasting.plots`; nothing
here imports Streamlit, Ray or Keras.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from forecasting.baselines import BASELINE_NAMES
from forecasting.plots import BASELINE_COLORS, MODEL, _layout

STATE_ORDER = {"finished": 0, "running": 1, "stopped early": 2, "stopped": 3, "failed": 4}
SETTING_LABELS = {
    "cell": "Cell",
    "cycles": "Window (cycles)",
    "units": "Units",
    "layers": "Layers",
    "dropout": "Dropout",
    "learning_rate": "Learning rate",
    "scaling": "Scaling",
    "covariates": "Covariates",
    "ensemble": "Networks",  # searched by earlier versions
}


def leaderboard_table(trials: Sequence[dict]) -> pd.DataFrame:
    """One row per trial: Trial, State, Score, its settings, Folds, Epochs, Seconds, Message;
    sorted by score (lowest first; trials without one last), finished before partial ones at
    equal scores. The default configuration is trial 0."""
    rows = []
    for trial in trials:
        row = {
            "Trial": "0 (default)" if trial["number"] == 0 else str(trial["number"]),
            "State": trial["state"],
            "Score": trial["score"],
        }
        for name, value in trial["params"].items():
            label = SETTING_LABELS.get(name, name)
            row[label] = f"{value:.3g}" if isinstance(value, float) else value
        row.update(
            Folds=trial["folds"],
            Epochs=trial["epochs"],
            Seconds=round(trial["seconds"], 1),
            Message=trial.get("message", ""),
        )
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=["Trial", "State", "Score"])
    table = pd.DataFrame(rows)
    table["_state"] = table["State"].map(STATE_ORDER).fillna(9)
    table = table.sort_values(["Score", "_state"], na_position="last", kind="stable")
    return table.drop(columns="_state").reset_index(drop=True)


def best_so_far(trials: Sequence[dict]) -> pd.DataFrame:
    """Elapsed seconds and the best finished score at that time, one row per finished
    trial in the order they ended (the curve only goes down)."""
    done = sorted(
        (t for t in trials if t["state"] == "finished" and t["score"] is not None),
        key=lambda t: t["finished_at"] or 0.0,
    )
    best, rows = None, []
    for trial in done:
        best = trial["score"] if best is None else min(best, trial["score"])
        rows.append(
            {"elapsed": trial["finished_at"] or 0.0, "best": best, "trial": trial["number"]}
        )
    return pd.DataFrame(rows, columns=["elapsed", "best", "trial"])


def best_so_far_figure(
    trials: Sequence[dict], baseline: tuple[str, float] | None = None, budget_s: float | None = None
) -> go.Figure:
    """The best finished score against elapsed time (a step line), each finished trial as a
    dot, and the best baseline's score on the same folds as a dashed line."""
    curve = best_so_far(trials)
    fig = go.Figure()
    done = [t for t in trials if t["state"] == "finished" and t["score"] is not None]
    fig.add_trace(
        go.Scatter(
            x=[t["finished_at"] for t in done],
            y=[t["score"] for t in done],
            mode="markers",
            name="finished trial",
            marker=dict(color="#9ca3af", size=7),
            text=[f"trial {t['number']}" for t in done],
        )
    )
    if len(curve):
        fig.add_trace(
            go.Scatter(
                x=curve["elapsed"],
                y=curve["best"],
                mode="lines+markers",
                line=dict(shape="hv", color=MODEL, width=2),
                name="best so far",
            )
        )
    if baseline is not None:
        name, score = baseline
        fig.add_hline(
            y=score,
            line=dict(color=BASELINE_COLORS.get(name, "#059669"), dash="dash"),
            annotation_text=f"best baseline: {BASELINE_NAMES.get(name, name)} {score:.3f}",
            annotation_position="top left",
        )
    if budget_s:
        fig.update_xaxes(range=[0, max(budget_s, *(curve["elapsed"].tolist() or [0]))])
    return _layout(fig, "Best score so far", "seconds since the search started", "mean MASE")


def parallel_figure(trials: Sequence[dict]) -> go.Figure:
    """Parallel coordinates: one line per trial with a score, an axis per setting (choices
    as numbered ticks), the score last and as the colour (lower is better)."""
    scored = [t for t in trials if t["score"] is not None]
    dims = []
    names = list(dict.fromkeys(name for t in scored for name in t["params"]))
    for name in names:
        values = [t["params"].get(name) for t in scored]
        label = SETTING_LABELS.get(name, name)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            dims.append(dict(label=label, values=values))
        else:
            choices = sorted({str(v) for v in values})
            codes = {c: i for i, c in enumerate(choices)}
            dims.append(
                dict(
                    label=label,
                    values=[codes[str(v)] for v in values],
                    tickvals=list(range(len(choices))),
                    ticktext=choices,
                )
            )
    scores = [t["score"] for t in scored]
    dims.append(dict(label="Score (MASE)", values=scores))
    fig = go.Figure(
        go.Parcoords(
            line=dict(
                color=scores or [0],
                colorscale="Viridis_r",
                showscale=True,
                colorbar=dict(title="MASE"),
            ),
            dimensions=dims,
            labelangle=-20,  # the axes' names stay apart in half a page's width
            labelside="top",
        )
    )
    fig.update_layout(
        template="plotly_white",
        height=380,
        margin=dict(l=60, r=60, t=90, b=20),
        title=dict(text="Settings against score", x=0, xanchor="left"),
    )
    return fig


def no_win_sentence(
    best: float | None, baseline: tuple[str, float] | None, ended: bool = False
) -> str | None:
    """A plain sentence when no finished trial beats the best baseline (`ended`: the search
    is over); None otherwise."""
    if baseline is None:
        return None
    name, score = baseline
    label = BASELINE_NAMES.get(name, name)
    if best is None:
        return (
            f"No trial finished; the best baseline, {label}, scores {score:.3f} on the folds."
            if ended
            else f"No trial has finished yet; the best baseline, {label}, scores {score:.3f}."
        )
    if best >= score:
        return (
            f"No trial beats the best baseline: {label} scores {score:.3f} on the same folds, "
            f"the best trial {best:.3f}. Its forecast may serve you better than a network."
        )
    return None


def search_summary(search: dict) -> str:
    """What a finished search found, in one paragraph (the Runs page's search history):
    trials, the best against the default configuration and the best baseline."""
    trials = search.get("trials", [])
    finished = sum(t["state"] == "finished" for t in trials)
    engine = search.get("engine") or {}
    text = (
        f"Searched {search.get('seconds', 0):.0f} s on Ray ({engine.get('nodes', 1)} node(s), "
        f"{engine.get('cpus', '?')} CPUs): {len(trials)} trials, {finished} finished."
    )
    best, default = search.get("best"), search.get("default") or {}
    if best is not None:
        text += f" Best score {best['score']:.3f} (trial {best['number']})"
        if default.get("score") is not None:
            text += f" against {default['score']:.3f} for the default settings (trial 0)"
        text += "."
    baseline = search.get("best_baseline")
    if baseline:
        label = BASELINE_NAMES.get(baseline["name"], baseline["name"])
        text += f" Best baseline on the same folds: {label} {baseline['score']:.3f}."
        sentence = no_win_sentence(
            None if best is None else best["score"],
            (baseline["name"], baseline["score"]),
            ended=True,
        )
        if sentence:
            text += " " + sentence
    objective = (search.get("objective") or {}).get("text")
    return text + (f" Score: {objective}." if objective else "")
