"""scripts/interval_domains.py: the shipped intervals' held-out coverage by domain (README)."""

from __future__ import annotations

import pytest

from designer.calibration import intervals, widening


def test_the_domains_split_the_shipped_coverage(load_script, catalog):
    d = load_script("interval_domains").domains(catalog)
    shipped = intervals.shipped().coverage
    n, inside, half = d["all"]
    assert n == shipped["calibrated"]["points"]
    assert inside == pytest.approx(shipped["calibrated"]["inside"], abs=1e-3)
    assert half == pytest.approx(shipped["calibrated"]["median_half_width"], abs=1e-3)
    config = d["outside the others' data: a configuration dimension"]
    entry = shipped[widening.COVERAGE["configuration"]]
    assert config[0] == entry["points"]
    assert config[1] == pytest.approx(entry["inside"], abs=1e-3)
    # each split is a partition of the rows, and its shares add up to the whole
    for parts in (
        ("composed, dense", "composed, MoE", "platform, dense", "platform, MoE"),
        tuple(f"batch {b}" for b in intervals.BATCH_BINS),
        ("dense", "MoE"),
        (
            "outside the others' data: a configuration dimension",
            "outside the others' data: the model family only",
            "inside the others' data",
        ),
    ):
        assert sum(d[p][0] for p in parts) == n
        assert sum(d[p][0] * d[p][1] for p in parts) / n == pytest.approx(inside, abs=1e-6)
