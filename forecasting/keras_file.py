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
MAX_STEPS = 2_000_000  # no window or horizon is longer than a file's rows (loading.MAX_ROWS)
MAX_FEATURES = 10_000  # features per step: the target, covariates (one-hot), calendar
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
    """The most numbers the weights file of a network with these layers can hold.

    The width each layer reads is followed from the input shapes the `InputLayer`s declare
    (`batch_shape`: steps and features per step, checked against `MAX_STEPS` and
    `MAX_FEATURES`) through the layers' connections: a recurrent layer reads the features of
    each step, a Dense layer after the `Concatenate` of the direct head reads the last
    layer's units plus horizon x known-ahead features. Per layer with units, 4 gates x
    (inputs + units + 2 biases) x units; three copies (the weights and the optimizer's two
    moments) and a few scalars.

    Raises:
        BundleError: A declared shape or a number of units beyond this project's bounds, or
            connections that cannot be followed.
    """
    shapes: dict[str, tuple[int, ...]] = {}  # layer name -> its output shape, batch left out
    pending = [layer for layer in layers if isinstance(layer, dict)]
    total = 0
    while pending:
        waiting = []
        for layer in pending:
            sources = _inbound(layer, name)
            if any(source not in shapes for source in sources):
                waiting.append(layer)
                continue
            kind, settings = layer.get("class_name"), layer.get("config")
            settings = settings if isinstance(settings, dict) else {}
            inputs = [shapes[source] for source in sources]
            if kind == "InputLayer":
                shape = _declared_shape(settings, name)
            elif kind == "Flatten":
                shape = (int(np.prod(inputs[0], dtype=object)),) if inputs else (0,)
            elif kind == "Concatenate":
                shape = (*inputs[0][:-1], sum(s[-1] for s in inputs)) if inputs else (0,)
            else:
                shape = inputs[0] if inputs else (1,)
            units = settings.get("units")
            if units is not None:
                _check_units(units, name)
                width = shape[-1] if shape else 1
                total += 4 * (width + units + 2) * units
                sequences = settings.get("return_sequences") is True
                shape = (*shape[:-1], units) if kind == "Dense" or sequences else (units,)
            shapes[str(layer.get("name"))] = shape
        if len(waiting) == len(pending):
            raise BundleError(
                f"Model check failed: the layers of {name} are connected to layers it does "
                "not hold."
            )
        pending = waiting
    return 3 * total + 64


def _inbound(layer: dict, name: str) -> list[str]:
    """The names of the layers whose outputs `layer` reads (from its `inbound_nodes`)."""
    found: list[str] = []

    def visit(node) -> None:
        if isinstance(node, dict):
            if node.get("class_name") == "__keras_tensor__":
                config = node.get("config")
                history = config.get("keras_history") if isinstance(config, dict) else None
                if not isinstance(history, list) or not history:
                    raise BundleError(f"Model check failed: {name} has malformed connections.")
                found.append(str(history[0]))
                return
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(layer.get("inbound_nodes", []))
    return found


def _declared_shape(settings: dict, name: str) -> tuple[int, ...]:
    """The (steps, features) an `InputLayer` declares, within this project's bounds."""
    shape = settings.get("batch_shape")
    if (
        not isinstance(shape, list)
        or len(shape) != 3
        or shape[0] is not None
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape[1:])
    ):
        raise BundleError(
            f"Input check failed: {name} declares the input shape {shape!r}; this project "
            "makes inputs of (batch, steps, features)."
        )
    steps, features = shape[1], shape[2]
    if steps > MAX_STEPS or features > MAX_FEATURES:
        raise BundleError(
            f"Input check failed: {name} declares inputs of {steps:,} steps x {features:,} "
            f"features; this project makes at most {MAX_STEPS:,} steps (the longest series "
            f"a file may hold) of at most {MAX_FEATURES:,} features."
        )
    return (steps, features)


def _check_units(units, name: str) -> None:
    if not isinstance(units, int) or isinstance(units, bool) or not 1 <= units <= MAX_UNITS:
        raise BundleError(
            f"Model check failed: {name} declares a layer of {units!r} "
            f"units; this project makes 1 to {MAX_UNITS}."
        )


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
    total = size = 0
    for path, count, dtype in arrays:
        if dtype.kind not in "fiu" or dtype.itemsize > 8:
            raise BundleError(
                f"Model check failed: the weights array {path!r} in {name} "
                f"holds {dtype} values, not numbers."
            )
        total += count
        size += count * dtype.itemsize
        if total > budget:
            raise BundleError(
                f"Size check failed: the weights array {path!r} in {name} "
                f"unpacks to {count:,} numbers ({count * dtype.itemsize / 1e6:,.0f} "
                f"MB); a network of its configuration holds at most {budget:,} "
                f"in all. The bundle was modified or damaged."
            )
        if size > MAX_MEMBER_BYTES:  # Keras writes weights uncompressed: never over the file
            raise BundleError(
                f"Size check failed: the weights in {name} unpack to more than "
                f"{MAX_MEMBER_BYTES // 2**20} MB (at the array {path!r}), over what a "
                "weights file may hold. The bundle was modified or damaged."
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
