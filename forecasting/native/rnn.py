"""Keras' LSTM and GRU on JAX with the recurrence in native kernels (`kernels.cc`).

Keras asks its backend for an optimized recurrence first (`keras.src.backend.lstm` and
`.gru`, the hooks it uses for cuDNN). `lstm` and `gru` below answer for float32 layers
with Keras' default activations, no mask and forward order (the GRU with `reset_after`,
Keras' default): the input projection and the weight gradients are single large products
left to XLA, and the step-by-step part runs in the kernels, forward and backward
(`jax.custom_vjp`). Any other layer gets Keras' own implementation. The weights, and so
the saved models, are Keras' own.
"""

from __future__ import annotations

import ctypes
import functools

import jax
import jax.numpy as jnp

from forecasting.native.build import library

LANES = 16  # floats in a vector of the kernels; rows are padded to a multiple
# XLA custom-call targets and the kernels' symbols in the library
TARGETS = {
    "forecasting_lstm_forward": "ForecastingLstmForward",
    "forecasting_lstm_forward_for_training": "ForecastingLstmForwardForTraining",
    "forecasting_lstm_backward": "ForecastingLstmBackward",
    "forecasting_gru_forward": "ForecastingGruForward",
    "forecasting_gru_forward_for_training": "ForecastingGruForwardForTraining",
    "forecasting_gru_backward": "ForecastingGruBackward",
}
KERAS = {}  # Keras' own backend entries, kept by `forecasting.native.install`


@functools.cache
def register() -> bool:
    """Load the kernels into XLA (once); False where they cannot be built."""
    path = library()
    if path is None:
        return False
    lib = ctypes.cdll.LoadLibrary(str(path))
    for target, symbol in TARGETS.items():
        jax.ffi.register_ffi_target(target, jax.ffi.pycapsule(getattr(lib, symbol)), platform="cpu")
    return True


def _padded(n: int) -> int:
    return -(-n // LANES) * LANES


def _f32(*shape: int) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(shape, jnp.float32)


def _call(target: str, results, *args):
    return jax.ffi.ffi_call(target, results)(*args)


# ---------------------------------------------------------------- LSTM


@jax.custom_vjp
def lstm_recurrence(zx, u, h0, c0):
    """Every step's h [T, B, H] and the last c [B, H] from zx = x @ W + b [T, B, 4H]."""
    steps, batch, units = zx.shape[0], zx.shape[1], zx.shape[2] // 4
    return _call(
        "forecasting_lstm_forward", (_f32(steps, batch, units), _f32(batch, units)), zx, u, h0, c0
    )


def _lstm_forward(zx, u, h0, c0):
    steps, batch, units = zx.shape[0], zx.shape[1], zx.shape[2] // 4
    padded = _padded(units)
    hs, cs, gates = _call(
        "forecasting_lstm_forward_for_training",
        (_f32(steps, batch, units), _f32(steps, batch, padded), _f32(steps, batch, 4 * padded)),
        zx,
        u,
        h0,
        c0,
    )
    return (hs, cs[-1, :, :units]), (u, h0, c0, hs, cs, gates)


def _lstm_backward(saved, grads):
    u, h0, c0, hs, cs, gates = saved
    dhs, dc_last = grads
    steps, batch, units = hs.shape
    dz, dh0, dc0 = _call(
        "forecasting_lstm_backward",
        (_f32(steps, batch, 4 * units), _f32(batch, units), _f32(batch, units)),
        dhs,
        dc_last,
        u,
        c0,
        cs,
        gates,
    )
    h_prev = jnp.concatenate([h0[None], hs[:-1]])
    return dz, jnp.einsum("tbh,tbg->hg", h_prev, dz), dh0, dc0


lstm_recurrence.defvjp(_lstm_forward, _lstm_backward)


# ---------------------------------------------------------------- GRU


@jax.custom_vjp
def gru_recurrence(zx, u, b_rec, h0):
    """Every step's h [T, B, H] from zx = x @ W + b_in [T, B, 3H] (Keras' reset_after GRU)."""
    steps, batch, units = zx.shape[0], zx.shape[1], zx.shape[2] // 3
    return _call("forecasting_gru_forward", _f32(steps, batch, units), zx, u, b_rec, h0)


def _gru_forward(zx, u, b_rec, h0):
    steps, batch, units = zx.shape[0], zx.shape[1], zx.shape[2] // 3
    hs, gates = _call(
        "forecasting_gru_forward_for_training",
        (_f32(steps, batch, units), _f32(steps, batch, 4 * _padded(units))),
        zx,
        u,
        b_rec,
        h0,
    )
    return hs, (u, h0, hs, gates)


def _gru_backward(saved, dhs):
    u, h0, hs, gates = saved
    steps, batch, units = hs.shape
    dzx, da, dh0 = _call(
        "forecasting_gru_backward",
        (_f32(steps, batch, 3 * units), _f32(steps, batch, 3 * units), _f32(batch, units)),
        dhs,
        u,
        h0,
        hs,
        gates,
    )
    h_prev = jnp.concatenate([h0[None], hs[:-1]])
    return dzx, jnp.einsum("tbh,tbg->hg", h_prev, da), da.sum(axis=(0, 1)), dh0


gru_recurrence.defvjp(_gru_forward, _gru_backward)


# ---------------------------------------------------------------- Keras' backend hooks


def _covered(inputs, mask, go_backwards, bias, activation, recurrent_activation) -> bool:
    from keras.src import activations

    return (
        mask is None
        and not go_backwards
        and bias is not None
        and activation is activations.tanh
        and recurrent_activation is activations.sigmoid
        and jnp.result_type(inputs) == jnp.float32
    )


def _outputs(hs, return_sequences: bool):
    last = hs[-1]
    return last, jnp.swapaxes(hs, 0, 1) if return_sequences else last[:, None, :]


def lstm(
    inputs,
    initial_state_h,
    initial_state_c,
    mask,
    kernel,
    recurrent_kernel,
    bias,
    activation,
    recurrent_activation,
    return_sequences=False,
    go_backwards=False,
    unroll=False,
):
    """`keras.src.backend.lstm`: (last output, outputs, [h, c])."""
    if not _covered(inputs, mask, go_backwards, bias, activation, recurrent_activation):
        raise NotImplementedError  # Keras runs its own loop
    zx = jnp.einsum("btf,fg->tbg", inputs, jnp.asarray(kernel)) + jnp.asarray(bias)
    hs, c = lstm_recurrence(
        zx,
        jnp.asarray(recurrent_kernel),
        jnp.asarray(initial_state_h),
        jnp.asarray(initial_state_c),
    )
    last, outputs = _outputs(hs, return_sequences)
    return last, outputs, [last, c]


def gru(
    inputs,
    initial_state,
    mask,
    kernel,
    recurrent_kernel,
    bias,
    activation,
    recurrent_activation,
    return_sequences=False,
    go_backwards=False,
    unroll=False,
    reset_after=True,
):
    """`keras.src.backend.gru`: (last output, outputs, [h])."""
    if not (
        reset_after and _covered(inputs, mask, go_backwards, bias, activation, recurrent_activation)
    ):
        return KERAS["gru"](
            inputs,
            initial_state,
            mask,
            kernel,
            recurrent_kernel,
            bias,
            activation,
            recurrent_activation,
            return_sequences=return_sequences,
            go_backwards=go_backwards,
            unroll=unroll,
            reset_after=reset_after,
        )
    bias = jnp.asarray(bias)
    zx = jnp.einsum("btf,fg->tbg", inputs, jnp.asarray(kernel)) + bias[0]
    hs = gru_recurrence(zx, jnp.asarray(recurrent_kernel), bias[1], jnp.asarray(initial_state))
    last, outputs = _outputs(hs, return_sequences)
    return last, outputs, [last]
