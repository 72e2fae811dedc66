"""KV transfer (disaggregated serving): the KV cache of every request, `P·K` bytes, crosses the
scale-out network from a prefill to a decode replica within its bandwidth.

- Screen: a decode replica takes in the KV of at most `⌊BW·O/(p·r·P·K)⌋` users per
  micro-batch (`batch_limit`, `serving.decode_batch_cap`), users turning over at the SLA rate
  r; a prefill replica sends at most `BW/(P·K)` requests/s (`requests`). For a class asking for
  a request rate a decode replica's users turn over at its own rate, so its batch is not
  limited and what it serves is capped instead at the `BW/(P·K)` requests/s it takes in
  (`requests`, `columns._serves`). `BW` is the replica's share of its servers' scale-out
  bandwidth (`candidates.replica_scale_out`). A decode candidate that cannot take one user is
  `too_slow_at_batch_1`.
- Residual: `kv-transfer`, 1 − the share of the bandwidth a row uses.
- Explanation (disaggregated only, aggregated replicas move no KV): no decode replica that
  meets the rate at batch 1 can take in one user's KV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from designer.model import serving

if TYPE_CHECKING:
    from designer.optimize.candidates import Candidates
    from designer.optimize.problem import Problem, WorkloadClass

NAME = "kv-transfer"
TARGET = "chips.*.server_scale_out_bandwidth"
STAGE = "too_slow_at_batch_1"


def applies(wc: WorkloadClass, phase: str) -> bool:
    """Serving classes, in the disaggregated phases (prefill sends, decode receives)."""
    return wc.serving is not None and phase in ("prefill", "decode")


def batch_limit(c: Candidates, idx) -> np.ndarray:
    """Per decode candidate `idx`: the most users per micro-batch whose KV it can take in, at
    the SLA rate (`space.max_batch` for a class asking for a request rate: its requests/s are
    capped, `requests`)."""
    from designer.optimize.candidates import replica_scale_out

    if c.wc.by_requests:
        return np.full(len(idx), c.problem.max_batch, dtype=np.int64)
    bw = replica_scale_out(c.problem, c.g, idx)
    return serving.decode_batch_cap(c.wc.workload, bw, c.g.p[idx], c.wc.target_utps)


def requests(c: Candidates, idx) -> np.ndarray:
    """Per prefill candidate `idx`: the most requests/s whose KV it can send (per decode
    candidate, take in)."""
    from designer.optimize.candidates import replica_scale_out

    bw = replica_scale_out(c.problem, c.g, idx)
    return bw / serving.kv_bytes_per_request(c.wc.workload)


def residual(problem: Problem, wc: WorkloadClass, row: dict) -> float | None:
    """1 − the share of the replica's scale-out bandwidth its KV uses (disaggregated rows)."""
    m = row["metrics"]
    if wc.serving is None or m["kv_link_utilization"] is None:
        return None
    return 1.0 - m["kv_link_utilization"]


def explain(
    problem: Problem, wc: WorkloadClass, g, idx, m1: dict, best: dict, within: str = ""
) -> str | None:
    """When the class is served disaggregated only: the decode candidates `idx` that meet the
    rate at batch 1 and, if none can take in one user's KV, the most scale-out bandwidth among
    them against what one user needs."""
    from designer.optimize.candidates import Candidates, describe, replica_scale_out
    from designer.optimize.features import rate

    if wc.serving is None or "aggregated" in wc.serving.phases():
        return None
    c = Candidates(problem, wc, g, "decode")
    fast = idx[rate.check(c, 1, idx, {k: v[idx] for k, v in m1.items()})[0]]
    if not len(fast) or (batch_limit(c, fast) >= 1).any():
        return None
    bw = replica_scale_out(problem, g, fast) / g.p[fast]
    i = int(np.argmax(bw))
    need = wc.target_utps * serving.kv_bytes_per_request(wc.workload) / wc.workload.output_tokens
    best["max_decode_kv_bandwidth_per_stage_bytes_per_s"] = float(bw[i])
    best["max_decode_kv_bandwidth_design"] = describe(problem, g, int(fast[i]), 1)
    k = int(fast[i])
    return (
        f"no decode replica that meets the rate can take in the KV cache of one user per "
        f"micro-batch: at {wc.target_utps:g} tokens/s a user needs {need / 1e6:.3g} MB/s of "
        f"scale-out bandwidth ({wc.workload.prompt_tokens}-token prompts every "
        f"{wc.workload.output_tokens} tokens), the most such a replica has per micro-batch is "
        f"{bw[i] / 1e6:.3g} MB/s ({problem.chips[int(g.chip[k])]}, tp={g.t[k]}, pp={g.p[k]}; "
        f"serving.mode = {wc.serving.mode}): raise {TARGET} or set serving.mode = best"
    )
