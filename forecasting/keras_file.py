"""Checks of one `.keras` file inside a bundle, before Keras reads a byte of it: its members
and sizes, the layer and config classes it names, and the weights' unpacked sizes against what
its configuration allows (read from the HDF5 headers, nothing decompressed)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np

from forecasting.errors import BundleError
from forecasting.models import ALLOWED_LAYERS

MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_MANIFEST_BYTES = 5 * 1024 * 1024
MAX_UNITS = 1024  # the largest `units` a run configuration allows
MAX_WEIGHT_ARRAYS = 1000
_KERAS_MEMBERS = {"config.json", "metadata.json", "model.weights.h5"}
# Non-layer classes a Keras model config legitimately names.
_CONFIG_CLASSES = {
    "Functional",
    "DTypePolicy",
    "FloatDTypePolicy",
    "GlorotUniform",
    "Orthogonal",
    "Zeros",
    "Ones",
    "HeNormal",
    "HeUniform",
    "RandomNormal",
    "RandomUniform",
    "VarianceScaling",
    "__tuple__",
    "__keras_tensor__",
    "__numpy__",
    "KerasTensor",
    "Adam",
}


def read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """The member `name` of `archive`, refused when it holds more than `limit` bytes."""
    try:
        with archive.open(name) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
        raise BundleError(f"The bundle is damaged: {name!r} cannot be read ({exc}).") from None
    if len(data) > limit:
        raise BundleError(f"Size check failed: {name!r} is larger than its header says.")
    return data


def check_keras_file(data: bytes, name: str) -> None:
    """Refuse a `.keras` file whose config names any class the project does not create."""
    try:
        inner = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BundleError(f"Model check failed: {name} is not a Keras file.") from None
    with inner:
        members = {info.filename for info in inner.infolist()}
        if members != _KERAS_MEMBERS:
            raise BundleError(f"Model check failed: {name} holds unexpected files.")
        for info in inner.infolist():
            if info.file_size > MAX_MEMBER_BYTES:
                raise BundleError(f"Size check failed: {name}/{info.filename} is too large.")
        try:
            config = json.loads(read_member(inner, "config.json", MAX_MANIFEST_BYTES))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BundleError(f"Model check failed: {name} has an unreadable config.") from None
        weights = read_member(inner, "model.weights.h5", MAX_MEMBER_BYTES)
    layers = config.get("config", {}).get("layers") if isinstance(config, dict) else None
    if config.get("class_name") != "Functional" or not isinstance(layers, list):
        raise BundleError(f"Model check failed: {name} is not a model made by this project.")
    for layer in layers:
        kind = layer.get("class_name") if isinstance(layer, dict) else None
        if kind not in ALLOWED_LAYERS:
            raise BundleError(
                f"Layer check failed: {name} contains a {kind!r} layer; only "
                f"{', '.join(sorted(ALLOWED_LAYERS))} are allowed."
            )
    _check_classes(config, name)
    _check_weights(weights, name, _weights_budget(layers, name))


def _weights_budget(layers: list, name: str) -> int:
    """The most numbers the weights file of a network with these layers can hold: per layer
    with units, 4 gates x (inputs + units + 2 biases) x units; three copies (the weights and
    the optimizer's two moments) and a few scalars."""
    total, inputs = 0, 1
    for layer in layers:
        settings = layer.get("config")
        units = settings.get("units") if isinstance(settings, dict) else None
        if units is None:
            continue
        if not isinstance(units, int) or isinstance(units, bool) or not 1 <= units <= MAX_UNITS:
            raise BundleError(
                f"Model check failed: {name} declares a layer of {units!r} "
                f"units; this project makes 1 to {MAX_UNITS}."
            )
        total += 4 * (inputs + units + 2) * units
        inputs = units
    return 3 * total + 64


def _check_weights(data: bytes, name: str, budget: int) -> None:
    """Refuse a weights file whose arrays, unpacked, hold more numbers than the network's
    configuration allows (`budget`): read from the HDF5 headers, before anything is
    decompressed, so a tiny file that unpacks to gigabytes never reaches Keras."""
    import h5py

    arrays: list[tuple[str, int, object]] = []

    def visit(path: str, node) -> None:
        if isinstance(node, h5py.Dataset):
            shape = node.shape or ()
            arrays.append((path, int(np.prod(shape, dtype=object)), node.dtype))

    try:
        with h5py.File(io.BytesIO(data), "r") as weights:
            weights.visititems(visit)
    except Exception as exc:  # h5py raises OSError, ValueError, KeyError ... on damage
        raise BundleError(
            f"Model check failed: the weights in {name} cannot be read ({type(exc).__name__})."
        ) from None
    if len(arrays) > MAX_WEIGHT_ARRAYS:
        raise BundleError(
            f"Size check failed: {name} holds {len(arrays)} weight arrays; a "
            f"network made by this project has far fewer."
        )
    total = 0
    for path, count, dtype in arrays:
        if dtype.kind not in "fiu" or dtype.itemsize > 8:
            raise BundleError(
                f"Model check failed: the weights array {path!r} in {name} "
                f"holds {dtype} values, not numbers."
            )
        total += count
        if total > budget:
            raise BundleError(
                f"Size check failed: the weights array {path!r} in {name} "
                f"unpacks to {count:,} numbers ({count * dtype.itemsize / 1e6:,.0f} "
                f"MB); a network of its configuration holds at most {budget:,} "
                f"in all. The bundle was modified or damaged."
            )


def _check_classes(node, name: str) -> None:
    """Every `class_name` anywhere in the config is a built-in Keras class we expect."""
    if isinstance(node, dict):
        kind = node.get("class_name")
        if kind is not None:
            module = node.get("module")
            registered = node.get("registered_name")
            if (
                kind not in ALLOWED_LAYERS | _CONFIG_CLASSES
                or (module is not None and not str(module).startswith("keras"))
                or (registered not in (None, kind))
            ):
                raise BundleError(
                    f"Layer check failed: {name} refers to class {kind!r} "
                    f"from {module!r}, which this project never creates."
                )
        for value in node.values():
            _check_classes(value, name)
    elif isinstance(node, list):
        for value in node:
            _check_classes(value, name)
