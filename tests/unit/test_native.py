"""The native LSTM and GRU kernels (forecasting/native): same numbers as Keras' own loops,
in use where they should be, and a clean fallback where they cannot be built."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

keras = pytest.importorskip("keras")
if keras.backend.backend() != "jax":
    pytest.skip("the native kernels run under Keras' JAX backend", allow_module_level=True)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from keras.src import backend  # noqa: E402

from forecasting.config import ModelConfig  # noqa: E402
from forecasting.models import build_model  # noqa: E402
from forecasting.native import build, install  # noqa: E402
from forecasting.native import rnn as native  # noqa: E402

KERAS_OWN = {"lstm": backend.lstm, "gru": backend.gru}  # before any install


@pytest.fixture(scope="module")
def installed():
    assert shutil.which("c++"), "the kernels need a C++ compiler (make test installs g++)"
    assert install() is True
    yield
    _use(native)  # what the rest of the session runs on


def _use(entries) -> None:
    """Make `entries` (a module or dict with lstm and gru) Keras' recurrence hooks."""
    get = entries.get if isinstance(entries, dict) else lambda name: getattr(entries, name)
    backend.lstm, backend.gru = get("lstm"), get("gru")


def _network(cell: str, units: int, window: int, **options):
    keras.utils.set_random_seed(3)
    layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    inputs = keras.Input((window, 1))
    x = layer(units, return_sequences=True, **options)(inputs)
    x = layer(50)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


def _predict_and_fit(entries, cell: str, units: int, **options):
    """Predictions, losses and weights after 3 epochs, with `entries` as Keras' hooks."""
    _use(entries)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(70, 13, 1)).astype("float32")  # batches of 16 and a last one of 6
    y = rng.normal(size=(70, 1)).astype("float32")
    model = _network(cell, units, 13, **options)
    predictions = model.predict(x, verbose=0)
    model.compile(optimizer="adam", loss="mse")
    losses = model.fit(x, y, epochs=3, batch_size=16, verbose=0).history["loss"]
    return predictions, losses, model.get_weights()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("units", [20, 50])  # padded to 32 and 64 floats inside the kernels
def test_kernels_train_like_keras_own_loop(installed, cell, units):
    ours = _predict_and_fit(native, cell, units)
    theirs = _predict_and_fit(KERAS_OWN, cell, units)
    np.testing.assert_allclose(ours[0], theirs[0], atol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5)
    for mine, keras_weights in zip(ours[2], theirs[2], strict=True):
        np.testing.assert_allclose(mine, keras_weights, atol=1e-5)


def _reference(zx, u, h0, c0):
    """The LSTM recurrence written plainly (Keras' gate order i, f, g, o)."""

    def step(carry, z):
        h, c = carry
        i, f, g, o = jnp.split(z + h @ u, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    (_, c), hs = jax.lax.scan(step, (h0, c0), zx)
    return hs, c


def _reference_gru(zx, u, b_rec, h0):
    """Keras' reset_after GRU recurrence written plainly (gate order z, r, n)."""

    def step(h, x):
        a = h @ u + b_rec
        x_z, x_r, x_n = jnp.split(x, 3, axis=-1)
        a_z, a_r, a_n = jnp.split(a, 3, axis=-1)
        z, r = jax.nn.sigmoid(x_z + a_z), jax.nn.sigmoid(x_r + a_r)
        h = z * h + (1 - z) * jnp.tanh(x_n + r * a_n)
        return h, h

    return jax.lax.scan(step, h0, zx)[1]


def test_gru_gradients_match_autodiff_of_the_plain_loop(installed):
    keys = jax.random.split(jax.random.PRNGKey(1), 4)
    steps, batch, units = 6, 11, 19
    args = (
        jax.random.normal(keys[0], (steps, batch, 3 * units)),
        jax.random.normal(keys[1], (units, 3 * units)) * 0.3,
        jax.random.normal(keys[2], (3 * units,)) * 0.3,
        jax.random.normal(keys[3], (batch, units)) * 0.5,
    )

    def loss(recurrence):
        return lambda *a: jnp.sum(jnp.sin(recurrence(*a)) * jnp.arange(steps)[:, None, None])

    np.testing.assert_allclose(native.gru_recurrence(*args), _reference_gru(*args), atol=1e-6)
    ours = jax.grad(loss(native.gru_recurrence), argnums=(0, 1, 2, 3))(*args)
    reference = jax.grad(loss(_reference_gru), argnums=(0, 1, 2, 3))(*args)
    for mine, theirs in zip(ours, reference, strict=True):
        np.testing.assert_allclose(mine, theirs, atol=2e-5)


def test_lstm_gradients_match_autodiff_of_the_plain_loop(installed):
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    steps, batch, units = 7, 9, 21
    args = (
        jax.random.normal(keys[0], (steps, batch, 4 * units)),
        jax.random.normal(keys[1], (units, 4 * units)) * 0.3,
        jax.random.normal(keys[2], (batch, units)) * 0.5,
        jax.random.normal(keys[3], (batch, units)) * 0.5,
    )

    def loss(recurrence):
        def value(*a):
            hs, c = recurrence(*a)
            return jnp.sum(jnp.sin(hs)) + jnp.sum(c * jnp.cos(c))

        return value

    for ours, reference in zip(native.lstm_recurrence(*args), _reference(*args), strict=True):
        np.testing.assert_allclose(ours, reference, atol=1e-6)
    ours = jax.grad(loss(native.lstm_recurrence), argnums=(0, 1, 2, 3))(*args)
    reference = jax.grad(loss(_reference), argnums=(0, 1, 2, 3))(*args)
    for mine, theirs in zip(ours, reference, strict=True):
        np.testing.assert_allclose(mine, theirs, atol=2e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_project_networks_compute_in_the_kernels(installed, cell):
    model = build_model(ModelConfig(cell=cell, units=8, layers=2, dropout=0.1), 12, 1)
    program = jax.jit(lambda x: model(x, training=False)).lower(jnp.zeros((4, 12, 1))).as_text()
    assert program.count(f"forecasting_{cell}_forward") == 2  # both layers


def test_layers_the_kernels_do_not_cover_fall_back_to_keras(installed):
    with pytest.raises(NotImplementedError):
        native.lstm(
            jnp.zeros((2, 3, 1)),
            jnp.zeros((2, 4)),
            jnp.zeros((2, 4)),
            None,
            jnp.zeros((1, 16)),
            jnp.zeros((4, 16)),
            jnp.zeros(16),
            keras.activations.tanh,
            keras.activations.sigmoid,
            go_backwards=True,
        )
    for cell, options in [
        ("lstm", {"go_backwards": True, "activation": "relu"}),
        ("gru", {"reset_after": False}),
        ("gru", {"go_backwards": True}),
    ]:
        ours = _predict_and_fit(native, cell, 8, **options)
        theirs = _predict_and_fit(KERAS_OWN, cell, 8, **options)
        np.testing.assert_allclose(ours[0], theirs[0], atol=1e-6)
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)


@pytest.mark.parametrize("compiler", ["/nonexistent/c++", "false"])
def test_no_working_compiler_means_keras_own_loop(monkeypatch, tmp_path, caplog, compiler):
    monkeypatch.setenv("CXX", compiler)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    build.library.cache_clear()
    try:
        with caplog.at_level(logging.INFO, logger=build.__name__):
            assert build.library() is None
        assert "Keras' own" in caplog.text
        assert not list(tmp_path.rglob("*.so"))
    finally:
        build.library.cache_clear()


def test_built_library_is_reused_and_keyed_by_source(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    build.library.cache_clear()
    try:
        first = build.library()
        assert first is not None and first.parent == tmp_path / "forecasting" / "native"
        stamp = first.stat().st_mtime_ns
        build.library.cache_clear()
        assert build.library() == first and first.stat().st_mtime_ns == stamp  # not rebuilt
    finally:
        build.library.cache_clear()


def test_switched_off_by_environment(monkeypatch):
    monkeypatch.setenv("FORECASTING_NATIVE", "0")
    assert install() is False
