"""Disaggregated serving: the prefill pool of a class keeps up with the requests of the users
its aggregated replicas leave to the decode pool,
Σ_{prefill k} λ_k · R_k + (r / O) · Σ_{aggregated k} serves_k · R_k ≥ (r / O) · U
(`prefill_pool`), λ_k the requests/s one prefill replica serves within the p90 TTFT and its KV
egress (`serving.prefill_capacity`), r / O the requests/s of one user decoding at the class's
rate (Little's law), serves_k and U in users at that rate (`features.demand`: for a class
asking for a request rate, (r / O) · U is that rate and (r / O) · serves_k the requests/s an
aggregated replica turns over at its own TPOT). The demand row makes the decode pool hold
those users; its spare slots bring no requests, so they need no prefill. Under `maximize`
every user of a decode replica counts, so the pool serves all of their requests:
Σ_{prefill k} λ_k · R_k ≥ (r / O) · Σ_{decode k} users_k · R_k.

The row is declared in users at the class's rate (times O / r), as the demand row is: in
requests/s a class of a tiny rate (1e-6 tokens/s per user: 3e-8 requests/s of 30 users) asks
less than the solver's feasibility tolerance, and a fleet with no prefill replica passed it
(the re-check then failed, `prefill-pool` −1). Its marginal and slack are read back per
request/s (`marginal`)."""

from __future__ import annotations

from designer.optimize.data import FleetData
from designer.optimize.modeling import pyo

MARGINALS = {"prefill_pool": ("request/s", 1.0)}


def label(data: FleetData, component: str, index) -> str:
    return f"prefill_pool[{data.problem.classes[index].name}]"


def marginal(
    data: FleetData, m, component: str, index, lp_marginal: float, slack: float, value, scale
) -> tuple[float, dict]:
    """The row's dual and slack, in users at the class's rate, per request/s: a request/s is
    O / r such users."""
    pu = per_user(data, index)
    return lp_marginal / pu, {"slack": slack * pu}


def residuals(data: FleetData, rows: list[dict], tot: dict) -> dict[str, float]:
    """Requests/s the prefill rows serve within the TTFT over those the decode rows' users
    send, per class with a decode pool, minus 1."""
    p = data.problem
    r = {}
    for j, wc in enumerate(p.classes):
        mine = [x for x in rows if x["class_index"] == j]
        if wc.serving is None or not any(x["phase"] == "decode" for x in mine):
            continue
        need = sum(x["metrics"]["requests_per_s"] for x in mine if x["phase"] == "decode")
        have = sum(x.get("requests_capacity", 0.0) for x in mine if x["phase"] == "prefill")
        tag = f"[{wc.name}]" if len(p.classes) > 1 else ""
        r[f"prefill-pool{tag}"] = have / need - 1.0 if need else 0.0
    return r


def classes(data: FleetData) -> list[int]:
    """The classes with a decode pool (their decode replicas need prefill replicas) and users
    to serve."""
    c = data.columns
    return sorted(
        {
            int(j)
            for j, ph in zip(c.cls, c.phase, strict=True)
            if ph == "decode" and (data.demand[int(j)] > 0 or data.problem.sense == "maximize")
        }
    )


def applies(data: FleetData) -> bool:
    return bool(classes(data))


def per_user(data: FleetData, j: int) -> float:
    """Requests/s of one user of class j at its rate: r / O."""
    wc = data.problem.classes[j]
    return wc.target_utps / wc.workload.output_tokens


def declare(m: pyo.ConcreteModel, data: FleetData) -> None:
    c = data.columns
    m.P = pyo.Set(initialize=classes(data), ordered=True)

    def row(m, j):
        serve = [k for k in m.K if c.cls[k] == j and c.phase[k] in ("prefill", "aggregated")]
        if not serve:  # no prompt can be served: the decode pool stays empty
            return sum(m.replicas[k] for k in m.K if c.cls[k] == j and c.phase[k] == "decode") <= 0
        if data.problem.sense == "maximize":
            served = [k for k in m.K if c.cls[k] == j and c.phase[k] != "prefill"]
            serve = [k for k in serve if c.phase[k] == "prefill"]
            if not serve:
                return sum(m.replicas[k] for k in served if c.phase[k] == "decode") <= 0
            users = sum(int(c.users[k]) * m.replicas[k] for k in served if c.phase[k] == "decode")
        else:  # a request rate's λ (at least one user's, as the demand row)
            users = data.demand[j]
        pu = per_user(data, j)  # the row in users at the class's rate: requests/s × O / r
        return (
            sum(
                (
                    float(c.requests_capacity[k]) / pu
                    if c.phase[k] == "prefill"
                    else float(c.serves[k])
                )
                * m.replicas[k]
                for k in serve
            )
            - users
            >= 0
        )

    m.prefill_pool = pyo.Constraint(m.P, rule=row)
