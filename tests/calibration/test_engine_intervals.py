"""scripts/engine_intervals.py: the intervals answers naming an engine print, against that
engine's platforms held out within the engine."""

from __future__ import annotations

import numpy as np

from designer.calibration import profiles
from designer.calibration.calibrate import cross_validate
from designer.calibration.measurements import bundled_path, load
from designer.calibration.validate import validate


def test_each_engine_profile_is_checked_on_its_platforms_held_out(load_script, catalog):
    checked = load_script("engine_intervals").checked(bundled_path())
    rows = load(bundled_path(), catalog)
    cv = cross_validate(rows, catalog, "platform", within="engine")
    engines = {p.removeprefix("generic-") for p in profiles.load() if p.startswith("generic-")}
    assert set(checked) == engines
    for engine, c in checked.items():
        ks = [k for k, r in enumerate(rows) if r.engine == engine]
        np.testing.assert_allclose(c["held_out_ms"], cv.errors.predicted_ms[ks], rtol=1e-12)
        np.testing.assert_allclose(c["measured_ms"], [rows[k].measured_ms for k in ks])
        assert np.all(c["fast"] < 1.0) and np.all(c["slow"] > 1.0)
        # the ends are those of the interval the engine's profile prints for the row
        first = validate([rows[ks[0]]], profiles.get(f"generic-{engine}"), catalog)["rows"][0]
        assert c["slow"][0] == first["high_ms"] / first["predicted_ms"]
