"""Fit one neuralforecast model (`LSTM` or `GRU`) at its defaults on a long CSV and forecast.

Run by the peer's own interpreter (a virtual environment with neuralforecast and PyTorch), never
by the project's: it imports neither `forecasting` nor anything of the project. `benchmarks.peer`
starts it once per model and reads what it writes into OUT_DIR:

- `forecast.csv`: unique_id, ds, forecast (`horizon` rows per series fitted; a series shorter
  than the model's input is left out and named in info.json's `too_short`);
- `info.json`: fit, predict and import seconds, peak memory, the model's settings as used, the
  versions.

    PEER_PYTHON benchmarks/peer_neuralforecast.py TRAIN.csv OUT_DIR --model LSTM --horizon 13 \
        --freq W-SUN
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train_csv", help="long CSV: unique_id, ds, y")
    parser.add_argument("out_dir")
    parser.add_argument("--model", choices=["LSTM", "GRU"], required=True)
    parser.add_argument("--horizon", type=int, required=True)
    parser.add_argument("--freq", required=True, help="pandas frequency alias of the series")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-steps", type=int, help="training steps (default: the model's own, for smoke runs)"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    import neuralforecast
    import pandas as pd
    import torch
    from neuralforecast import NeuralForecast, models

    import_seconds = time.perf_counter() - started

    frame = pd.read_csv(args.train_csv, dtype={"unique_id": str}, parse_dates=["ds"])
    settings = {"h": args.horizon, "random_seed": args.seed}
    if args.max_steps is not None:
        settings["max_steps"] = args.max_steps
    quiet = {  # the Lightning trainer's output and files only: no effect on the fit
        "accelerator": "cpu",
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "enable_checkpointing": False,
        "logger": False,
    }
    model = getattr(models, args.model)(**settings, **quiet)
    forecaster = NeuralForecast(models=[model], freq=args.freq)
    # neuralforecast refuses a panel with a series shorter than the model's input (3 horizons
    # by default): those series are left out and named, the caller forecasts them otherwise.
    lengths = frame.groupby("unique_id").size()
    too_short = sorted(lengths.index[lengths < model.input_size])
    frame = frame[~frame["unique_id"].isin(too_short)]

    started = time.perf_counter()
    forecaster.fit(frame)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predicted = forecaster.predict()
    predict_seconds = time.perf_counter() - started

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    predicted = predicted.reset_index() if "unique_id" not in predicted.columns else predicted
    predicted = predicted.rename(columns={args.model: "forecast"})
    predicted[["unique_id", "ds", "forecast"]].to_csv(out / "forecast.csv", index=False)
    info = {
        "model": args.model,
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        "import_seconds": import_seconds,
        "peak_memory_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "settings": {
            "h": model.h,
            "input_size": model.input_size,
            "max_steps": model.max_steps,
            "batch_size": model.batch_size,
            "windows_batch_size": model.windows_batch_size,
            "hidden_size": model.hparams.get("encoder_hidden_size"),
            "layers": model.hparams.get("encoder_n_layers"),
            "random_seed": model.random_seed,
            "torch_threads": torch.get_num_threads(),
        },
        "versions": {
            "neuralforecast": neuralforecast.__version__,
            "torch": torch.__version__,
            "pandas": pd.__version__,
            "python": platform.python_version(),
        },
        "series": int(frame["unique_id"].nunique()),
        "too_short": too_short,
        "rows": len(frame),
    }
    (out / "info.json").write_text(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
