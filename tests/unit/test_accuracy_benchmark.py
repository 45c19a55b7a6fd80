"""The accuracy benchmark's held-out cycles on the shared series."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks import accuracy


def test_each_origin_holds_out_an_earlier_cycle_with_at_most_1000_points_before(tmp_path,
                                                                              monkeypatch):
    dates = pd.date_range("2000-01-01", periods=1100, freq="D")
    values = np.sin(np.arange(1100) / 10) + 20
    pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Temp": values}).to_csv(
        tmp_path / "daily-min-temperatures.csv", index=False)
    monkeypatch.setattr(accuracy, "SHARED", tmp_path)
    cases = [c for c in accuracy.shared_cases(3) if c.group == "shared D"]
    assert [c.name for c in cases] == ["daily-min-temperatures", "daily-min-temperatures -1",
                                       "daily-min-temperatures -2"]
    for back, case in enumerate(cases):
        assert case.horizon == 14 and len(case.series) == 1014
        assert case.series.index[-1] == dates[-1 - 14 * back]
        np.testing.assert_allclose(case.series.values, values[1100 - 14 * back - 1014:
                                                               1100 - 14 * back])
    assert len([c for c in accuracy.shared_cases() if c.group == "shared D"]) == 1
