"""A grid's candidates as the per-configuration requirements read them (`Candidates`), and
what a candidate does as a disaggregated prefill replica (`prefill_service`, on its share of the
scale-out network, `replica_scale_out`). A leaf of `columns` and the requirement modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from designer.model import serving
from designer.model.prefill import prefill_time
from designer.optimize.problem import Problem, WorkloadClass


@dataclass(frozen=True)
class Candidates:
    """What a per-configuration requirement's screen reads (`features.PER_CONFIGURATION`): the
    problem, the class, its grid and the serving phase of the columns being built."""

    problem: Problem
    wc: WorkloadClass
    g: Any  # columns.Grid (not imported: columns imports this module)
    phase: str | None = "aggregated"  # None: before the phases (`CLASS_STAGE`)

    @property
    def part_loaded(self) -> bool:
        """Whether a replica takes whatever share of its class's demand it serves best:
        aggregated, for a class asking for a request rate under `minimize`, any load up to
        its slots' full turnover (`columns._part_loaded`); otherwise its users are its batch."""
        wc = self.wc
        return self.phase == "aggregated" and wc.by_requests and self.problem.sense == "minimize"

    @property
    def lightest_load(self) -> float | None:
        """The requests/s per replica at which the screens at batch 1 judge: none (0) where a
        replica is `part_loaded`, so that it is kept if any load serves; else None, its
        batch's own turnover (`columns.phase_metrics`)."""
        return 0.0 if self.part_loaded else None


def prefill_service(problem: Problem, g, idx: np.ndarray):
    """Per candidate `idx` as a disaggregated prefill replica: the time of one prompt
    (`prefill.prefill_time`), its KV transfer time and the replica's scale-out bandwidth."""
    bw = replica_scale_out(problem, g, idx)
    service = np.empty(len(idx))
    for n, i in enumerate(idx):
        wl = g.workloads[g.group[i]]
        link = float(g.hw["link_bandwidth"][i])
        service[n] = prefill_time(
            wl,
            {k: v[i] for k, v in g.hw.items()},
            link if np.isfinite(link) else 0.0,
            tp=int(g.t[i]),
            pp=int(g.p[i]),
            prompt_tokens=wl.prompt_tokens,
        ).time_s
    wl = g.workloads[0]
    return service, serving.kv_transfer_time(wl, bw), bw


def replica_scale_out(problem: Problem, g, idx: np.ndarray) -> np.ndarray:
    """B/s of scale-out network of each candidate's replica: per chip × chips."""
    per_chip = np.array([serving.scale_out_per_chip(problem.catalog, c) for c in problem.chips])
    return per_chip[g.chip[idx]] * (g.t * g.p)[idx]


def describe(problem: Problem, g, i: int, batch: int) -> dict[str, Any]:
    """Candidate i of `g` at `batch`, as an explanation names it."""
    return {
        "chip": problem.chips[int(g.chip[i])],
        "tp": int(g.t[i]),
        "pp": int(g.p[i]),
        "batch": int(batch),
    }
