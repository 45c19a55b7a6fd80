"""The training speed switches (steps per execution, backend-dependent unroll and XLA) train,
time every epoch, and still cancel within a few batches; on every installed Keras backend."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from benchmarks.common import recipe_data, steady_mean
from forecasting import training
from forecasting.config import ModelConfig, TrainConfig
from forecasting.models import UNROLL_MAX_WINDOW, build_model


def _data(n=160, window=8, seed=0):
    rng = np.random.default_rng(seed)
    series = np.sin(np.arange(n + window) * 0.3) + rng.normal(0, 0.05, n + window)
    frames = np.lib.stride_tricks.sliding_window_view(series, window + 1)
    return frames[:, :window, None], frames[:, window:]


def _network(window=8, dense_units=0):
    training.set_seed(3)
    return build_model(
        ModelConfig(cell="lstm", units=4, layers=2, dropout=0.1), window, 1, dense_units=dense_units
    )


def test_fit_times_every_epoch_and_learns():
    x, y = _data()
    model = _network(dense_units=3)
    history = training.fit_network(
        model, x[:128], y[:128], (x[128:], y[128:]), TrainConfig(epochs=3, batch_size=8, patience=0)
    )
    assert history.epochs_run == 3 and len(history.epoch_seconds) == 3
    assert history.steady_seconds_per_epoch == pytest.approx(np.mean(history.epoch_seconds[1:]))
    assert history.seconds_per_epoch == pytest.approx(history.train_seconds / 3)
    assert sum(history.epoch_seconds) <= history.train_seconds + 1e-6
    assert history.to_dict()["steady_seconds_per_epoch"] == history.steady_seconds_per_epoch
    assert model.get_layer("hidden").units == 3
    assert np.isfinite(history.val_loss).all() and history.loss[-1] < history.loss[0]


@pytest.mark.parametrize("steps", [1, 4])
def test_cancel_within_steps_per_execution(monkeypatch, steps):
    monkeypatch.setattr(training, "STEPS_PER_EXECUTION", steps)
    x, y = _data(n=400)
    polls = []

    def should_stop():  # the poll before fit, then one after every `steps` batches
        polls.append(1)
        return len(polls) > 2

    model = _network()
    history = training.fit_network(
        model, x, y, None, TrainConfig(epochs=5, batch_size=4, patience=0), should_stop=should_stop
    )
    assert history.stopped_by == "cancel" and history.epochs_run == 1
    assert model.steps_per_execution == steps
    batches = int(
        model.optimizer.iterations.numpy()
        if hasattr(model.optimizer.iterations, "numpy")
        else model.optimizer.iterations
    )
    # Two polls in fit, so the cancel lands after 2 * steps batches (of 100 per epoch).
    assert steps <= batches <= 2 * steps


def test_unroll_and_xla_follow_the_backend():
    import keras

    x, y = _data(n=40)
    model = _network()
    training.fit_network(model, x, y, None, TrainConfig(epochs=1, batch_size=8))
    on_tf = keras.backend.backend() == "tensorflow"
    assert model.get_layer("lstm_1").unroll is (on_tf and UNROLL_MAX_WINDOW >= 8)
    assert model.jit_compile is (keras.backend.backend() == "jax")


def test_recipe_data_matches_the_tutorial_split():
    data = recipe_data(points=1_000)
    windows = 1_000 - 50
    assert len(data.x_test) == round(0.2 * windows)
    assert len(data.x_fit) + len(data.x_val) == windows - len(data.x_test)
    assert len(data.x_fit) == int(0.9 * len(data.x_train))
    assert data.x_fit.shape[1:] == (50, 1) and data.x_fit.dtype == np.float32
    assert data.x_fit.min() >= -1 and data.x_fit.max() <= 1
    assert steady_mean([9.0, 2.0, 4.0]) == 3.0 and steady_mean([5.0]) == 5.0


_SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import keras
    from forecasting import training
    from forecasting.config import ModelConfig, TrainConfig
    from forecasting.models import build_model
    series = np.sin(np.arange(208) * 0.3)
    frames = np.lib.stride_tricks.sliding_window_view(series, 9)
    x, y = frames[:, :8, None], frames[:, 8:]
    training.set_seed(1)
    net = build_model(ModelConfig(cell="gru", units=4), 8, 1)
    done = training.fit_network(net, x, y, (x[:16], y[:16]), TrainConfig(epochs=2, batch_size=8))
    polls = []
    stop = lambda: polls.append(1) or len(polls) > 2
    net = build_model(ModelConfig(cell="gru", units=4), 8, 1)
    cancelled = training.fit_network(net, x, y, None, TrainConfig(epochs=5, batch_size=4),
                                     should_stop=stop)
    print(json.dumps({"backend": keras.backend.backend(), "epochs": done.epochs_run,
                      "loss": done.loss, "stopped_by": cancelled.stopped_by,
                      "batches": int(np.asarray(net.optimizer.iterations)),
                      "steps": training.STEPS_PER_EXECUTION}))
""")


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_trains_and_cancels_on_each_backend(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend and result["epochs"] == 2
    assert all(np.isfinite(result["loss"]))
    assert result["stopped_by"] == "cancel"
    assert result["batches"] <= 2 * result["steps"]


@pytest.mark.parametrize("chosen", [None, "tensorflow"])
def test_jax_is_the_default_backend_and_an_explicit_choice_wins(chosen):
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if chosen:
        env["KERAS_BACKEND"] = chosen
    done = subprocess.run(
        [sys.executable, "-c", "import forecasting, keras; print(keras.backend.backend())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == (chosen or "jax")


def test_seeding_off_tensorflow_repeats_weights_without_importing_tensorflow():
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    script = textwrap.dedent("""
        import sys
        import numpy as np
        from forecasting.config import ModelConfig
        from forecasting.models import build_model
        from forecasting.training import set_seed
        weights = []
        for seed in (5, 5, 6):
            set_seed(seed)
            weights.append(build_model(ModelConfig(units=3), 4, 1).get_weights()[0])
        assert np.array_equal(weights[0], weights[1])
        assert not np.array_equal(weights[0], weights[2])
        print("tensorflow" in sys.modules)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, KERAS_BACKEND="jax"),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "False"


def test_compiled_networks_are_cached_on_disk_and_train_the_same_from_the_cache(tmp_path):
    """A second process trains from the on-disk compilation cache, to the same weights,
    without compiling anything: the small programs are cached too."""
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    script = textwrap.dedent("""
        import numpy as np
        from forecasting.config import ModelConfig, TrainConfig
        from forecasting.models import build_model
        from forecasting.training import fit_network, set_seed
        import jax
        misses = []
        jax.monitoring.register_event_listener(
            lambda event, **_: misses.append(event)
            if event == "/jax/compilation_cache/cache_misses" else None)
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(64, 6, 1)), rng.normal(size=(64, 1))
        set_seed(1)
        model = build_model(ModelConfig(units=16), 6, 1)
        fit_network(model, x, y, None, TrainConfig(epochs=2, batch_size=16, patience=0))
        model.predict(x[:4], verbose=0)
        print(len(misses), float(sum(np.abs(w).sum() for w in model.get_weights())))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "KERAS_"))}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    cache = tmp_path / "forecasting" / "jax"
    results = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=env
        )
        assert done.returncode == 0, done.stderr[-2000:]
        results.append(done.stdout.split()[-2:])
        assert any(cache.iterdir())  # the first process filled it
    assert int(results[0][0]) > 10  # every program went through the cache, the small ones too
    assert int(results[1][0]) == 0  # compiled nothing
    assert results[0][1] == results[1][1]


def test_an_unusable_cache_folder_trains_without_warnings(tmp_path):
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    script = textwrap.dedent("""
        import os
        import numpy as np
        from forecasting.config import ModelConfig, TrainConfig
        from forecasting.models import build_model
        from forecasting.training import fit_network
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(32, 4, 1)), rng.normal(size=(32, 1))
        fit_network(build_model(ModelConfig(units=4), 4, 1), x, y, None,
                    TrainConfig(epochs=1, batch_size=16, patience=0))
        print(os.environ.get("JAX_COMPILATION_CACHE_DIR"))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "KERAS_"))}
    env["XDG_CACHE_HOME"] = str(blocker)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "None"
    assert "compilation cache" not in done.stderr  # JAX warns on every compile otherwise
