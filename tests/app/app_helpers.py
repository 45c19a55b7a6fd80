"""Helpers shared by the AppTest modules."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 120  # the first training imports TensorFlow
TINY = {"epochs": 2, "units": 4, "ensemble": 1}
SAMPLE = "Monthly sales (seasonal)"


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def open_page(page: str, **session) -> AppTest:
    """The app after a first run, with `session` values set, switched to `pages/<page>.py`."""
    at = new_app()
    at.run()
    for key, value in session.items():
        at.session_state[key] = value
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def with_job(page: str, job: str) -> AppTest:
    """A page of a session whose (only) training is `job`."""
    return open_page(page, jobs=[job], job=job)


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def download_content(at: AppTest, key: str, seen: dict) -> bytes:
    button = at.get("download_button")
    url = next(b.proto.url for b in button if b.key == key)
    assert url, f"download {key} has no content"
    return seen[os.path.splitext(url.rsplit("/", 1)[-1])[0]]


def copy_job(jobs_dir: Path, job: str, new_id: str) -> str:
    """A copy of a finished job's folder under another id (to alter its files safely)."""
    shutil.rmtree(jobs_dir / new_id, ignore_errors=True)
    shutil.copytree(jobs_dir / job, jobs_dir / new_id)
    return new_id
