"""designer.interface.plausible: values that parse but are almost certainly unit typos are warned
about."""

from __future__ import annotations

import pytest

from designer.interface.cli import main
from designer.interface.plausible import warnings
from designer.optimize.problem import load_problem

QUICK = "problems/quickstart.toml"


@pytest.mark.parametrize(
    ("sets", "needle"),
    [
        ({"limits.max_power": "500 mW"}, "limits.max_power = 0.5 W: a fleet power cap under 1 kW"),
        ({"limits.max_facility_power": "900 W"}, "limits.max_facility_power = 900 W"),
        ({"limits.max_capex_usd": 0.5}, "limits.max_capex_usd = 0.5: a budget under $1"),
        ({"chips.h100-sxm.price_usd": 0.5}, "chips.h100-sxm.price_usd = 0.5: a price under $1"),
    ],
)
def test_unit_typos_are_warned(sets, needle):
    found = warnings(load_problem(QUICK, sets))
    assert len(found) == 1 and found[0].startswith(needle)


def test_plausible_values_are_not_warned():
    assert warnings(load_problem(QUICK, {"limits.max_power": "500 MW"})) == []
    assert warnings(load_problem(QUICK)) == []


def test_the_cli_warns_on_stderr_and_names_the_real_cause(capsys):
    code = main(["solve", QUICK, "--set", 'limits.max_power="500 mW"'])
    out, err = capsys.readouterr()
    assert code == 3
    assert err.startswith(f"designer: warning: {QUICK}: limits.max_power = 0.5 W")
    text = " ".join((out + err).split())
    assert "infeasible: no single replica" in text and "max_power = 0.5 W)" in text
    assert "cost data" not in text
