"""Training throughput: the classic tutorial recipe against the project's training path.

Both train the same network on the same windows with the same batch size, epochs and
validation part (see `benchmarks.common.recipe_data`):

- **recipe**: the tutorial written plainly in Keras on TensorFlow: `Sequential` of
  LSTM(50, return_sequences) -> Dropout(0.2) -> LSTM(50) -> Dropout(0.2) -> Dense(25) ->
  Dense(1), `compile(optimizer="adam", loss="mse")`, `fit(x, y, batch_size=32,
  validation_split=0.1)`.
- **project**: `forecasting.models.build_model(ModelConfig(cell="lstm", units=50, layers=2,
  dropout=0.2), 50, 1, dense_units=25)` trained by `forecasting.training.fit_network` (Adam at
  the recipe's learning rate 0.001, no clipping, no early stopping, a cancel callback polled
  as in a job) on the Keras backend the project runs on (`KERAS_BACKEND`, else Keras'
  default), and again on every other installed backend (TensorFlow, JAX). On JAX its LSTM
  layers run in the native kernels (`forecasting.native`; "+native" in the table) when they
  can be built; `FORECASTING_NATIVE=0` measures Keras' own loop.

Seconds per epoch are reported as the project's CLI reports them (`History.seconds_per_epoch`
= fit seconds / epochs, first-epoch compilation included, "mean") and without the first epoch
("steady"). The target: the project's mean at least 3x faster than the recipe's mean, with a
final validation loss (last epoch, as the recipe reports it) within 10% of the recipe's.
On JAX the project keeps compiled programs on disk (see `forecasting/__init__.py`): it runs
once with an empty cache ("cold", the figure the target is judged on: a network shape trained
for the first time) and once with the cache that run filled ("warm": every later training of
that shape). Every run is its own process (a Keras backend is chosen once per process);
with `--repeats`, recipe and project runs alternate so that other load on the machine falls
on both, and the table shows the median and the spread.

    python -m benchmarks.speed                 # 20 epochs, the full comparison
    python -m benchmarks.speed --quick         # 2 epochs on a quarter of the data (smoke)
    python -m benchmarks.speed --repeats 3 --json speed.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATIO_TARGET = 3.0
VAL_LOSS_TOLERANCE = 0.10
BACKENDS = ("tensorflow", "jax")


def project_backend() -> str:
    """The Keras backend the project runs on here: what `keras.backend.backend()` says in a
    fresh process after `import forecasting` (KERAS_BACKEND, ~/.keras/keras.json, or whatever
    default the project sets)."""
    done = subprocess.run(
        [sys.executable, "-c", "import forecasting, keras; print(keras.backend.backend())"],
        capture_output=True,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    if done.returncode:
        raise RuntimeError(f"Keras does not import:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------- one run (a subprocess)


def _run_recipe(data, epochs: int, seed: int) -> dict:
    import keras

    from benchmarks.common import epoch_timer

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(data.x_fit.shape[1], 1)),
            keras.layers.LSTM(50, return_sequences=True),
            keras.layers.Dropout(0.2),
            keras.layers.LSTM(50),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(25),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    timer = epoch_timer()
    started = time.perf_counter()
    fitted = model.fit(
        data.x_train,
        data.y_train,
        batch_size=32,
        epochs=epochs,
        validation_split=0.1,
        verbose=0,
        callbacks=[timer],
    )
    seconds = time.perf_counter() - started
    return {
        "epoch_seconds": timer.times,
        "train_seconds": seconds,
        "loss": fitted.history["loss"],
        "val_loss": fitted.history["val_loss"],
        "test_mse": float(model.evaluate(data.x_test, data.y_test, verbose=0)),
    }


def _run_project(data, epochs: int, seed: int) -> dict:
    from forecasting.config import ModelConfig, TrainConfig
    from forecasting.models import build_model
    from forecasting.native import install
    from forecasting.training import fit_network, set_seed

    polls = []

    def should_stop() -> bool:  # what a job does: look for a cancel flag
        polls.append(1)
        return False

    set_seed(seed)
    model = build_model(
        ModelConfig(cell="lstm", units=50, layers=2, dropout=0.2),
        data.x_fit.shape[1],
        1,
        dense_units=25,
    )
    train = TrainConfig(
        epochs=epochs, batch_size=32, learning_rate=0.001, patience=0, clipnorm=0.0, seed=seed
    )
    history = fit_network(
        model, data.x_fit, data.y_fit, (data.x_val, data.y_val), train, should_stop=should_stop
    )
    # fit_network keeps the best epoch's weights; the figures below are the last epoch's,
    # like the recipe's.
    return {
        "epoch_seconds": history.epoch_seconds,
        "train_seconds": history.train_seconds,
        "loss": history.loss,
        "val_loss": history.val_loss,
        "cancel_polls": len(polls),
        "native_kernels": install(),  # what build_model set up: True when they ran
        "test_mse": float(model.evaluate(data.x_test, data.y_test, verbose=0)),
    }


def worker(path: str, epochs: int, seed: int, quick: bool) -> dict:
    """Train one path in this process and return its figures."""
    import keras

    from benchmarks.common import recipe_data

    data = recipe_data(points=2_500 if quick else 10_000)
    run = _run_recipe if path == "recipe" else _run_project
    figures = run(data, epochs, seed)
    times = figures["epoch_seconds"]
    figures.update(
        path=path,
        backend=keras.backend.backend(),
        epochs=len(figures["loss"]),
        seconds_per_epoch=figures["train_seconds"] / max(len(figures["loss"]), 1),
        steady_seconds_per_epoch=(sum(times[1:]) / len(times[1:])) if len(times) > 1 else times[0],
        first_epoch_seconds=times[0],
        windows=len(data.x_fit),
    )
    return figures


# ---------------------------------------------------------------- the comparison


def _spawn(path: str, backend: str, args, cache: str | None = None) -> dict:
    """Run one path in its own process; on JAX, `cache` is the folder of compiled programs
    (`forecasting` keeps one on disk; an empty folder means compiling from scratch)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "figures.json"
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        if cache:
            env["JAX_COMPILATION_CACHE_DIR"] = cache
        command = [
            sys.executable,
            "-m",
            "benchmarks.speed",
            "--worker",
            path,
            "--epochs",
            str(args.epochs),
            "--seed",
            str(args.seed),
            "--out",
            str(out),
        ]
        if args.quick:
            command.append("--quick")
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{path} on {backend} failed:\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())


def _summary(runs: list[dict]) -> dict:
    def med(key):
        return statistics.median(run[key] for run in runs)

    def spread(key):
        values = [run[key] for run in runs]
        return [min(values), max(values)]

    return {
        "path": runs[0]["path"],
        "backend": runs[0]["backend"],
        "runs": len(runs),
        "native_kernels": all(run.get("native_kernels", False) for run in runs),
        "mean": med("seconds_per_epoch"),
        "mean_range": spread("seconds_per_epoch"),
        "steady": med("steady_seconds_per_epoch"),
        "steady_range": spread("steady_seconds_per_epoch"),
        "first_epoch": med("first_epoch_seconds"),
        "loss": med("final_loss"),
        "val_loss": med("final_val_loss"),
        "test_mse": med("test_mse"),
    }


def compare(args) -> dict:
    # The recipe on TensorFlow (the tutorial's backend), the project on its own backend (the
    # row the target is about), then the project on every other installed backend. On JAX the
    # project runs twice per repeat: first with an empty compilation cache (a network shape
    # trained for the first time), then with the cache that run left (every later training of
    # that shape, as in the dashboard). The target is judged on the first ("cold").
    default = project_backend()
    others = [b for b in BACKENDS if b != default and importlib.util.find_spec(b)]
    paths = [("recipe", "tensorflow", "")] + [
        ("project", b, cache)
        for b in [default, *others]
        for cache in (("cold", "warm") if b == "jax" else ("",))
    ]
    runs: dict[tuple, list[dict]] = {key: [] for key in paths}
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache_dir:
            for key in paths:
                path, b, cache = key
                print(
                    f"[{repeat + 1}/{args.repeats}] {path} on {b} {cache}...",
                    file=sys.stderr,
                    flush=True,
                )
                figures = _spawn(path, b, args, cache_dir if cache else None)
                figures.update(
                    final_loss=figures["loss"][-1],
                    final_val_loss=figures["val_loss"][-1],
                    cache=cache,
                )
                runs[key].append(figures)
    rows = [_summary(runs[key]) | {"cache": key[2]} for key in paths]
    recipe = rows[0]
    for row in rows:
        row["ratio_mean"] = recipe["mean"] / row["mean"]
        row["ratio_steady"] = recipe["steady"] / row["steady"]
        row["val_loss_change"] = row["val_loss"] / recipe["val_loss"] - 1
        row["pass"] = (
            row["ratio_mean"] >= RATIO_TARGET and abs(row["val_loss_change"]) <= VAL_LOSS_TOLERANCE
        )
    # Ratios of runs taken side by side (repeat i of each path), to show the spread.
    for row, key in zip(rows, paths, strict=True):
        row["ratio_mean_per_repeat"] = [
            r["seconds_per_epoch"] / p["seconds_per_epoch"]
            for r, p in zip(runs[paths[0]], runs[key], strict=True)
        ]
    return {
        "epochs": args.epochs,
        "quick": args.quick,
        "repeats": args.repeats,
        "batch_size": 32,
        "windows": runs[paths[0]][0]["windows"],
        "cpus": os.cpu_count(),
        "project_backend": default,
        "load_average": os.getloadavg(),
        "target": {"ratio_mean": RATIO_TARGET, "val_loss_within": VAL_LOSS_TOLERANCE},
        "rows": rows,
        "runs": {"/".join(filter(None, key)): runs[key] for key in paths},
    }


def table(result: dict) -> str:
    head = (
        f"{'path':<8} {'backend':<18} {'s/epoch mean':>13} {'steady':>7} {'1st':>6} "
        f"{'loss':>8} {'val_loss':>9} {'x mean':>7} {'x steady':>8}  "
        f"target (>= {RATIO_TARGET:g}x mean, val_loss within "
        f"{VAL_LOSS_TOLERANCE:.0%})"
    )
    lines = [head, "-" * len(head)]
    for i, row in enumerate(result["rows"]):
        low, high = row["mean_range"]
        spread = f" [{low:.2f}-{high:.2f}]" if row["runs"] > 1 else ""
        backend = (
            row["backend"]
            + ("+native" if row["native_kernels"] else "")
            + (f" ({row['cache']})" if row["cache"] else "")
        )
        verdict = (
            "(reference)"
            if i == 0
            else f"{'PASS' if row['pass'] else 'FAIL'} (val_loss {row['val_loss_change']:+.1%})"
            + (" [project default]" if i == 1 else "")
        )
        lines.append(
            f"{row['path']:<8} {backend:<18} {row['mean']:>13.2f} {row['steady']:>7.2f} "
            f"{row['first_epoch']:>6.1f} {row['loss']:>8.5f} {row['val_loss']:>9.5f} "
            f"{row['ratio_mean']:>6.2f}x {row['ratio_steady']:>7.2f}x  {verdict}{spread}"
        )
    lines.append(
        f"{result['epochs']} epochs, batch 32, {result['windows']} training windows, "
        f"{result['repeats']} run(s) each (median; [min-max] of the mean), "
        f"{result['cpus']} CPUs, load average at the end "
        f"{result['load_average'][0]:.1f}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.speed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--epochs", type=int, default=None, help="epochs (20; 2 with --quick)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2 epochs on a quarter of the data"
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs of each path")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--worker", choices=["recipe", "project"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = 2 if args.quick else 20
    if args.worker:
        args.out.write_text(json.dumps(worker(args.worker, args.epochs, args.seed, args.quick)))
        return 0
    result = compare(args)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    failed = [row for row in result["rows"][1:2] if not row["pass"]]
    return 1 if failed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
