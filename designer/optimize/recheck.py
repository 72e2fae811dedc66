"""From the MILP's replicas and servers to the answer, re-checked by the forward model.

Users are spread over the chosen configurations of each class (cheapest per user first, each
filled up to its capacity), every configuration's batch is the fewest users per micro-batch that
hold its share, and every configuration is evaluated again with `evaluate.assess` (numpy). A
class asking for a request rate has its requests/s spread instead (cheapest per request first,
each configuration up to what its replicas turn over, `Columns.serves`), each holding the users
its share keeps in flight (`_in_flight`; whether they fit its slots is a residual). The
residual of every requirement is reported (≥ 0 when met); the objective reported is the one
recomputed from the re-checked fleet.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from designer.calibration import intervals, profiles
from designer.calibration.evaluate import Design, assess
from designer.model import serving
from designer.model.cost import cost_per_mtoken, mtokens_per_year
from designer.model.workload import Workload
from designer.optimize.columns import demanded_tokens_per_s, requirements, units_to_serve
from designer.optimize.data import FleetData
from designer.optimize.features import FEATURES

TOLERANCE = 1e-9


def fleet_rows(data: FleetData, replicas: dict[int, int]) -> list[dict[str, Any]]:
    """One row per configuration in use: its design, users and the forward model's metrics."""
    p, c = data.problem, data.columns
    chosen = [k for k, r in replicas.items() if r > 0]
    share = {k: _cost_per_user(data, k) for k in chosen}
    rows = []
    for j, wc in enumerate(p.classes):
        # aggregated replicas first: the decode pool holds the users they leave, and the
        # prefill pool serves those users' requests (features.prefill_pool)
        ks = sorted(
            (k for k in chosen if c.cls[k] == j),
            key=lambda k: (c.phase[k] != "aggregated", share[k], k),
        )
        left = wc.users if p.sense == "minimize" and wc.users else None
        asked = wc.by_requests and p.sense == "minimize"
        if asked:  # requests/s, spread at most what each replica turns over at a full batch
            left = wc.serving.requests_per_s
        for k in (k for k in ks if c.phase[k] != "prefill"):
            r = replicas[k]
            capacity = r * int(c.users[k])
            requests = None
            if asked:
                most = r * float(c.serves[k]) * wc.target_utps / wc.workload.output_tokens
                requests = min(most, left)
                left -= requests
                users = _in_flight(data, k, j, r, requests)
            else:
                users = capacity if left is None else min(capacity, left)
                if left is not None:
                    left -= users
            if (asked and c.phase[k] == "aggregated") or not users:
                # a request rate's aggregated row keeps the slots its column holds: its
                # requirements hold there at any lighter load, while fewer slots need not be
                # faster (MoE experts with data-parallel attention: a chunk's further experts
                # fall as the batch grows)
                batch = int(c.batch[k])
            else:
                batch = int(units_to_serve(users, r * int(c.p[k])))
            design = _design(c, k, max(batch, 1), r)
            rows.append(_row(data, k, j, design, users, capacity, requests))
        if wc.serving is not None:
            pf = [k for k in ks if c.phase[k] == "prefill"]
            rows += _prefill_rows(data, j, {k: replicas[k] for k in pf}, rows)
    return rows


def _design(c, k: int, batch: int, replicas: int) -> Design:
    """Column k's design at `batch` with `replicas`."""
    return Design(
        c.chip_types[int(c.chip[k])].chip,
        int(c.t[k]),
        int(c.p[k]),
        batch,
        replicas,
        int(c.ep[k]),
        str(c.attention[k]),
    )


def _in_flight(data: FleetData, k: int, j: int, replicas: int, requests: float) -> int:
    """The users `replicas` replicas of column k hold in flight turning over `requests`/s of
    a class asking for a request rate: λ·O·TPOT (Little's law), TPOT that of their full batch
    at that load (a lighter batch only shortens it; at the slow end of its interval under a
    confidence), in whole users, reported at most their batches' slots (whether the users fit
    is the row's `slots` residual, `features.slots`)."""
    p, c = data.problem, data.columns
    if requests <= 0:
        return 0
    wc = p.classes[j]
    design = _design(c, k, int(c.batch[k]), replicas)
    prof, wl = _profiled(p, wc, design.chip)
    tpot = _serving_metrics(data, j, wl, design, str(c.phase[k]), requests)["tpot_s"]
    if wc.confidence:
        tpot *= _slow_factor(prof, wl, design, wc.confidence)
    users = int(np.ceil(requests * wl.output_tokens * tpot * (1 - 1e-12)))
    return max(1, min(users, replicas * int(c.users[k])))


def _profiled(p, wc, chip: str) -> tuple[Any, Workload]:
    """The profile a row on `chip` is judged by and the class's workload with its efficiency
    (`profiles.workload_for`)."""
    prof = profiles.for_problem(p, chip, wc.workload)
    return prof, dataclasses.replace(wc.workload, efficiency=prof.efficiency)


def _slow_factor(prof, wl: Workload, design: Design, confidence: float) -> float:
    """The step-time factor at the slow end of `design`'s interval (`intervals.slow_factor`)."""
    return float(
        intervals.slow_factor(
            prof,
            wl,
            design.chip,
            design.tp,
            design.pp,
            design.ep,
            design.attention,
            design.batch,
            confidence,
        )
    )


def _row(
    data: FleetData, k: int, j: int, design: Design, users: int, capacity, requests=None
) -> dict:
    """A fleet row: the forward model's record of column k's design, with the serving metrics
    of its phase at the requests it serves (`serving.replica`) for a class with requests
    (`requests`, requests/s of the row: given for prefill rows and for the rows of a class
    asking for a request rate, their share of it; else decode rows: their users' at the
    class's rate; aggregated rows: their users' turning over at the TPOT they get, as the
    columns count them — all by Little's law)."""
    p, c = data.problem, data.columns
    wc = p.classes[j]
    prof, wl = _profiled(p, wc, design.chip)
    rec = intervals.attach(assess(wl, p.catalog, design, p.cost_basis), prof, wl)
    if wc.confidence:  # the rate the SLA is held to at the interval's slow end
        factor = _slow_factor(prof, wl, design, wc.confidence)
        rec["metrics"]["guaranteed_tokens_per_s_per_user"] = float(
            rec["metrics"]["tokens_per_s_per_user"] / factor
        )
    phase = str(c.phase[k])
    asked = wc.by_requests and p.sense == "minimize"
    if wc.serving is not None:
        if requests is None and phase == "decode":
            requests = serving.rate_for_users(users, wl.output_tokens, wc.target_utps)
        m = rec["metrics"]
        m.update(_serving_metrics(data, j, wl, design, phase, requests))
        if phase == "prefill":  # bound by its prompt's pass, not by a decode step it never runs
            rec["bottleneck"] = m["prefill_bottleneck"]
        if phase != "decode":  # the rates of the phase: 1/TPOT (0 for a prefill row)
            serving.rates_at_tpot(m, rec["interval"])  # and its 80% interval
            tpot = m["tpot_s"]
            m["system_tokens_per_s"] = design.users / tpot if tpot else 0.0
            if wc.confidence:  # TPOT at the slow end: the whole mean step slower by `factor`
                m["guaranteed_tokens_per_s_per_user"] = float(m["tokens_per_s_per_user"] / factor)
        if asked and phase != "prefill" and requests:  # its share of the rate: λ·O tokens/s
            m["system_tokens_per_s"] = float(m["requests_per_s"]) * wl.output_tokens
        if m["ttft_s"] is not None:  # the loaded TTFT's 80% interval (and guaranteed p90)
            rec["ttft_interval"] = _ttft_interval(data, j, wl, prof, design, phase, requests, m)
    else:
        m = rec["metrics"]
        m.update(dict.fromkeys(serving.REPLICA_METRICS), phase=phase)
        m["tpot_s"] = m["step_time_s"] / m["accepted_tokens_per_step"]
    return {
        "column": k,
        "class": wc.name,
        "class_index": j,
        "phase": phase,
        "users_served": users,
        "capacity": capacity,
        "limited_by": str(c.limited_by[k]),
        **rec,
    }


def _ttft_interval(
    data: FleetData, j: int, wl: Workload, prof, design: Design, phase: str, requests, m: dict
) -> dict[str, Any]:
    """A row's loaded TTFT interval (`ttft_interval.loaded`: its serving metrics with the
    prompt's service time at the ends of the one-prompt interval of the answer on its chip,
    TP and PP, under its profile and the problem's engine), put in `m` as `ttft_low_s`,
    `ttft_high_s`, `ttft_p90_low_s` and `ttft_p90_high_s`; with the class's TTFT confidence, `m`
    gains `guaranteed_ttft_p90_s`, the p90 at the slow end the target holds
    (`features.ttft.slow_ratio`)."""
    from designer.calibration import ttft_interval

    p, wc = data.problem, data.problem.classes[j]
    a = ttft_interval.answer_for(p.catalog, prof, p.engine, design.chip, wl, design.tp, design.pp)
    e = ttft_interval.ends(a)

    def at(scale: float) -> dict:
        return _serving_metrics(data, j, wl, design, phase, requests, scale)

    iv = ttft_interval.loaded(at(e.low), at(e.high), e)
    m.update({key: iv[key] for key in serving.TTFT_ENDS})
    if wc.ttft_confidence:
        m["guaranteed_ttft_p90_s"] = at(ttft_interval.slow_ratio(a, wc.ttft_confidence))[
            "ttft_p90_s"
        ]
    return iv


def _serving_metrics(
    data: FleetData,
    j: int,
    wl: Workload,
    design: Design,
    phase: str,
    requests: float | None,
    service_scale: float = 1.0,
):
    """`serving.replica` for one replica of `design` (workload `wl`, with its chip's
    efficiency) at its share of `requests` (requests/s of the whole row; None: Little's law at
    the replica's own TPOT), the prompt's service time `service_scale` times the model's."""
    p = data.problem
    wc = p.classes[j]
    out = serving.replica(
        wl,
        p.catalog,
        design.chip,
        tp=design.tp,
        pp=design.pp,
        batch=design.batch,
        ep=design.ep,
        attention=design.attention,
        phase=phase,
        requests_per_s=None if requests is None else requests / design.replicas,
        chunk_tokens=wc.serving.chunk_tokens,
        service_scale=service_scale,
    )
    out["requests_per_s"] *= design.replicas
    return out


def _prefill_rows(
    data: FleetData, j: int, replicas: dict[int, int], rows: list[dict]
) -> list[dict]:
    """Prefill rows of class j: the requests of its decode rows, spread over the chosen prefill
    configurations (most requests per chip first, each up to its capacity)."""
    c = data.columns
    need = sum(
        r["metrics"]["requests_per_s"]
        for r in rows
        if r["class_index"] == j and r["phase"] == "decode"
    )
    out = []
    for k in sorted(replicas, key=lambda k: (-c.requests_capacity[k] / c.chips[k], k)):
        reps = replicas[k]
        cap = float(c.requests_capacity[k]) * reps
        carried = min(cap, need)
        need -= carried
        row = _row(data, k, j, _design(c, k, 1, reps), 0, 0, carried)
        row["requests_capacity"] = cap
        out.append(row)
    return out


def _cost_per_user(data: FleetData, k: int) -> float:
    c = data.columns
    ty = int(c.chip[k])
    per_chip = data.server_capex[ty] / data.server_chips[ty]
    return per_chip * int(c.chips[k]) / max(float(c.serves[k]), 1e-300)


def totals(data: FleetData, rows: list[dict], servers: dict[int, int]) -> dict[str, Any]:
    """The fleet's chips, servers, capex, power, TCO and $/Mtoken (SI units)."""
    p = data.problem
    ct = data.columns.chip_types
    chips_by_type: dict[int, int] = {}
    for r in rows:
        ty = int(data.columns.chip[r["column"]])
        chips_by_type[ty] = chips_by_type.get(ty, 0) + r["design"]["chips"]
    used = {ty: n for ty, n in servers.items() if n > 0}
    fixed = p.chip_type_fixed_cost_usd * len(used)
    capex = sum(ct[ty].per_server("capex") * n for ty, n in used.items()) + fixed
    power = sum(ct[ty].per_server("power") * n for ty, n in used.items())
    power_limit = sum(ct[ty].per_server("power_limit") * n for ty, n in used.items())
    basis = p.cost_basis
    tco = sum(ct[ty].per_server("tco") * n for ty, n in used.items())
    tco += fixed / p.catalog.costs.amortization_years
    system = sum(r["metrics"]["system_tokens_per_s"] for r in rows)
    demanded = demanded_tokens_per_s(p)
    rate = demanded if demanded and p.sense == "minimize" else system
    served = [j for j, wc in enumerate(p.classes) if wc.serving is not None]
    per_class = {  # the demand asked for, or (maximize) what the rows that decode serve
        j: p.classes[j].serving.requests_per_s
        if p.sense == "minimize"
        else sum(
            r["metrics"]["requests_per_s"]
            for r in rows
            if r["class_index"] == j and r["phase"] != "prefill"
        )
        for j in served
    }
    requests = sum(per_class.values()) if served else None
    prompts = sum(n * p.classes[j].workload.prompt_tokens for j, n in per_class.items())
    return {
        "requests_per_s": requests,
        "cost_per_mtoken_counts": "output tokens",
        "cost_per_mtoken_with_prompts_usd": (
            float(cost_per_mtoken(p.catalog, tco, rate + prompts)) if rate and served else None
        ),
        "chips": int(sum(chips_by_type.values())),
        "servers": int(sum(used.values())),
        "chips_installed": int(sum(ct[ty].server_chips * n for ty, n in used.items())),
        "capex_usd": _num(capex),
        "power_w": float(power),
        "facility_power_w": float(power * p.catalog.costs.pue),
        "power_typical_w": float(sum(ct[ty].server_power_typical_w * n for ty, n in used.items())),
        "power_max_w": float(sum(ct[ty].server_power_max_w * n for ty, n in used.items())),
        "power_basis": basis.energy_power,
        "limit_power_basis": basis.limit_power,
        "limit_power_w": float(power_limit),
        "limit_facility_power_w": float(power_limit * p.catalog.costs.pue),
        "cost_basis": basis.basis,
        "rent_usd_per_hour": (
            float(sum(ct[ty].rent_usd_per_hour * ct[ty].server_chips * n for ty, n in used.items()))
            if basis.basis == "rent"
            else None
        ),
        "tco_usd_per_year": _num(tco),
        "cost_per_mtoken_usd": _num(float(cost_per_mtoken(p.catalog, tco, rate))) if rate else None,
        "users_served": int(sum(r["users_served"] for r in rows)),
        "system_tokens_per_s": float(system),
        "mtokens_per_year": float(mtokens_per_year(p.catalog, rate)),
        "by_chip": [
            {
                "chip": ct[ty].chip,
                "servers": n,
                "server_chips": ct[ty].server_chips,
                "chips_in_use": chips_by_type.get(ty, 0),
                "price_usd": _num(ct[ty].price_usd),
                "price_kind": ct[ty].price_kind,
                "price_basis": ct[ty].price_basis,
                "server_power_typical_w": _num(ct[ty].server_power_typical_w),
                "server_power_max_w": _num(ct[ty].server_power_max_w),
                "rent_usd_per_hour": _num(ct[ty].rent_usd_per_hour),
                "rent_kind": ct[ty].rent_kind if basis.basis == "rent" else None,
                "rent_basis": ct[ty].rent_basis if basis.basis == "rent" else None,
            }
            for ty, n in sorted(used.items())
        ],
    }


def _num(x: float) -> float | None:
    """JSON has no NaN: an unknown number is null."""
    return float(x) if np.isfinite(x) else None


def objective_value(data: FleetData, tot: dict[str, Any]) -> float:
    """The objective of a re-checked fleet, in SI units."""
    return {
        "capex": tot["capex_usd"],
        "power": tot["power_w"],
        "tco": tot["tco_usd_per_year"],
        "cost_per_mtoken": tot["cost_per_mtoken_usd"],
        "chips": float(tot["chips"]),
        "users": float(tot["users_served"]),
        "system_tokens_per_s": tot["system_tokens_per_s"],
    }[data.problem.objective]


def residuals(data: FleetData, rows: list[dict], tot: dict[str, Any]) -> dict[str, float]:
    """Relative slack of every requirement (≥ 0 when met), from the forward model: each
    configuration's (`features.PER_CONFIGURATION`: user rate or TPOT, TTFT, KV transfer,
    memory, batch; each its `residual` face), then each fleet feature's (`features.FEATURES`,
    its `residuals` face)."""
    p = data.problem
    r: dict[str, float] = {}
    for i, row in enumerate(rows):
        wc = p.classes[row["class_index"]]
        tag = f"[{i}]" if len(rows) > 1 else ""
        for requirement in requirements():
            slack = requirement.residual(p, wc, row)
            if slack is not None:
                r[f"{requirement.NAME}{tag}"] = slack
    for feature in FEATURES:  # every requirement of the master problem: its own residuals
        r.update(feature.residuals(data, rows, tot) if hasattr(feature, "residuals") else {})
    return r


def binding(data: FleetData, rows: list[dict], res: dict[str, float]) -> list[str]:
    """Requirements with no slack, and what caps each configuration's batch (the user rate,
    the memory, or the space's max_batch) — what keeps the fleet from being smaller."""
    bounds = {f.NAME for f in requirements() if getattr(f, "BOUND", False)}
    out = {_base(k) for k, v in res.items() if abs(v) <= 1e-6 and _base(k) not in bounds}
    out.discard("servers-hold-chips")
    for row in rows:
        out.add(row["limited_by"])
    return sorted(out)


def _base(key: str) -> str:
    return key.split("[", 1)[0]


def passed(res: dict[str, float]) -> bool:
    return all(v >= -TOLERANCE for v in res.values()) and all(np.isfinite(list(res.values())))
