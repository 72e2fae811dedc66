"""Replicas per column and whole servers per chip type.

R_k ∈ ℤ≥0 replicas of column k; S_c ∈ ℤ≥0 servers of chip type c, which hold the chips the
replicas use: server_chips_c · S_c ≥ Σ_{k of c} chips_k · R_k (`servers`)."""

from __future__ import annotations

from designer.optimize.data import FleetData
from designer.optimize.modeling import pyo

LINKING = ("servers_hold_chips",)  # rows that tie variables together, no requirement of their own


def residuals(data: FleetData, rows: list[dict], tot: dict) -> dict[str, float]:
    """Chips installed in whole servers over chips in use, per chip type, minus 1."""
    return {
        f"servers-hold-chips[{b['chip']}]": b["servers"]
        * b["server_chips"]
        / max(b["chips_in_use"], 1)
        - 1.0
        for b in tot["by_chip"]
    }


def applies(data: FleetData) -> bool:
    return True


def declare(m: pyo.ConcreteModel, data: FleetData) -> None:
    c = data.columns
    m.K = pyo.Set(initialize=range(len(c)), ordered=True)
    m.C = pyo.Set(initialize=data.types, ordered=True)
    m.replicas = pyo.Var(
        m.K, domain=pyo.NonNegativeIntegers, bounds=lambda m, k: (0, int(data.rmax[k]))
    )
    m.servers = pyo.Var(
        m.C, domain=pyo.NonNegativeIntegers, bounds=lambda m, ty: (0, data.smax[ty])
    )
    by_type = {ty: [k for k in range(len(c)) if c.chip[k] == ty] for ty in data.types}
    m.chips_used = pyo.Expression(
        m.C, rule=lambda m, ty: sum(int(c.chips[k]) * m.replicas[k] for k in by_type[ty])
    )
    m.servers_hold_chips = pyo.Constraint(
        m.C, rule=lambda m, ty: data.server_chips[ty] * m.servers[ty] >= m.chips_used[ty]
    )
    m.chips_total = pyo.Expression(expr=sum(m.chips_used[ty] for ty in m.C))


def export(m: pyo.ConcreteModel, data: FleetData, out: dict) -> None:
    out["replicas"] = {k: int(round(pyo.value(m.replicas[k]))) for k in m.K}
    out["servers"] = {ty: int(round(pyo.value(m.servers[ty]))) for ty in m.C}
