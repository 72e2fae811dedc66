"""Every feature module owns every face of its requirement (rows, residuals, marginals; per
configuration: screen, residual, explanation, name), and the check notices a module that
forgets one."""

from __future__ import annotations

import types

import numpy as np
import pyomo.environ as pyo
import pytest

from designer.optimize import columns as cm
from designer.optimize.data import fleet_data
from designer.optimize.features import (
    FEATURES,
    PER_CONFIGURATION,
    missing_configuration_faces,
    missing_faces,
)
from designer.optimize.problem import problem_from_dict
from designer.optimize.sensitivity import ROWS

RICH = {
    "workload": {"model": "llama3.1-8b", "prompt_tokens": 2000, "output_tokens": 500},
    "sla": {"tokens_per_s_per_user": 50, "requests_per_s": 4, "ttft": "1 s"},
    "serving": {"mode": "best"},
    "objective": {"minimize": "capex"},
    "space": {"chips": ["h100-sxm", "h200"], "tp": [1, 2], "pp": [1]},
    "limits": {"max_power": "1 MW", "max_capex_usd": 1e8, "max_chips": 4096},
    "fleet": {"max_configurations": 3, "max_chip_types": 2, "chip_type_fixed_cost_usd": 1000},
    "supply": {"h100-sxm": 512},
}


@pytest.fixture(scope="module")
def data():
    p = problem_from_dict(RICH)
    d = fleet_data(p, cm.build(p))
    assert all(f.applies(d) for f in FEATURES)  # every face is exercised
    return d


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.__name__.rsplit(".", 1)[-1])
def test_every_feature_has_every_face(data, feature):
    assert missing_faces(feature, data) == []


def test_sensitivity_rows_are_the_features_marginals():
    owned = [name for f in FEATURES for name in getattr(f, "MARGINALS", {})]
    assert sorted(owned) == sorted(ROWS)
    assert len(owned) == len(set(owned))


def test_a_feature_that_forgets_a_face_is_caught(data):
    """Mutation: a requirement row with no residual and no marginal."""

    def declare(m, d):
        m.extra_row = pyo.Constraint(expr=m.chips_total <= 10**9)

    forgetful = types.SimpleNamespace(__name__="forgetful", applies=lambda d: True, declare=declare)
    assert missing_faces(forgetful, data) == ["residuals", "marginal of extra_row"]
    forgetful.residuals = lambda d, rows, tot: {}
    forgetful.MARGINALS = {"extra_row": ("chip", 1.0)}
    assert missing_faces(forgetful, data) == []


def test_every_residual_comes_from_its_feature(data):
    from designer.optimize.solve import solve

    sol = solve(data.problem)
    names = {k.split("[")[0] for k in sol.record["residuals"]}
    assert {"demand", "capex-limit", "power-limit", "chips-limit", "supply", "chip-types"} <= names
    assert {"configurations", "servers-hold-chips", "ttft", "user-rate"} <= names


@pytest.mark.parametrize(
    "requirement", PER_CONFIGURATION, ids=lambda f: f.__name__.rsplit(".", 1)[-1]
)
def test_every_per_configuration_requirement_has_every_face(requirement):
    assert missing_configuration_faces(requirement) == []


def test_a_per_configuration_requirement_that_forgets_a_face_is_caught():
    """Mutation: a module with a name and a residual but no screen, no explanation, and a
    stage the presolve does not count."""
    forgetful = types.SimpleNamespace(
        __name__="forgetful",
        NAME="forgetful",
        TARGET="sla.nothing",
        STAGE="never_counted",
        applies=lambda wc, phase: True,
        residual=lambda p, wc, row: None,
    )
    assert missing_configuration_faces(forgetful) == [
        "explain",
        "screen (check | batch_limit | requests | load)",
        "stage 'never_counted' of columns.STAGES",
    ]
    forgetful.explain = lambda *a, **k: None
    forgetful.batch_limit = lambda c, idx: np.ones(len(idx), dtype=np.int64)
    forgetful.STAGE = "too_slow_at_batch_1"
    assert missing_configuration_faces(forgetful) == []


def test_every_per_configuration_residual_comes_from_its_requirement(data):
    from designer.optimize.solve import solve

    sol = solve(data.problem)
    names = {k.split("[")[0] for k in sol.record["residuals"]}
    rows = {r["phase"] for r in sol.record["fleet"]}
    expected = {
        f.NAME
        for f in PER_CONFIGURATION
        if any(f.applies(data.problem.classes[0], ph) for ph in rows)
    }
    assert expected <= names


def test_a_requirement_is_one_module(monkeypatch):
    """Adding a per-configuration limit is adding a module to the registry: a cap of 3 users
    per micro-batch (a `batch_limit` face) caps every column, names what binds, and has its
    residual in the re-check — with no other change."""
    from designer.optimize.features import per_configuration
    from designer.optimize.solve import solve

    p = problem_from_dict(
        {
            "workload": {"model": "llama3.1-8b", "context_tokens": 4096},
            "sla": {"tokens_per_s_per_user": 20, "concurrent_users": 64},
            "objective": {"minimize": "chips"},
            "space": {"chips": ["h100-sxm"], "tp": [1, 2], "pp": [1]},
        }
    )
    cap = types.SimpleNamespace(
        __name__="three",
        NAME="three-users",
        TARGET="nothing",
        STAGE="too_slow_at_batch_1",
        applies=lambda wc, phase: phase != "prefill",
        batch_limit=lambda c, idx: np.full(len(idx), 3, dtype=np.int64),
        residual=lambda problem, wc, row: 1.0 - row["design"]["batch"] / 3,
        explain=lambda *a, **k: None,
    )
    assert missing_configuration_faces(cap) == []
    monkeypatch.setattr(per_configuration, "REQUIREMENTS", (*PER_CONFIGURATION, cap))
    c = cm.build(p)
    assert len(c) and (c.batch <= 3).all() and set(c.limited_by) == {"three-users"}
    sol = solve(p)
    assert sol.record["residuals"]["three-users"] >= 0
    assert "three-users" in sol.record["binding"]
    assert sol.record["totals"]["chips"] == 64 // 3 + 1  # 22 replicas of TP1, 3 users each
