"""The LIMINAL decode model as constraints of a Pyomo MILP (design.md §2).

One candidate k = (chip, t, p) per index; inside a candidate, bandwidth, compute and latencies
are constants, so every equation of §1 is linear in the candidate's batch B_k, with constant
terms multiplied by the choice binary y_k (a candidate not chosen contributes nothing).
Expressions and constraint groups carry the names of `perf`'s equations: `memory_time`,
`compute_time`, `sync_time`, `overhead_time`, `step_time_*` (the user-rate requirement
T ≤ 1/target, the max() written as two inequalities), `memory_per_chip` (capacity), `demand`
(users served), then `capex`, `power`, `tco`, `chips` and `limit_*`.

Variables: y_k ∈ {0,1}, batch B_k ∈ ℤ, replicas R_k ∈ ℤ. Exactness:
- Users served R_k·p_k·B_k ≥ U is R_k ≥ g(B_k) with g(B) = U/(p_k·B), convex. `demand` writes
  it as secants of g between integer breakpoints a < b, homogenized with y_k. A secant lies
  above g on [a, b] and below it outside, so the constraints never cut off a feasible integer
  (B, R); breakpoints are chosen (greedily) so that at every integer B in [a, b] the secant is
  ≤ ⌈g(B)⌉, hence with R integer they admit exactly R ≥ ⌈U/(p·B)⌉. Its LP relaxation is the
  perspective of g, which keeps the branch-and-bound tree tiny.
- MoE's expected distinct experts E·(1 − (1 − k/E)^B) is concave in B. It enters
  `memory_time` through its chord between the candidate's largest feasible integer batch b* and
  b* + 1 (computed by the numpy presolve). A concave function lies below its chord's extension
  outside [b*, b* + 1] and meets it at both ends, so at every integer batch the linearized
  user-rate requirement holds exactly when the true one does.
- cost_per_mtoken = TCO / (Mtokens a year) does not depend on the replica count (both scale
  with it), so it is the per-replica ratio tco_k / (mtok·p_k·B_k), minimized by Dinkelbach's
  method on min Σ tco_k·y_k − λ·mtok·Σ p_k·B_k (all linear); `solve` updates λ.

Scaling: times in ms, bytes in GB, money in k$, power in kW (bytes and seconds would put
coefficients between 1e-7 and 1e14).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from designer import perf
from designer.space import Candidates, mtokens_per_year_per_user, units_to_serve

MS, GB, KUSD, KW = 1e3, 1e-9, 1e-3, 1e-3  # seconds→ms, bytes→GB, USD→k$, W→kW
BIG = 1e9  # "no limit" for limits that are absent


@dataclass(frozen=True)
class Coefficients:
    """Every number of the model for one set of candidates, in model units (ms, GB, k$, kW)."""

    mem_fixed: np.ndarray  # ms at B = 0 (weights read; MoE: chord intercept)
    mem_slope: np.ndarray  # ms per user (KV; MoE: + chord slope)
    compute_slope: np.ndarray  # ms per user
    sync: np.ndarray  # ms
    overhead: np.ndarray  # ms
    cap_fixed: np.ndarray  # GB per chip of weights
    cap_slope: np.ndarray  # GB per chip per user of a micro-batch
    cap_limit: np.ndarray  # GB usable per chip
    p: np.ndarray  # pipeline stages: users per replica per unit of B
    capex: np.ndarray  # k$ per replica
    power: np.ndarray  # kW per replica
    tco: np.ndarray  # k$/year per replica
    chips: np.ndarray  # chips per replica
    rmax: np.ndarray  # replicas bound
    batch_ub: np.ndarray  # largest feasible batch from the presolve (0: none)
    target_step: float  # ms
    max_batch: int
    max_chips: float
    max_power: float  # kW
    max_capex: float  # k$
    mtok_per_user: float  # million tokens a year per user at the SLA rate
    demand_rows: list[tuple[int, float, float]]  # (k, slope, intercept) of R_k ≥ slope·B + icpt


def demand_secants(users: float, p: int, max_batch: int) -> list[tuple[float, float]]:
    """(slope, intercept) of secants of g(B) = users/(p·B) covering B = 1 … max_batch, exact for
    integer (B, R): each secant stays ≤ ⌈g(B)⌉ at the integers of its segment."""

    def g(b: int) -> float:
        return users / (p * b)

    def ceil_g(b: int) -> float:
        return float(units_to_serve(users, p * b))

    if max_batch <= 1:
        return [(0.0, ceil_g(1))]
    lines = []
    a = 1
    while a < max_batch:
        b = a + 1
        while b < max_batch:
            nb = b + 1
            slope = (g(nb) - g(a)) / (nb - a)
            if all(g(a) + slope * (x - a) <= ceil_g(x) + 1e-9 for x in range(a, nb + 1)):
                b = nb
            else:
                break
        slope = (g(b) - g(a)) / (b - a)
        lines.append((slope, g(a) - slope * a))
        a = b
    return lines


def coefficients(c: Candidates) -> Coefficients:
    """The model's numbers, from the numpy forward model (one place for each equation)."""
    pr = c.problem
    wl = pr.workload
    n = len(c)
    t, p = c.t, c.p
    bw = c.hw["bandwidth"] * wl.efficiency.bandwidth
    per_user_mem = wl.kv_bytes_per_user / (t * bw)
    if wl.model.is_moe:
        b0 = np.clip(np.where(c.bcap > 0, c.bcap, 1), 1, max(pr.max_batch - 1, 1))
        f0 = wl.weight_bytes_read(b0)
        slope = wl.weight_bytes_read(b0 + 1) - f0
        mem_fixed = (f0 - slope * b0) / (t * bw)
        mem_slope = slope / (t * bw) + per_user_mem
    else:
        mem_fixed = wl.weight_bytes / (t * bw)
        mem_slope = per_user_mem
    sync = perf.sync_time(
        wl,
        t,
        p,
        c.hw["domain_size"],
        c.hw["intra_latency"],
        c.hw["inter_latency"],
        c.hw["pipeline_latency"],
    )
    cap_fixed = perf.memory_per_chip(wl, t, p, 0.0)
    secants = {int(pk): demand_secants(pr.users, int(pk), pr.max_batch) for pk in set(p)}
    rows = [(k, s, i) for k in range(n) for s, i in secants[int(p[k])]]
    return Coefficients(
        mem_fixed=mem_fixed * MS,
        mem_slope=mem_slope * MS,
        compute_slope=perf.compute_time(wl, c.hw["flops"], t, 1.0) * MS,
        sync=np.broadcast_to(sync, (n,)) * MS,
        overhead=np.full(n, perf.overhead_time(wl)) * MS,
        cap_fixed=cap_fixed * GB,
        cap_slope=(perf.memory_per_chip(wl, t, p, 1.0) - cap_fixed) * GB,
        cap_limit=c.hw["usable_capacity"] * GB,
        p=p.astype(float),
        capex=np.nan_to_num(c.capex, nan=0.0) * KUSD,
        power=np.nan_to_num(c.power, nan=0.0) * KW,
        tco=np.nan_to_num(c.tco, nan=0.0) * KUSD,
        chips=c.chips_per_replica.astype(float),
        rmax=c.max_replicas().astype(float),
        batch_ub=np.minimum(c.bcap, pr.max_batch),
        target_step=1.0 / pr.target_utps * MS,
        max_batch=pr.max_batch,
        max_chips=float(pr.max_chips or BIG),
        max_power=pr.max_power * KW if pr.max_power is not None else BIG,
        max_capex=pr.max_capex_usd * KUSD if pr.max_capex_usd is not None else BIG,
        mtok_per_user=mtokens_per_year_per_user(pr),
        demand_rows=rows,
    )


# ---- the equations of perf, as expressions and constraints ---------------------------------
def declare_memory_time(m: pyo.ConcreteModel) -> None:
    """T_mem = (weight bytes read + B·S·K) / (t·BW·η_bw)."""
    m.memory_time = pyo.Expression(
        m.K, rule=lambda m, k: m.mem_fixed[k] * m.y[k] + m.mem_slope[k] * m.batch[k]
    )


def declare_compute_time(m: pyo.ConcreteModel) -> None:
    """T_compute = FLOPs / (t·F·η_f)."""
    m.compute_time = pyo.Expression(m.K, rule=lambda m, k: m.compute_slope[k] * m.batch[k])


def declare_sync_time(m: pyo.ConcreteModel) -> None:
    """T_sync = L·n_coll·τ(t) [t > 1] + p·τ_pp [p > 1]; T_over = L·τ_layer."""
    m.sync_time = pyo.Expression(m.K, rule=lambda m, k: m.sync[k] * m.y[k])
    m.overhead_time = pyo.Expression(m.K, rule=lambda m, k: m.overhead[k] * m.y[k])


def declare_step_time(m: pyo.ConcreteModel) -> None:
    """User rate: T = max(T_mem, T_compute) + T_sync + T_over ≤ 1/target (two inequalities)."""
    m.step_time_memory = pyo.Constraint(
        m.K,
        rule=lambda m, k: (
            m.memory_time[k] + m.sync_time[k] + m.overhead_time[k] <= m.target_step * m.y[k]
        ),
    )
    m.step_time_compute = pyo.Constraint(
        m.K,
        rule=lambda m, k: (
            m.compute_time[k] + m.sync_time[k] + m.overhead_time[k] <= m.target_step * m.y[k]
        ),
    )


def declare_memory_per_chip(m: pyo.ConcreteModel) -> None:
    """Capacity: (W + p·B·S·K)/(t·p) ≤ φ·C."""
    m.memory_per_chip = pyo.Constraint(
        m.K,
        rule=lambda m, k: (
            m.cap_fixed[k] * m.y[k] + m.cap_slope[k] * m.batch[k] <= m.cap_limit[k] * m.y[k]
        ),
    )


def declare_batch(m: pyo.ConcreteModel) -> None:
    """1 ≤ B_k ≤ max_batch when the candidate is chosen, 0 otherwise."""
    m.batch_min = pyo.Constraint(m.K, rule=lambda m, k: m.batch[k] >= m.y[k])
    m.batch_max = pyo.Constraint(m.K, rule=lambda m, k: m.batch[k] <= m.max_batch * m.y[k])


def declare_demand(m: pyo.ConcreteModel) -> None:
    """Users served R_k·p_k·B_k ≥ users, as secants R_k ≥ a·B_k + b·y_k (see module doc)."""
    m.replicas_on = pyo.Constraint(m.K, rule=lambda m, k: m.replicas[k] <= m.rmax[k] * m.y[k])
    m.demand = pyo.Constraint(
        m.D,
        rule=lambda m, d: (
            m.replicas[m.demand_k[d]]
            >= m.demand_slope[d] * m.batch[m.demand_k[d]] + m.demand_icpt[d] * m.y[m.demand_k[d]]
        ),
    )


def declare_costs(m: pyo.ConcreteModel) -> None:
    """capex, IT power, TCO and chips: per-replica numbers × replicas."""
    m.capex = pyo.Expression(expr=sum(m.capex_k[k] * m.replicas[k] for k in m.K))
    m.power = pyo.Expression(expr=sum(m.power_k[k] * m.replicas[k] for k in m.K))
    m.tco = pyo.Expression(expr=sum(m.tco_k[k] * m.replicas[k] for k in m.K))
    m.chips = pyo.Expression(expr=sum(m.chips_k[k] * m.replicas[k] for k in m.K))


def declare_limits(m: pyo.ConcreteModel, co: Coefficients) -> None:
    """Side limits on capex, power and chips, for the limits the problem sets."""
    if co.max_capex < BIG:
        m.limit_capex = pyo.Constraint(expr=m.capex <= m.max_capex)
    if co.max_power < BIG:
        m.limit_power = pyo.Constraint(expr=m.power <= m.max_power)
    if co.max_chips < BIG:
        m.limit_chips = pyo.Constraint(expr=m.chips <= m.max_chips)


def declare_objective(m: pyo.ConcreteModel, objective: str) -> None:
    """capex | power | tco | chips; cost_per_mtoken by Dinkelbach (module doc)."""
    if objective == "cost_per_mtoken":
        m.ratio = pyo.Param(mutable=True, initialize=0.0)
        m.replica_tco = pyo.Expression(expr=sum(m.tco_k[k] * m.y[k] for k in m.K))
        m.replica_mtokens = pyo.Expression(
            expr=m.mtok_per_user * sum(m.p[k] * m.batch[k] for k in m.K)
        )
        m.objective = pyo.Objective(expr=m.replica_tco - m.ratio * m.replica_mtokens)
    else:
        m.objective = pyo.Objective(
            expr={"capex": m.capex, "power": m.power, "tco": m.tco, "chips": m.chips}[objective]
        )


PARAMS = {
    "mem_fixed": "mem_fixed",
    "mem_slope": "mem_slope",
    "compute_slope": "compute_slope",
    "sync": "sync",
    "overhead": "overhead",
    "cap_fixed": "cap_fixed",
    "cap_slope": "cap_slope",
    "cap_limit": "cap_limit",
    "rmax": "rmax",
    "p": "p",
    "capex_k": "capex",
    "power_k": "power",
    "tco_k": "tco",
    "chips_k": "chips",
}
SCALARS = ("target_step", "max_batch", "max_chips", "max_power", "max_capex", "mtok_per_user")


def structure(c: Candidates) -> tuple:
    """What a persistent model's shape depends on; other changes only move Params."""
    pr = c.problem
    return (
        tuple(c.chip),
        tuple(c.t),
        tuple(c.p),
        pr.users,
        pr.max_batch,
        pr.objective,
        pr.max_chips is None,
        pr.max_power is None,
        pr.max_capex_usd is None,
    )


def build(c: Candidates) -> pyo.ConcreteModel:
    """The MILP over candidates `c`."""
    co = coefficients(c)
    m = pyo.ConcreteModel(name="designer")
    m.K = pyo.RangeSet(0, len(c) - 1)
    m.D = pyo.RangeSet(0, len(co.demand_rows) - 1)
    for name, attr in PARAMS.items():
        m.add_component(name, pyo.Param(m.K, mutable=True, initialize=_init(getattr(co, attr))))
    for name in SCALARS:
        m.add_component(name, pyo.Param(mutable=True, initialize=float(getattr(co, name))))
    m.demand_k = pyo.Param(
        m.D,
        initialize={d: r[0] for d, r in enumerate(co.demand_rows)},
        within=pyo.NonNegativeIntegers,
    )
    m.demand_slope = pyo.Param(
        m.D, mutable=True, initialize={d: r[1] for d, r in enumerate(co.demand_rows)}
    )
    m.demand_icpt = pyo.Param(
        m.D, mutable=True, initialize={d: r[2] for d, r in enumerate(co.demand_rows)}
    )
    m.y = pyo.Var(m.K, domain=pyo.Binary)
    # The batch's upper bound is the presolve's largest feasible batch: implied by the user-rate
    # and capacity constraints, it only tightens the LP relaxation (about 40% faster on the
    # full default space without pruning).
    m.batch = pyo.Var(
        m.K, domain=pyo.NonNegativeIntegers, bounds=lambda m, k: (0, int(co.batch_ub[k]))
    )
    m.replicas = pyo.Var(
        m.K, domain=pyo.NonNegativeIntegers, bounds=lambda m, k: (0, max(co.rmax[k], 0))
    )
    m.choose_one = pyo.Constraint(expr=sum(m.y[k] for k in m.K) == 1)
    declare_batch(m)
    declare_memory_time(m)
    declare_compute_time(m)
    declare_sync_time(m)
    declare_step_time(m)
    declare_memory_per_chip(m)
    declare_demand(m)
    declare_costs(m)
    declare_limits(m, co)
    declare_objective(m, c.problem.objective)
    m.structure = structure(c)
    return m


def update(m: pyo.ConcreteModel, c: Candidates, active: np.ndarray | None = None) -> None:
    """Set every Param from candidates `c` (same structure as at build) for a persistent
    re-solve; candidates outside `active` are fixed off (y_k = 0)."""
    if m.structure != structure(c):
        raise ValueError("the candidates changed shape; build a new model")
    co = coefficients(c)
    for name, attr in PARAMS.items():
        param = getattr(m, name)
        for i, v in enumerate(getattr(co, attr)):
            param[i].set_value(float(v))
    for name in SCALARS:
        getattr(m, name).set_value(float(getattr(co, name)))
    for d, (_, slope, icpt) in enumerate(co.demand_rows):
        m.demand_slope[d].set_value(slope)
        m.demand_icpt[d].set_value(icpt)
    for k in m.K:
        m.replicas[k].setub(max(co.rmax[k], 0))
        m.batch[k].setub(int(co.batch_ub[k]))
        if active is not None and not active[k]:
            m.y[k].fix(0)
        else:
            m.y[k].unfix()


def _init(values: np.ndarray) -> dict[int, float]:
    return {i: float(v) for i, v in enumerate(values)}


def chosen(m: pyo.ConcreteModel) -> tuple[int, int, int]:
    """(candidate index, batch, replicas) of the loaded solution."""
    k = max(m.K, key=lambda k: pyo.value(m.y[k]))
    return k, int(round(pyo.value(m.batch[k]))), int(round(pyo.value(m.replicas[k])))
