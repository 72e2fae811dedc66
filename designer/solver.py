"""The one HiGHS wrapper: pyomo.contrib.solver's persistent HiGHS, configured in one place.

Threads are fixed once per process (HiGHS cannot change them after its first solve); solutions
are loaded only when the caller asks; non-optimal terminations are reported, not raised.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.common.util import NoDualsError
from pyomo.contrib.solver.solvers.highs import Highs

THREADS = 1  # fixed once per process; the models are small and HiGHS' MIP is serial anyway
DEFAULT_TIME_LIMIT = 60.0
DEFAULT_MIP_GAP = 1e-9
# HiGHS' MIP presolve spends its time probing these models: 31.2 s against 0.93 s without it
# on 961 candidates (benchmarks/bench_highs_presolve.py); the LP relaxation is tight enough.
# HiGHS writes to stdout unless told not to; --json output must stay pure JSON.
OPTIONS = {"presolve": "off", "output_flag": False, "log_to_console": False}


@dataclass(frozen=True)
class SolveStatus:
    """What HiGHS said: a status word, incumbent, bound, gap and time."""

    status: str  # optimal | infeasible | time-limit | other
    has_solution: bool
    incumbent: float | None
    bound: float | None
    gap: float | None
    seconds: float
    message: str = ""


class Solver:
    """A persistent HiGHS instance for one Pyomo model; `solve()` may be called again after
    Params change (the model is re-synced incrementally)."""

    def __init__(self, time_limit: float = DEFAULT_TIME_LIMIT, mip_gap: float = DEFAULT_MIP_GAP):
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self._opt = Highs()
        if not self._opt.available():
            raise RuntimeError("HiGHS (highspy) is not available; pip install highspy")
        self._results = None

    def solve(self, model: pyo.ConcreteModel) -> SolveStatus:
        start = time.perf_counter()
        res = self._opt.solve(
            model,
            load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
            time_limit=self.time_limit,
            rel_gap=self.mip_gap,
            abs_gap=1e-12,
            threads=THREADS,
            solver_options=dict(OPTIONS),
        )
        seconds = time.perf_counter() - start
        self._results = res
        tc = res.termination_condition
        has = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
        if tc == TerminationCondition.convergenceCriteriaSatisfied:
            status = "optimal"
        elif tc in (
            TerminationCondition.provenInfeasible,
            TerminationCondition.infeasibleOrUnbounded,
        ):
            status = "infeasible"
        elif tc in (TerminationCondition.maxTimeLimit, TerminationCondition.iterationLimit):
            status = "time-limit"
        else:
            status = "other"
        inc = _finite(res.incumbent_objective)
        bound = _finite(res.objective_bound)
        gap = None
        if inc is not None and bound is not None:
            gap = abs(inc - bound) / max(abs(inc), 1e-12) if inc else abs(inc - bound)
        return SolveStatus(status, has, inc, bound, gap, seconds, str(tc))

    def load(self) -> None:
        """Load the last solution into the model's variables."""
        self._results.solution_loader.load_vars()

    def duals(self) -> dict:
        """Duals of the last solve, by constraint ({} when it has none, as for a MILP)."""
        try:
            return self._results.solution_loader.get_duals()
        except NoDualsError:
            return {}


def _finite(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None
