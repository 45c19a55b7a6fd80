"""The server never imports TensorFlow, Keras or JAX: opening the app, drawing every page
(results included) and forecasting from an uploaded bundle happen in a fresh interpreter that
must end without any of them loaded. Jobs run with the process runner, as in production: a
page that loaded the bundle itself (or an inline worker) would import Keras here."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from app_helpers import APP, ROOT

SCRIPT = (
    textwrap.dedent("""
    import sys
    import time
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    job = sys.argv[1]
    at = AppTest.from_file(%r, default_timeout=60).run()
    assert not at.exception, at.exception
    for page in ("data", "train", "evaluate", "forecast", "runs"):
        at.session_state["jobs"] = [job]
        at.session_state["job"] = job
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        assert at.title[0].value.lower() == page, page
    at.switch_page("pages/train.py").run()
    at.slider(key="p_units").set_value(8).run()
    at.switch_page("pages/forecast.py").run()
    bundle = (Path(sys.argv[2]) / job / "bundle.zip").read_bytes()
    at.file_uploader(key="bundle_uploader").set_value(("model.zip", bundle, "application/zip"))
    at.run()

    def forecast_shown():
        return any("Bundle checked" in s.value for s in at.success)

    deadline = time.monotonic() + 240
    while not (forecast_shown() or at.error) and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()  # polls the forecast job, as the page's fragment does
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert forecast_shown(), "no forecast from the bundle"
    heavy = sorted(m for m in ("tensorflow", "keras", "jax") if m in sys.modules)
    print("IMPORTED:", heavy)
    sys.exit(1 if heavy else 0)
""")
    % APP
)


def test_drawing_every_page_and_a_bundle_upload_do_not_import_tensorflow(trained_job, jobs_dir):
    env = {**os.environ, "FORECASTING_JOBS_DIR": str(jobs_dir), "FORECASTING_RUNNER": "process"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, trained_job, str(jobs_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "IMPORTED: []" in done.stdout
