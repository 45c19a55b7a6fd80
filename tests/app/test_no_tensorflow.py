"""The server never imports TensorFlow, Keras or JAX: opening the app and drawing every page
(results included) happens in a fresh interpreter that must end without any of them loaded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from app_helpers import APP, ROOT

SCRIPT = (
    textwrap.dedent("""
    import sys
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
    heavy = sorted(m for m in ("tensorflow", "keras", "jax") if m in sys.modules)
    print("IMPORTED:", heavy)
    sys.exit(1 if heavy else 0)
""")
    % APP
)


def test_opening_and_drawing_every_page_does_not_import_tensorflow(trained_job, jobs_dir):
    env = {**os.environ, "FORECASTING_JOBS_DIR": str(jobs_dir), "FORECASTING_RUNNER": "inline"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, trained_job],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "IMPORTED: []" in done.stdout
