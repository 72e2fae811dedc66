"""`designer solve --json` prints pure JSON (no solver chatter, no NaN) for every objective and
edge case: max_batch 1, limits, infeasible questions, chips without cost data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from designer.interface.cli import main
from designer.optimize.problem import OBJECTIVES

ROOT = Path(__file__).resolve().parent.parent
QUICK = str(ROOT / "problems" / "quickstart.toml")
EDGES = {
    "plain": [],
    "max_batch 1": ["--set", "space.max_batch=1"],
    "power limit": ["--set", 'limits.max_power="60 kW"'],
    "infeasible": ["--set", "sla.tokens_per_s_per_user=100000"],
    "unknown cost": ["--set", 'space.chips=["tpu-v5e","h100-sxm"]'],
    "one configuration": ["--set", "fleet.max_configurations=1"],
}


def _strict(text: str):
    def refuse(name):
        raise ValueError(f"{name} in JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("edge", sorted(EDGES))
def test_json_is_pure_for_every_objective_and_edge_case(capsys, objective, edge):
    code = main(
        ["solve", QUICK, "--set", f"objective.minimize={objective}", *EDGES[edge], "--json"]
    )
    out, err = capsys.readouterr()
    record = _strict(out)  # the whole of stdout is one JSON document
    assert code in (0, 3), err
    assert record["status"] == ("infeasible" if code == 3 else "optimal")
    assert record["objective"]["name"] == objective
    if code == 0:
        assert record["recheck"] == "passed"
        assert record["objective"]["value"] > 0
