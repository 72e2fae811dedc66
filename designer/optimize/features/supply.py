"""Supply per chip type (`[supply] "b200" = 2048`): the chips in whole servers bought stay
within what can be had, server_chips_c · S_c ≤ supply_c (`supply`)."""

from __future__ import annotations

from designer.optimize.data import FleetData
from designer.optimize.modeling import pyo


def _limited(data: FleetData) -> dict[int, int]:
    supply = dict(data.problem.supply)
    ct = data.columns.chip_types
    return {ty: supply[ct[ty].chip] for ty in data.types if ct[ty].chip in supply}


MARGINALS = {"supply": ("chip", 1.0)}


def label(data: FleetData, component: str, index) -> str:
    return f"supply[{data.columns.chip_types[index].chip}]"


def residuals(data: FleetData, rows: list[dict], tot: dict) -> dict[str, float]:
    """1 − chips installed / chips available, per limited chip type."""
    supply = dict(data.problem.supply)
    return {
        f"supply[{b['chip']}]": 1.0
        - b["servers"] * b["server_chips"] / max(supply[b["chip"]], 1e-300)
        for b in tot["by_chip"]
        if b["chip"] in supply
    }


def applies(data: FleetData) -> bool:
    return bool(_limited(data))


def declare(m: pyo.ConcreteModel, data: FleetData) -> None:
    limited = _limited(data)
    m.S = pyo.Set(initialize=sorted(limited), ordered=True)
    m.supply = pyo.Constraint(
        m.S, rule=lambda m, ty: data.server_chips[ty] * m.servers[ty] <= limited[ty]
    )
