"""Per-series work in batches: a plain loop in this process, or one Ray task per batch on the
cluster at `RAY_ADDRESS` when that is set (../shared/DESIGN.md section 8).

Ray is imported only when `RAY_ADDRESS` is set, inside `map_batches`: the Streamlit server never
runs this. A batch is the unit of work (not one task per tiny series), so the cost of a task
(milliseconds) is paid once per batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from forecasting.errors import ConfigError

ADDRESS_VARIABLE = "RAY_ADDRESS"


def batches(items: Sequence, batch_size: int) -> list[list]:
    """`items` cut into lists of at most `batch_size`, in order.

    Raises:
        ConfigError: `batch_size` below 1.
    """
    if batch_size < 1:
        raise ConfigError(f"`batch_size` must be at least 1. Received: {batch_size}")
    items = list(items)
    return [items[i : i + batch_size] for i in range(0, len(items), batch_size)]


def map_batches(fn: Callable[[list], list], items: Sequence, batch_size: int) -> list[Any]:
    """`fn` over `items` in batches; the results of every batch joined, in the items' order.

    Without `RAY_ADDRESS`, each batch runs here, one after another. With it, each batch is one
    Ray task on that cluster (this process connects once and stays connected); `fn` must be
    importable there (a function of the `forecasting` package) or picklable by value.

    Args:
        fn: Maps a list of items to a list of as many results.
        items: The work.
        batch_size: Items per batch (per task on a cluster).

    Raises:
        ConfigError: `batch_size` below 1; `RAY_ADDRESS` names no running cluster; `fn`
            returned a different number of results than it was given items.
    """
    chunks = batches(items, batch_size)
    address = os.environ.get(ADDRESS_VARIABLE, "").strip()
    results = _on_ray(fn, chunks, address) if address and chunks else [fn(c) for c in chunks]
    joined = []
    for chunk, result in zip(chunks, results, strict=True):
        result = list(result)
        if len(result) != len(chunk):
            raise ConfigError(
                f"{getattr(fn, '__name__', fn)!s} returned {len(result)} results for a batch of "
                f"{len(chunk)} items; it must return one per item."
            )
        joined.extend(result)
    return joined


def _call(fn: Callable[[list], list], chunk: list) -> list:
    """What one Ray task runs."""
    return list(fn(chunk))


def _on_ray(fn: Callable[[list], list], chunks: list[list], address: str) -> list[list]:
    import ray

    if not ray.is_initialized():
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(
                f"{ADDRESS_VARIABLE}={address} names no running Ray cluster ({exc}). Start "
                f"one (`ray start --head`) and set {ADDRESS_VARIABLE} to its address, or "
                f"unset {ADDRESS_VARIABLE} to run here."
            ) from None
    task = ray.remote(_call)
    return ray.get([task.remote(fn, chunk) for chunk in chunks])
