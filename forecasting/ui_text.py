"""Help texts of the dashboard's controls, in one place so they read alike.

Plain strings only (no Streamlit import); the pages pass them as `help=`.
"""

from __future__ import annotations

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
    # Train
    "cell": "The recurrent layer. SimpleRNN is the classic cell and forgets quickly; LSTM and "
    "GRU have gates that keep information over longer spans (GRU is lighter).",
    "auto_window": "Let the studio choose the window from the seasonal period (two cycles).",
    "window": "How many past steps the network sees to make one forecast (the 'look back' of "
    "the tutorials). Longer windows see more seasonality but leave fewer training "
    "examples.",
    "units": "Size of each recurrent layer. More units can learn more but overfit sooner and "
    "train slower.",
    "layers": "Recurrent layers stacked on each other. One is usually enough for a single series.",
    "dropout": "Fraction of the layer's outputs dropped at random during training, to reduce "
    "overfitting. 0 disables it.",
    "strategy": "Direct: the network outputs every step of the horizon at once. Recursive: it "
    "predicts one step and feeds it back, step after step.",
    "epochs": "Most passes over the training windows. Early stopping usually ends the "
    "training sooner.",
    "batch_size": "Windows per gradient step. Smaller batches give noisier but more frequent "
    "updates.",
    "learning_rate": "Step size of the Adam optimiser. Lower it if the loss jumps around or "
    "becomes NaN.",
    "patience": "Stop when the validation loss has not improved for this many epochs; the best "
    "weights are kept. 0 disables early stopping.",
    "seed": "Seed of the weights, shuffling and dropout. The same seed repeats a run.",
    "auto_horizon": "Forecast one seasonal cycle ahead (12 months, 7 days, 24 hours, ...).",
    "horizon": "How many steps ahead to forecast.",
    "test_size": "Share of the series, at its end, held out to test the network and the "
    "baselines. It is never used for training.",
    "level": "Nominal coverage of the prediction band: 0.9 means 90% of future values should "
    "fall inside it.",
    "scaling": "'Per window' feeds each input window as changes from its own last value "
    "(good with trends); 'standardize' and 'min-max' fit one scaler on the training part, "
    "as in the classic tutorials (good for series that swing around a stable level). "
    "'Automatic' trains one network each way and keeps the one with the lower error on the "
    "validation part.",
    "deseasonalize": "Remove a seasonal pattern (learned on the training part) before "
    "training, and add it back to the forecasts.",
    "log": "Model the logarithm of a positive series: useful when the swings grow with the level.",
    "ensemble": "Train several networks with different seeds and take the median forecast: "
    "steadier, but slower.",
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


def skill_sentence(result: dict) -> tuple[str, bool]:
    """Whether the network beats seasonal naive on the test part, in one plain sentence.

    Args:
        result: A run result (`forecasting.results.run_result`).

    Returns:
        `(sentence, beats)`: e.g. ("The GRU beats seasonal naive: its MASE is 46% lower
        (1.43 vs 2.67).", True).
    """
    from forecasting.config import CELL_NAMES

    cell = CELL_NAMES.get(result["config"]["model"]["cell"], "network")
    metrics = result["metrics"]
    test = metrics.get("test", {})
    model = test.get("model", {}).get("mase")
    naive = test.get("seasonal_naive", {}).get("mase")
    skill = metrics.get("skill_vs_seasonal_naive")
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
