"""`[costs]` of a problem: purchase or rent, which server power energy and limits use, and
explanations that name data (estimated or missing prices), not physics, as the cause."""

from __future__ import annotations

import pytest

from designer.model.cost import HOURS_PER_YEAR
from designer.model.errors import InfeasibleError, InputError
from designer.optimize.problem import load_problem
from designer.optimize.solve import solve

QUICK = "problems/quickstart.toml"


@pytest.fixture(scope="module")
def purchase():
    return solve(load_problem(QUICK))


@pytest.fixture(scope="module")
def rented():
    return solve(load_problem(QUICK, {"costs.basis": "rent"}))


def test_basis_rent_answers_the_quick_start(rented):
    rec = rented.record
    tot = rec["totals"]
    assert rec["status"] == "optimal" and rec["inputs"]["costs"]["basis"] == "rent"
    assert tot["cost_basis"] == "rent" and tot["rent_usd_per_hour"] > 0
    years = rec["inputs"]["costs"]["amortization_years"]
    assert tot["tco_usd_per_year"] == pytest.approx(tot["rent_usd_per_hour"] * HOURS_PER_YEAR)
    assert tot["capex_usd"] == pytest.approx(tot["tco_usd_per_year"] * years)
    assert rec["objective"]["value"] == pytest.approx(tot["capex_usd"])
    assert tot["cost_per_mtoken_usd"] > 0


def test_rent_and_purchase_serve_the_same_users(purchase, rented):
    for sol in (purchase, rented):
        assert sol.totals["users_served"] >= 256
    assert purchase.record["inputs"]["costs"]["basis"] == "purchase"


def test_power_basis_is_echoed_and_chooses_the_power(purchase):
    co = purchase.record["inputs"]["costs"]
    assert (co["power_basis"], co["limit_power_basis"]) == ("typical", "maximum")
    tot = purchase.totals
    assert tot["power_w"] == pytest.approx(tot["power_typical_w"])
    assert tot["power_typical_w"] < tot["power_max_w"]
    sol = solve(load_problem(QUICK, {"costs.power_basis": "maximum"}))
    co = sol.record["inputs"]["costs"]
    assert (co["power_basis"], co["limit_power_basis"]) == ("maximum", "maximum")
    assert sol.totals["power_w"] == pytest.approx(sol.totals["power_max_w"])


def test_a_power_limit_holds_the_maximum_draw():
    sol = solve(load_problem(QUICK, {"limits.max_power": "40 kW"}))
    tot = sol.totals
    assert tot["limit_power_w"] == pytest.approx(tot["power_max_w"])
    assert tot["power_max_w"] <= 40e3 * (1 + 1e-9)
    assert sol.record["residuals"]["power-limit"] >= 0


@pytest.mark.parametrize(
    ("key", "value"),
    [("costs.basis", "lease"), ("costs.power_basis", "peak"), ("costs.rent_term", "spot")],
)
def test_bad_cost_basis_is_an_input_error_naming_the_key(key, value):
    with pytest.raises(InputError, match=key.replace(".", r"\.")):
        load_problem(QUICK, {key: value})


def test_an_infeasibility_due_to_estimated_prices_names_them():
    """Only chips with estimated prices meet the cap: the explanation says so and how to admit
    them, and with them admitted the question answers."""
    sets = {
        "space.include_estimated": False,
        "space.chips": ["h100-sxm", "mi325x"],
        # at 53 tokens/s per user: 2 mi325x servers at maximum 25.2 kW; 4 h100: 40.8 kW (at 51,
        # 3 h100 servers, 30.6 kW, since the batch-sub-linear per-sequence time)
        "sla.tokens_per_s_per_user": 53,
        "limits.max_power": "38 kW",
    }
    with pytest.raises(InfeasibleError) as e:
        solve(load_problem(QUICK, sets))
    rec = e.value.record
    assert "mi325x" in rec["explanation"] and "estimate" in rec["explanation"]
    assert "space.include_estimated = true" in rec["explanation"]
    assert rec["best_achievable"]["feasible_with_estimates"] is True
    assert any(x["chip"] == "mi325x" and "estimate" in x["reason"] for x in rec["excluded"])
    sol = solve(load_problem(QUICK, {**sets, "space.include_estimated": True}))
    assert {r["chip"] for r in sol.fleet} == {"mi325x"}


def test_an_infeasibility_due_to_a_missing_price_names_it():
    """rubin has no price and nothing to estimate one from."""
    with pytest.raises(InfeasibleError) as e:
        solve(load_problem(QUICK, {"space.chips": ["rubin"], "workload.weight_dtype": "fp8"}))
    rec = e.value.record
    assert "rubin" in rec["explanation"] and "data, not physics" in rec["explanation"].lower()
    assert any("no price" in x["reason"] for x in rec["best_achievable"]["left_out_for_data"])


def test_evaluate_takes_the_cost_basis_and_echoes_it():
    from designer.calibration.evaluate import evaluate
    from designer.model.cost import CostBasis

    bought = evaluate("llama3.1-70b", "h100-sxm", tp=4, batch=16, context_tokens=8192)
    rented = evaluate(
        "llama3.1-70b",
        "h100-sxm",
        tp=4,
        batch=16,
        context_tokens=8192,
        cost_basis=CostBasis("rent"),
    )
    assert bought["cost_basis"]["basis"] == "purchase" and rented["cost_basis"]["basis"] == "rent"
    per_year = 8 * 2.42 * HOURS_PER_YEAR  # one 8-GPU server, on demand
    assert rented["metrics"]["tco_usd_per_year"] == pytest.approx(per_year)
    assert rented["metrics"]["power_w"] == bought["metrics"]["power_w"]


def test_renting_admits_a_published_rent_whatever_the_purchase_price():
    """mi325x has an estimated purchase price but a published $/h: renting with sourced prices
    only keeps it, and leaves out chips whose $/h is an estimate."""
    sets = {"costs.basis": "rent", "space.include_estimated": False}
    sol = solve(load_problem(QUICK, sets))
    excluded = {e["chip"]: e["reason"] for e in sol.record["excluded"]}
    assert "mi325x" not in excluded and "mi300x" not in excluded
    assert excluded["b200"].startswith("$/h is an estimate")
    assert {r["chip"] for r in sol.fleet} <= {"h100-sxm", "mi300x", "mi325x"}
