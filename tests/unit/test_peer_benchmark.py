"""The neuralforecast peer of the many-series benchmark, without neuralforecast: the skip note,
the long-CSV export and the forecasts read back, the peer scored beside the global network."""

from __future__ import annotations

import argparse
import ast
import json
import sys

import numpy as np
import pandas as pd
import pytest

from benchmarks import panel as bench
from benchmarks import peer
from forecasting.panel import Panel
from forecasting.series import TimeSeries


def _panel(lengths=(60, 70, 80), ids=("1", "A 2", "b3")) -> Panel:
    series = []
    for k, n in enumerate(lengths):
        t = np.arange(n)
        values = 100 + 10 * k + 0.3 * t + 8 * np.sin(2 * np.pi * t / 12)
        index = pd.date_range("2001-01-01", periods=n, freq="MS", name="date")
        series.append(TimeSeries(values, index, "MS"))
    return Panel(tuple(series), tuple((i,) for i in ids), ("series_id",))


def test_without_a_peer_interpreter_the_part_is_skipped_with_one_note(
    monkeypatch, capsys, tmp_path
):
    monkeypatch.delenv(peer.PEER_ENV, raising=False)
    assert peer.peer_python(None) is None
    out = tmp_path / "result.json"
    assert bench.main(["--part", "peer", "--json", str(out)]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(printed) == 1
    assert printed[0].startswith("note: peer part skipped: no peer interpreter")
    assert "--peer-python" in printed[0] and peer.PEER_ENV in printed[0]
    assert json.loads(out.read_text()) == {"peer": {"skipped": printed[0]}}


def test_the_environment_variable_names_the_peer_and_the_option_wins(monkeypatch):
    monkeypatch.setenv(peer.PEER_ENV, "/opt/peer/bin/python")
    assert peer.peer_python(None) == "/opt/peer/bin/python"
    assert peer.peer_python("/other/python") == "/other/python"


def test_an_interpreter_without_neuralforecast_or_none_at_all_is_refused_clearly(tmp_path):
    try:
        import neuralforecast  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("this interpreter has neuralforecast")
    with pytest.raises(peer.PeerUnavailable, match="cannot import neuralforecast") as caught:
        peer.probe(sys.executable)
    assert "-m pip install neuralforecast" in str(caught.value)
    with pytest.raises(peer.PeerUnavailable, match="cannot start the peer interpreter"):
        peer.probe(str(tmp_path / "no-python"))
    with pytest.raises(peer.PeerUnavailable, match="no peer interpreter"):
        peer.probe(None)


def test_unknown_panels_are_refused_naming_the_choices(capsys):
    with pytest.raises(SystemExit):
        bench.main(["--part", "peer", "--panels", "m4-weekly,m3-monthly"])
    error = capsys.readouterr().err
    assert "unknown panel(s) m3-monthly" in error and "tourism-quarterly" in error


def test_the_long_csv_export_round_trips_ids_dates_and_values(tmp_path):
    panel = _panel()
    path = tmp_path / "train.csv"
    peer.export_long(panel, path)
    rows = pd.read_csv(path, dtype={"unique_id": str})
    assert list(rows.columns) == ["unique_id", "ds", "y"]
    back = Panel.from_long(rows, ["unique_id"], "ds", "y", "MS")
    assert back.labels == panel.labels  # "1" stays text, not the number 1
    for a, b in zip(panel.series, back.series, strict=True):
        np.testing.assert_allclose(a.values, b.values)
        assert (a.index == b.index).all()


def test_forecasts_are_read_back_in_date_order_and_a_missing_series_is_named(tmp_path):
    path = tmp_path / "forecast.csv"
    pd.DataFrame(
        {
            "unique_id": ["1", "1", "1", "b3", "b3", "b3"],
            "ds": ["2006-03-01", "2006-01-01", "2006-02-01"] * 2,
            "forecast": [3.0, 1.0, 2.0, 30.0, 10.0, 20.0],
        }
    ).to_csv(path, index=False)
    got = peer.read_forecasts(path, ["1", "b3"], 3)
    np.testing.assert_allclose(got["1"], [1, 2, 3])
    np.testing.assert_allclose(got["b3"], [10, 20, 30])
    with pytest.raises(ValueError, match="1 series without 3 forecast steps.*'A 2'"):
        peer.read_forecasts(path, ["1", "A 2", "b3"], 3)
    with pytest.raises(ValueError, match="without 4 forecast steps"):
        peer.read_forecasts(path, ["1"], 4)


def test_the_peer_script_never_imports_the_project():
    tree = ast.parse(peer.SCRIPT.read_text())
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
    }
    assert "forecasting" not in imported and "benchmarks" not in imported
    assert {"neuralforecast", "torch"} <= imported


def test_peer_forecasts_are_scored_beside_the_network_and_a_left_out_series_gets_theta():
    panel = _panel()
    horizon = 6
    test = {
        label: s.values[-horizon:] + 1.0
        for label, s in zip(panel.labels, panel.series, strict=True)
    }
    quick = argparse.Namespace(epochs=1, ensemble=1)
    first_two, third = panel.labels[:2], panel.labels[2]
    peers = {
        "peer none": {},  # every series left out: Theta's forecasts throughout
        "peer two": {label: test[label] for label in first_two},  # exact; Theta on the third
        "peer third": {third: test[third]},  # exact on the third, Theta on the other two
    }
    result = bench.score_panel(panel, test, horizon, 12, quick, peers)
    scores = result["aggregate"]
    assert {"model", "naive2", "theta", "peer none", "peer two", "peer third"} <= set(scores)
    assert scores["peer none"] == scores["theta"]
    for metric in ("smape", "mase"):  # Theta's per-series errors split between the two
        split = scores["peer two"][metric] + scores["peer third"][metric]
        assert split == pytest.approx(scores["theta"][metric])
        assert 0 < scores["peer two"][metric] < scores["theta"][metric]
    assert result["forecast_rows"] == 3 * horizon and result["train_seconds"] >= 0
