"""Every feature module owns every face of its requirement (rows, residuals, marginals), and
the check notices a module that forgets one."""

from __future__ import annotations

import types

import pyomo.environ as pyo
import pytest

from designer.optimize import columns as cm
from designer.optimize.data import fleet_data
from designer.optimize.features import FEATURES, missing_faces
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
