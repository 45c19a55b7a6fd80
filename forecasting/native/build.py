"""Compile `kernels.cc` once per machine into a shared library kept with the JAX cache.

The library is built with the machine's C++ compiler (`$CXX`, else `c++`) for its own CPU
(`-march=native`) against the XLA FFI headers that jaxlib ships, and named by a hash of
everything that shapes it (source, jaxlib, compiler, CPU), so a changed input builds anew
and a folder shared by different machines never hands one another's build. Without a
compiler, `library()` returns None and Keras' own loops run: slower, same results.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

from forecasting import cache_folder

SOURCE = Path(__file__).with_name("kernels.cc")
FLAGS = ("-O3", "-march=native", "-std=c++17", "-shared", "-fPIC", "-w")
log = logging.getLogger(__name__)


def _cpu() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    lines = [line for line in text.splitlines() if line.startswith(("model name", "flags"))]
    return "\n".join(sorted(set(lines)))


@functools.cache
def library() -> Path | None:
    """Path of the built library, building it on first use; None where it cannot be built."""
    import jax
    import jaxlib

    compiler = shutil.which(os.environ.get("CXX", "c++"))
    if compiler is None:
        log.info("No C++ compiler: LSTM and GRU layers run on Keras' own (slower) loops.")
        return None
    try:
        version = subprocess.run(
            [compiler, "--version"], capture_output=True, text=True, timeout=30
        ).stdout
        key = hashlib.sha256(
            "\0".join(
                [SOURCE.read_text(), jaxlib.__version__, version, _cpu(), " ".join(FLAGS)]
            ).encode()
        ).hexdigest()[:16]
        target = Path(cache_folder("native")) / f"kernels-{key}.so"
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            built = Path(scratch) / target.name
            done = subprocess.run(
                [compiler, *FLAGS, f"-I{jax.ffi.include_dir()}", str(SOURCE), "-o", str(built)],
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode:
                log.warning(
                    "Building the native RNN kernels failed; Keras' own loops run:\n%s",
                    done.stderr[-2000:],
                )
                return None
            os.replace(built, target)  # atomic: concurrent builders each leave a whole file
        return target
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("Building the native RNN kernels failed (%s); Keras' own loops run.", exc)
        return None
