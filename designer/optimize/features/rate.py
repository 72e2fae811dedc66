"""The user rate: every configuration gives each of its users `sla.tokens_per_s_per_user`.

- Screen (`check`): decode-only, the forward model's tokens/s per user at the batch, with a
  `[sla] confidence` the slow end of its interval (`required_rate`); aggregated serving, 1/TPOT
  with the prompt chunks (`serving.aggregated`), with a confidence TPOT × the same slow-end
  factor (`slow_factor`: the whole mean step, chunks included, as uncertain as a decode
  step). Non-decreasing in the batch, so the batch bisection of `columns.batch_cap` is exact;
  a candidate that fails at batch 1 is `too_slow_at_batch_1`.
- Residual: `user-rate`, the rate (with a confidence, the guaranteed rate: the row's tokens/s
  per user, or 1/TPOT, over the slow-end factor) over the target − 1.
- Explanation: the highest rate any replica the limits allow reaches at batch 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from designer.calibration import intervals
from designer.model import serving

if TYPE_CHECKING:
    from designer.optimize.candidates import Candidates
    from designer.optimize.problem import Problem, WorkloadClass

NAME = "user-rate"  # residual key, batch_limited_by and binding entry
TARGET = "sla.tokens_per_s_per_user"
STAGE = "too_slow_at_batch_1"
REL = serving.REL
MAX_SLACK = 1e300  # a relative slack beyond this is "met by far" (a target of 5e-324 tokens/s)


def applies(wc: WorkloadClass, phase: str) -> bool:
    """Every phase that decodes (a prefill replica has no users)."""
    return phase != "prefill"


def slow_factor(g, batch, index) -> np.ndarray:
    """Per candidate `index` at `batch`, the step-time factor at the slow end of the interval
    under the class's `confidence` (`intervals.slow_factor`, non-decreasing in the batch); 1
    without one."""
    idx = np.asarray(index, dtype=np.int64)
    factor = np.ones(idx.shape)
    if not g.confidence:
        return factor
    batch = np.broadcast_to(np.asarray(batch), idx.shape)
    for c in np.unique(g.chip[idx]):
        pos = g.chip[idx] == c
        sel = idx[pos]
        factor[pos] = intervals.slow_factor(
            g.chip_profiles[c],
            g.workloads[g.group[sel[0]]],
            g.chip_ids[c],
            g.t[sel],
            g.p[sel],
            g.ep[sel],
            g.attention[sel],
            batch[pos],
            g.confidence,
        )
    return factor


def required_rate(g, m: dict[str, np.ndarray], batch, index) -> np.ndarray:
    """Tokens/s per user the SLA is held to: the prediction's, or with a `confidence` its
    interval's slow end."""
    rate = m["tokens_per_s_per_user"]
    if not g.confidence:
        return rate
    return rate / slow_factor(g, batch, index)


def check(c: Candidates, b, where, m: dict) -> tuple[np.ndarray, np.ndarray]:
    """(met, excess) at batch `b` of the candidates `where`, `m` their metrics in the phase."""
    wc = c.wc
    if "tpot_s" in m:  # aggregated serving: TPOT with the prompt chunks, at the slow end
        tpot = m["tpot_s"] * slow_factor(c.g, b, where) if c.g.confidence else m["tpot_s"]
        e = tpot * wc.target_utps / (1 - REL) - 1.0
    else:
        e = wc.target_utps * (1 - REL) / required_rate(c.g, m, b, where) - 1.0
    return e <= 0, e


def relative_slack(value: float, need: float) -> float:
    """value / need − 1 (≥ 0 when `value` meets `need`), finite where the ratio overflows."""
    with np.errstate(over="ignore"):
        ratio = float(value) / float(need)
    return min(ratio - 1.0, MAX_SLACK)


def residual(problem: Problem, wc: WorkloadClass, row: dict) -> float | None:
    """The rate a row's users get (with a confidence, the guaranteed one) over the target − 1."""
    m = row["metrics"]
    if wc.serving is None:
        rate = m.get("guaranteed_tokens_per_s_per_user", m["tokens_per_s_per_user"])
        return relative_slack(rate, wc.target_utps)
    if m["tpot_s"] is None:
        return None
    return relative_slack(
        m.get("guaranteed_tokens_per_s_per_user", 1.0 / m["tpot_s"]), wc.target_utps
    )


def explain(
    problem: Problem, wc: WorkloadClass, g, idx, m1: dict, best: dict, within: str = ""
) -> str | None:
    """The highest rate at batch 1 over the candidates `idx` (with a confidence, at the slow
    end), when below the target; `within` names the limits that removed candidates."""
    from designer.optimize.candidates import describe

    utps = np.full(len(g), -np.inf)
    utps[idx] = required_rate(g, {k: v[idx] for k, v in m1.items()}, 1, idx)
    i = int(np.argmax(utps))
    best["max_tokens_per_s_per_user"] = float(utps[i])
    best["max_tokens_per_s_per_user_design"] = describe(problem, g, i, 1)
    if utps[i] >= wc.target_utps * (1 - REL):
        return None
    if wc.confidence:
        within += f" at the slow end of its interval (confidence {wc.confidence:g})"
    return (
        f"{TARGET} = {wc.target_utps:g} is above the highest "
        f"reachable {utps[i]:.1f} tokens/s per user in the space{within} "
        f"({problem.chips[int(g.chip[i])]}, tp={g.t[i]}, pp={g.p[i]}, batch 1, "
        f"bottleneck {m1['bottleneck'][i]})"
    )
