"""Keras' LSTM on JAX with the recurrence in native kernels (`lstm.cc`), same weights.

Keras asks its backend for an optimized LSTM first (`keras.src.backend.lstm`, the hook it
uses for cuDNN) and runs its own loop when that raises NotImplementedError. `lstm` below
answers for float32 layers with Keras' default activations, no mask and forward order:
the input projection and the weight gradients are single large products left to XLA, and
the step-by-step part runs in the kernels, forward and backward (`jax.custom_vjp`).
"""

from __future__ import annotations

import ctypes

import jax
import jax.numpy as jnp

from forecasting.native.build import library

FORWARD = "forecasting_lstm_forward"
FORWARD_FOR_TRAINING = "forecasting_lstm_forward_for_training"
BACKWARD = "forecasting_lstm_backward"
LANES = 16  # floats in a vector of the kernels; rows are padded to a multiple


def _padded(n: int) -> int:
    return -(-n // LANES) * LANES


def register() -> bool:
    """Load the kernels into XLA (once); False where they cannot be built."""
    path = library()
    if path is None:
        return False
    if not getattr(register, "done", False):
        lib = ctypes.cdll.LoadLibrary(str(path))
        for name, symbol in ((FORWARD, lib.ForecastingLstmForward),
                             (FORWARD_FOR_TRAINING, lib.ForecastingLstmForwardForTraining),
                             (BACKWARD, lib.ForecastingLstmBackward)):
            jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(symbol), platform="cpu")
        register.done = True
    return True


def _f32(*shape: int) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(shape, jnp.float32)


@jax.custom_vjp
def recurrence(zx, u, h0, c0):
    """Every step's h [T, B, H] and the last c [B, H] from zx = x @ W + b [T, B, 4H]."""
    steps, batch, units = zx.shape[0], zx.shape[1], zx.shape[2] // 4
    return jax.ffi.ffi_call(FORWARD, (_f32(steps, batch, units), _f32(batch, units)))(
        zx, u, h0, c0)


def _recurrence_forward(zx, u, h0, c0):
    steps, batch, units = zx.shape[0], zx.shape[1], zx.shape[2] // 4
    padded = _padded(units)
    hs, cs, gates = jax.ffi.ffi_call(
        FORWARD_FOR_TRAINING, (_f32(steps, batch, units), _f32(steps, batch, padded),
                               _f32(steps, batch, 4 * padded)))(zx, u, h0, c0)
    return (hs, cs[-1, :, :units]), (u, h0, c0, hs, cs, gates)


def _recurrence_backward(saved, grads):
    u, h0, c0, hs, cs, gates = saved
    dhs, dc_last = grads
    steps, batch, units = hs.shape
    dz, dh0, dc0 = jax.ffi.ffi_call(
        BACKWARD, (_f32(steps, batch, 4 * units), _f32(batch, units), _f32(batch, units)))(
        dhs, dc_last, u, c0, cs, gates)
    h_prev = jnp.concatenate([h0[None], hs[:-1]])
    return dz, jnp.einsum("tbh,tbg->hg", h_prev, dz), dh0, dc0


recurrence.defvjp(_recurrence_forward, _recurrence_backward)


def lstm(inputs, initial_state_h, initial_state_c, mask, kernel, recurrent_kernel, bias,
         activation, recurrent_activation, return_sequences=False, go_backwards=False,
         unroll=False):
    """`keras.src.backend.lstm`'s contract: (last output, outputs, [h, c])."""
    from keras.src import activations

    if (mask is not None or go_backwards or bias is None
            or activation is not activations.tanh
            or recurrent_activation is not activations.sigmoid
            or jnp.result_type(inputs) != jnp.float32):
        raise NotImplementedError
    zx = jnp.einsum("btf,fg->tbg", inputs, jnp.asarray(kernel)) + jnp.asarray(bias)
    hs, c = recurrence(zx, jnp.asarray(recurrent_kernel), jnp.asarray(initial_state_h),
                       jnp.asarray(initial_state_c))
    last = hs[-1]
    outputs = jnp.swapaxes(hs, 0, 1) if return_sequences else last[:, None, :]
    return last, outputs, [last, c]
