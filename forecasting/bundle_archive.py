"""Bundle archives: open and check a bundle `.zip` and its networks, shared by the bundles of
one series (`forecasting.bundle`) and of many (`forecasting.panel_bundle`).

Opening refuses a legacy `.h5` file, a file over `MAX_BUNDLE_BYTES` and anything that is not a
zip. The checks of its members refuse unexpected or duplicate names and any member that
unpacks to more than `MAX_MEMBER_BYTES`; `check_schema` checks a JSON object's keys and value
types. Each model file must match the SHA-256 recorded in `MANIFEST` and pass
`keras_file.check_keras_file` (its members and sizes, the layer and config classes it names,
the weights' sizes) before Keras reads it with `safe_mode=True`. A check that fails raises a
`BundleError` naming it, and nothing inside the archive runs. Writing packs each network as
`model_<i>.keras` with its SHA-256 beside the manifest. No pickle.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.errors import BundleError
from forecasting.keras_file import MAX_MEMBER_BYTES, check_keras_file, read_member
from forecasting.native import install as install_native_kernels

MANIFEST = "bundle.json"
MAX_BUNDLE_BYTES = 100 * 1024 * 1024
MODEL_NAME = re.compile(r"^model_([1-9]|10)\.keras$")  # the networks' members


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def library_versions() -> dict[str, str]:
    import keras

    from forecasting import __version__

    versions = {
        "forecasting": __version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
    }
    try:
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    except ImportError:  # pragma: no cover - another Keras backend without TensorFlow
        pass
    return versions


def open_archive(source: bytes | str | Path) -> zipfile.ZipFile:
    """The bundle's zip archive (bytes or a path), after the checks of the whole file.

    Raises:
        BundleError: A legacy `.h5` file, over `MAX_BUNDLE_BYTES`, or not a zip.
    """
    data = Path(source).read_bytes() if isinstance(source, (str, Path)) else bytes(source)
    if data[:8] == b"\x89HDF\r\n\x1a\n":
        raise BundleError(
            "This is a legacy Keras .h5 file. Only bundles (.zip) made by this "
            "app or the `forecasting train` command can be loaded."
        )
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(
            f"The bundle is {len(data) / 1e6:.0f} MB, over the "
            f"{MAX_BUNDLE_BYTES // 2**20} MB limit."
        )
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BundleError(
            "This file is not a model bundle (not a valid .zip; it may be "
            "truncated). Download the bundle again."
        ) from None


def check_members(archive: zipfile.ZipFile, allowed: set[str]) -> None:
    names = [info.filename for info in archive.infolist()]
    unexpected = sorted(set(names) - allowed)
    if unexpected or len(names) != len(set(names)):
        raise BundleError(
            f"Member check failed: unexpected file(s) in the bundle: "
            f"{', '.join(repr(n) for n in unexpected[:5]) or 'duplicates'}."
        )
    for info in archive.infolist():
        if info.file_size > MAX_MEMBER_BYTES:
            raise BundleError(
                f"Size check failed: {info.filename!r} unpacks to "
                f"{info.file_size / 1e6:.0f} MB, over the "
                f"{MAX_MEMBER_BYTES // 2**20} MB limit."
            )


def read_manifest(archive: zipfile.ZipFile, limit: int) -> dict:
    """The archive's `MANIFEST` as a JSON object, once its members passed `check_members`
    (the manifest and networks only) and it is at most `limit` bytes."""
    names = {info.filename for info in archive.infolist()}
    if MANIFEST not in names:
        raise BundleError(
            f"Member check failed: the bundle has no {MANIFEST}. Is this a bundle made by this app?"
        )
    check_members(archive, {MANIFEST} | {n for n in names if MODEL_NAME.match(n)})
    try:
        manifest = json.loads(read_member(archive, MANIFEST, limit))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError(f"Schema check failed: {MANIFEST} is not valid JSON.") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"Schema check failed: {MANIFEST} must hold an object.")
    return manifest


def check_schema(data: dict, schema: dict, where: str) -> None:
    for key, kind in schema.items():
        if key not in data:
            raise BundleError(f"Schema check failed: {where} lacks {key!r}.")
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BundleError(f"Schema check failed: {where}[{key!r}] has the wrong type.")


def read_models(archive: zipfile.ZipFile, manifest) -> list[bytes]:
    """The model files `manifest.models` lists (`{"file": "model_<i>.keras", "sha256": ...}`
    each), each checked against its SHA-256 and by `check_keras_file`.

    Raises:
        BundleError: A malformed model list, a hash mismatch or a failed file check.
    """
    files = []
    for i, entry in enumerate(manifest.models, start=1):
        if (
            not isinstance(entry, dict)
            or entry.get("file") != f"model_{i}.keras"
            or not isinstance(entry.get("sha256"), str)
        ):
            raise BundleError("Schema check failed: the model list is malformed.")
        data = read_member(archive, entry["file"], MAX_MEMBER_BYTES)
        if sha256_hex(data) != entry["sha256"]:
            raise BundleError(
                f"Hash check failed: {entry['file']} does not match the "
                f"SHA-256 recorded in {MANIFEST}; the bundle was modified or "
                f"damaged."
            )
        check_keras_file(data, entry["file"])
        files.append(data)
    return files


def save_networks(networks: list) -> tuple[list[dict], dict[str, bytes]]:
    """Each network as `model_<i>.keras` bytes: the manifest's model list (file, sha256) and
    the files by name."""
    models, files = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, network in enumerate(networks, start=1):
            path = Path(tmp) / f"model_{i}.keras"
            network.save(path)
            data = path.read_bytes()
            files[path.name] = data
            models.append({"file": path.name, "sha256": sha256_hex(data)})
    return models, files


def load_networks(files: list[bytes]) -> list:
    """Keras networks from checked `.keras` files (`read_models`), read with `safe_mode=True`.

    Raises:
        BundleError: Keras cannot load one of them.
    """
    import keras

    install_native_kernels()
    networks = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, data in enumerate(files, start=1):
            path = Path(tmp) / f"model_{i}.keras"
            path.write_bytes(data)
            try:
                networks.append(keras.saving.load_model(path, safe_mode=True, compile=False))
            except Exception as exc:  # Keras raises many types for damaged files
                raise BundleError(
                    f"Model check failed: Keras could not load model_{i}.keras "
                    f"({type(exc).__name__})."
                ) from None
    return networks


def zip_bytes(manifest: dict, files: dict[str, bytes]) -> bytes:
    """A bundle's `.zip` bytes: `MANIFEST` holding `manifest`, then the files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, default=json_default))
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a bundle")


__all__ = [
    "MANIFEST",
    "MAX_BUNDLE_BYTES",
    "check_members",
    "check_schema",
    "json_default",
    "library_versions",
    "load_networks",
    "open_archive",
    "read_models",
    "save_networks",
    "sha256_hex",
    "zip_bytes",
]
