"""The one HiGHS wrapper: a Pyomo model compiled to matrices once, solved by highspy.

The master problem is written in Pyomo (`designer.optimize.features`); this module compiles its
active constraints and objective to sparse matrices with Pyomo's standard-form compiler and
hands them to one HiGHS instance per thread. Later changes are made in HiGHS directly — a row
bounding a linear expression, a new objective — so the lexicographic tie-break re-solves
without re-writing the model (`add_row`, `set_objective`, `resolve`). Solutions are loaded into
the Pyomo variables only when the caller asks (`load`); non-optimal terminations are reported,
not raised.

Threads are fixed once per process (HiGHS cannot change them after its first solve); HiGHS
prints a banner when an instance is created, which is swallowed so `--json` stays pure JSON.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np
from pyomo.common.tee import capture_output
from pyomo.repn import generate_standard_repn
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from designer.optimize.modeling import pyo

# fixed once per process; the models are small and HiGHS' MIP is serial anyway. With one
# thread HiGHS starts no threads of its own, so a process that has solved may still fork.
THREADS = 1
DEFAULT_TIME_LIMIT = 60.0
DEFAULT_MIP_GAP = 1e-9
# HiGHS writes to stdout unless told not to; --json output must stay pure JSON. The
# feasibility-jump heuristic costs a fixed ~10 ms per MIP solve, more than a small fleet's
# whole solve; the master problems have trivially feasible points anyway. HiGHS' presolve
# stays on: it helps both the small and the large master problems
# (`python benchmarks/bench_highs_options.py` times each choice).
OPTIONS = {
    "output_flag": False,
    "log_to_console": False,
    "mip_heuristic_run_feasibility_jump": False,
}
# The tie-break's re-solves start from an optimum of the stage before, feasible and usually
# optimal again: HiGHS' RINS heuristic (a sub-MIP around the incumbent and the LP point) then
# looks for a better point that mostly does not exist. Off for those re-solves only
# (`Solver.options`); heuristics never change what is proven, only how fast (`python
# benchmarks/bench_classes.py --stage-option N:KEY=VALUE`, benchmarks/README.md).
TIE_OPTIONS = {"mip_heuristic_run_rins": False}
INF = highspy.kHighsInf
# a point read back must have the objective HiGHS reports within this (relative; the
# answer's re-check by the forward model uses the same)
VERIFY_TOL = 1e-6
# the tie-break's relative slack: fleets within it of an optimum tie with it (`solve`)
TIE_TOL = 1e-9
# relative room for HiGHS' tolerances in a bound proved against a fleet's value
SOLVER_ROOM = 1e-6


def tie_limit(value: float) -> float:
    """The most a fleet can have of a criterion and still tie with `value` (or beat it),
    HiGHS' tolerances included: what bounds proved against `value` must leave room for."""
    return value + (TIE_TOL + SOLVER_ROOM) * max(abs(value), 1.0)


_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnboundedOrInfeasible: "infeasible",
    highspy.HighsModelStatus.kTimeLimit: "time-limit",
    highspy.HighsModelStatus.kIterationLimit: "time-limit",
    highspy.HighsModelStatus.kSolutionLimit: "time-limit",
}
_local = threading.local()


def _highs() -> highspy.Highs:
    """This thread's HiGHS instance (created once, its banner swallowed, options set)."""
    h = getattr(_local, "highs", None)
    if h is None:
        with capture_output(capture_fd=True):
            h = highspy.Highs()
        for key, value in {**OPTIONS, "threads": THREADS}.items():
            h.setOptionValue(key, value)
        _local.highs = h
    return h


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
    """One Pyomo model in HiGHS (one per thread at a time: a Solver that solves takes over its
    thread's HiGHS). `solve(model)` compiles and solves it; `add_row`,
    `set_objective` and `resolve` change and re-solve it in HiGHS without re-compiling;
    `value`, `load` and `duals` read the last solution."""

    def __init__(self, time_limit: float = DEFAULT_TIME_LIMIT, mip_gap: float = DEFAULT_MIP_GAP):
        self.time_limit = time_limit
        self.mip_gap = mip_gap
        self.warm = True  # re-solves start from the last solution (`resolve`)
        self.options: dict = {}  # HiGHS options for the next runs only (e.g. `TIE_OPTIONS`)
        self._highs = _highs()
        self._columns: list = []
        self._index: dict[int, int] = {}
        self._rows: list = []
        self._offset = 0.0
        self._x: np.ndarray | None = None
        self._row_duals: np.ndarray | None = None
        self._mip = False
        self._integer = np.zeros(0, dtype=bool)
        self._memo: dict[int, tuple] = {}
        self._cost = np.zeros(0)  # the objective HiGHS holds: cost · x + offset
        self._lower = self._upper = np.zeros(0)  # the compiled bounds
        self._matrix, self._row_lower, self._row_upper = None, np.zeros(0), np.zeros(0)
        self._maximize = False

    @property
    def _h(self) -> highspy.Highs:
        """This thread's HiGHS, holding this Solver's model (one model per thread at a time)."""
        if getattr(_local, "owner", None) is not self:
            raise RuntimeError("another Solver has used this thread's HiGHS since; solve() again")
        return self._highs

    # -- model -------------------------------------------------------------------------------
    def solve(self, model: pyo.ConcreteModel, upper: list[tuple] | None = None) -> SolveStatus:
        """Compile `model` (see `compile`) and solve."""
        self.compile(model, upper)
        return self.resolve()

    def compile(self, model: pyo.ConcreteModel, upper: list[tuple] | None = None) -> None:
        """Compile `model` (its active constraints and its one active objective) into HiGHS;
        `upper` ([(variable, bound)]) lowers variables' upper bounds in HiGHS only (bounds that
        hold for some optimum of the integer problem, not for its relaxation)."""
        repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
        if len(repn.objectives) != 1:
            raise ValueError(f"the model has {len(repn.objectives)} active objectives, not 1")
        self._columns = list(repn.columns)
        self._index = {id(v): i for i, v in enumerate(self._columns)}
        self._rows = list(repn.rows)
        n, m = len(self._columns), len(self._rows)
        lower = np.array([_bound(v.lb, -INF) for v in self._columns], dtype=float)
        self._lower = lower
        ub = np.array([_bound(v.ub, INF) for v in self._columns], dtype=float)
        for v, bound in upper or ():
            i = self._index[id(v)]
            ub[i] = min(ub[i], float(bound))
        integrality = np.array([1 if v.is_integer() else 0 for v in self._columns], np.int32)
        self._mip = bool(integrality.any())
        self._integer = integrality.astype(bool)
        rhs = np.asarray(repn.rhs, dtype=float)
        kind = np.array([r.bound_type for r in self._rows], dtype=int)
        row_lower = np.where(kind == 1, -INF, rhs)
        row_upper = np.where(kind == -1, INF, rhs)
        a = repn.A.tocsc()
        self._matrix, self._row_lower, self._row_upper = a, row_lower, row_upper
        cost = np.asarray(repn.c.toarray()[0] if n else [], dtype=float)
        self._offset = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
        maximize = repn.objectives[0].sense == pyo.maximize
        self._x, self._row_duals = None, None
        self._memo = {}
        self._cost, self._maximize = cost, maximize
        _local.owner = self
        h = self._highs
        h.clearModel()
        h.passModel(
            n,
            m,
            int(a.nnz),
            int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize),
            self._offset,
            cost,
            lower,
            ub,
            row_lower,
            row_upper,
            a.indptr.astype(np.int32),
            a.indices.astype(np.int32),
            a.data.astype(float),
            integrality,
        )
        self._upper = ub

    def trial(
        self,
        upper: list[tuple] = (),
        *,
        relax: bool = True,
        gap: float = 1e-4,
        start: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """A side solve of the compiled model with the upper bounds of `upper` ([(variable,
        bound)]) lowered for it alone: its continuous relaxation (`relax`), or the MIP to a
        relative `gap` from `start`. Returns its point and its columns' reduced costs (zeros
        for a MIP), None when it has no point (a relaxation: no optimal one). The model in
        HiGHS is left as it was, with no solution kept; the time limit holds."""
        idx, bound = self._indices(upper)
        ub = self._upper.copy()
        ub[idx] = np.minimum(ub[idx], bound)
        with self._side(self._lower, ub, relax=relax) as h:
            h.setOptionValue("time_limit", float(max(self.time_limit, 0.01)))
            h.setOptionValue("mip_rel_gap", float(gap))
            if start is not None:
                h.setSolution(len(start), np.arange(len(start), dtype=np.int32), start)
            h.run()
            sol = h.getSolution()
            if h.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
                return None
            if relax and h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None  # reduced costs only of an optimal relaxation
            x = np.array(sol.col_value, dtype=float)
            x[self._integer] = np.round(x[self._integer]) if not relax else x[self._integer]
            duals = np.array(sol.col_dual, dtype=float) if relax else np.zeros(len(x))
            return x, duals

    def infeasible_with(self, fixed: list[tuple], time_limit: float) -> bool:
        """Whether HiGHS proves, within `time_limit` seconds, that the model as it stands has
        no point with the variables of `fixed` ([(variable, value)]) at those values. The model
        in HiGHS is left as it was, with no solution kept."""
        idx, value = self._indices(fixed)
        lower, upper = self._lower.copy(), self._upper.copy()
        lower[idx] = upper[idx] = value
        with self._side(lower, upper) as h:
            h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
            h.setOptionValue("mip_rel_gap", 1.0)  # a first point answers the question
            h.run()
            return h.getModelStatus() == highspy.HighsModelStatus.kInfeasible

    @contextmanager
    def _side(self, lower: np.ndarray, upper: np.ndarray, relax: bool = False):
        """This Solver's HiGHS with the column bounds `lower`, `upper` (and, with `relax`, no
        integers) for a side solve; afterwards the model's own bounds and integrality are back
        and no solution is kept."""
        h = self._h
        n = len(self._columns)
        every = np.arange(n, dtype=np.int32)
        if relax:
            h.changeColsIntegrality(n, every, np.zeros(n, dtype=np.int32))
        h.changeColsBounds(n, every, lower, upper)
        try:
            yield h
        finally:
            if relax:
                h.changeColsIntegrality(n, every, self._integer.astype(np.int32))
            h.changeColsBounds(n, every, self._lower, self._upper)
            h.clearSolver()

    def _indices(self, pairs) -> tuple[np.ndarray, np.ndarray]:
        """The compiled columns and the values of `pairs` ([(variable, value)])."""
        idx = np.array([self._index[id(v)] for v, _ in pairs], dtype=np.int32)
        return idx, np.array([float(b) for _, b in pairs], dtype=float)

    def tighten(self, upper: list[tuple]) -> None:
        """Lower the upper bounds of `upper` ([(variable, bound)]) in HiGHS from now on."""
        if not upper:
            return
        idx, bound = self._indices(upper)
        self._upper[idx] = np.minimum(self._upper[idx], bound)
        self._h.changeColsBounds(len(idx), idx, self._lower[idx], self._upper[idx])

    def fix(self, values: list[tuple]) -> None:
        """Hold the variables of `values` ([(variable, value)]) at those values in HiGHS from
        now on (both bounds)."""
        if not values:
            return
        idx, x = self._indices(values)
        self._lower[idx], self._upper[idx] = x, x
        self._h.changeColsBounds(len(idx), idx, x, x)

    @property
    def row_tolerance(self) -> float:
        """How far HiGHS lets a MIP solution stray past a row (its mip_feasibility_tolerance,
        absolute)."""
        return float(self._highs.getOptionValue("mip_feasibility_tolerance")[1])

    def upper_bound(self, var) -> float:
        """A variable's upper bound in HiGHS now (`compile`'s, lowered by `tighten`)."""
        return float(self._upper[self._index[id(var)]])

    def feasible(self, x: np.ndarray, tol: float = 1e-12) -> bool:
        """Whether the point `x` meets the compiled model's bounds, rows (HiGHS' rows as they
        were compiled) and integrality, to `tol` relative."""
        if self._matrix is None or len(x) != len(self._columns):
            return False
        ax = self._matrix @ x

        def within(v, lo, up) -> bool:
            slack = tol * np.maximum(np.abs(v), 1.0)
            return bool(np.all(v >= lo - slack) and np.all(v <= up + slack))

        whole = np.all(np.abs(x[self._integer] - np.round(x[self._integer])) <= tol)
        return (
            bool(whole)
            and within(x, self._lower, self._upper)
            and within(ax, self._row_lower, self._row_upper)
        )

    def value_of(self, x: np.ndarray) -> float:
        """The objective HiGHS holds at the point `x`."""
        return float(self._cost @ x) + self._offset

    def start(self, values: np.ndarray) -> None:
        """Start the next MIP solve from the point `values` (one per compiled column; HiGHS
        ignores a start that is not feasible)."""
        self._x = np.asarray(values, dtype=float)

    def column(self, var) -> int:
        """The compiled column of a variable (KeyError when the model has none for it)."""
        return self._index[id(var)]

    def coefficients(self, expr) -> tuple[np.ndarray, np.ndarray, float]:
        """A linear expression of the model's variables as (column indices, coefficients,
        constant); fixed variables count as constants. Remembered per expression object for
        the model's lifetime here (the tie-break asks for each twice)."""
        hit = self._memo.get(id(expr))
        if hit is not None and hit[0] is expr:
            return hit[1]
        out = self._coefficients(expr)
        self._memo[id(expr)] = (expr, out)  # holding expr keeps its id from being reused
        return out

    def _coefficients(self, expr) -> tuple[np.ndarray, np.ndarray, float]:
        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        if not repn.is_linear():
            raise ValueError("only linear expressions can be added to the solver")
        cols, coefs = [], []
        for v, a in zip(repn.linear_vars, repn.linear_coefs, strict=True):
            if id(v) not in self._index:
                raise ValueError(f"variable {v.name} is not in the compiled model")
            cols.append(self._index[id(v)])
            coefs.append(float(a))
        return np.array(cols, np.int32), np.array(coefs, float), float(repn.constant)

    def add_row(self, expr, lower: float | None = None, upper: float | None = None) -> None:
        """Add `lower ≤ expr ≤ upper` to the HiGHS model (not to the Pyomo model)."""
        cols, coefs, const = self.coefficients(expr)
        lo = -INF if lower is None else lower - const
        up = INF if upper is None else upper - const
        self._h.addRow(lo, up, len(cols), cols, coefs)

    def spans(self, expr, basis: list) -> bool:
        """Whether `expr` is, up to a constant, a linear combination of the expressions of
        `basis` (its coefficients theirs combined, to a relative 1e-12): where those are held
        at their optima, so is `expr`."""
        if not basis:
            return False
        n = len(self._columns)

        def dense(e) -> np.ndarray:
            cols, coefs, _ = self.coefficients(e)
            v = np.zeros(n)
            np.add.at(v, cols, coefs)
            return v

        a = np.stack([dense(e) for e in basis], axis=1)
        y = dense(expr)
        x = np.linalg.lstsq(a, y, rcond=None)[0]
        return bool(
            np.abs(a @ x - y).max(initial=0.0) <= 1e-12 * max(np.abs(y).max(initial=0.0), 1e-300)
        )

    def set_objective(self, expr, sense: str = "minimize") -> None:
        """Replace the objective by `expr` (in HiGHS only)."""
        cols, coefs, const = self.coefficients(expr)
        cost = np.zeros(len(self._columns))
        np.add.at(cost, cols, coefs)
        h = self._h
        h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        h.changeObjectiveOffset(const)
        self._offset = const
        self._cost, self._maximize = cost, sense == "maximize"
        h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if sense == "maximize" else highspy.ObjSense.kMinimize
        )

    def resolve(self) -> SolveStatus:
        """Solve the HiGHS model as it stands, a MIP starting from the last solution (unless
        `warm` is off: HiGHS then starts from its own root). Without a new solution the last
        one is kept: a re-solve only adds rows that it satisfies (`add_row` from `value`).

        The point read back is verified: its objective must equal the one HiGHS reports and,
        when HiGHS reports it optimal, its bound. HiGHS (1.16) can report a warm-started
        re-solve optimal at a value the point it returns does not have (the tie-break's
        "fewest chips" at 16 while the point read back, the warm start, has 48); such a
        re-solve is run again from scratch, and a point that still disagrees is not called
        optimal (status "other")."""
        st = self._run(warm=self.warm and self._mip and self._x is not None)
        if st.has_solution and not self._verified(st):
            self._h.clearSolver()  # HiGHS' own memory of the last solve included
            limit = self.time_limit
            self.time_limit = limit - st.seconds  # the retry within what is left
            try:
                cold = self._run(warm=False)
            finally:
                self.time_limit = limit
            st = dataclasses.replace(cold, seconds=st.seconds + cold.seconds)
            if st.has_solution and not self._verified(st):
                st = dataclasses.replace(
                    st, status="other", message=f"{st.message}; the point read back disagrees"
                )
        return st

    def _verified(self, st: SolveStatus) -> bool:
        """Whether the point read back has the objective HiGHS reports (and, reported
        optimal, is within the gap of the bound)."""
        value = self.objective_value()
        tol = VERIFY_TOL * max(abs(value), 1.0)
        if st.incumbent is None or abs(value - st.incumbent) > tol:
            return False
        if st.status != "optimal" or st.bound is None:
            return True
        excess = st.bound - value if self._maximize else value - st.bound
        return excess <= self.mip_gap * max(abs(value), 1e-12) + tol

    def objective_value(self) -> float:
        """The objective HiGHS holds at the last point read back (cost · x + offset)."""
        if self._x is None:
            raise RuntimeError("no solution to evaluate")
        return float(self._cost @ self._x) + self._offset

    def _run(self, warm: bool) -> SolveStatus:
        h = self._h
        h.setOptionValue("time_limit", float(max(self.time_limit, 0.01)))
        h.setOptionValue("mip_rel_gap", float(self.mip_gap))
        h.setOptionValue("mip_abs_gap", 1e-12)
        if warm:
            h.setSolution(len(self._x), np.arange(len(self._x), dtype=np.int32), self._x)
        shipped = {k: h.getOptionValue(k)[1] for k in self.options}
        for k, v in self.options.items():
            h.setOptionValue(k, v)
        start = time.perf_counter()
        try:
            h.run()
        finally:
            for k, v in shipped.items():
                h.setOptionValue(k, v)
        seconds = time.perf_counter() - start
        model_status = h.getModelStatus()
        info = h.getInfo()
        has = info.primal_solution_status == 2  # kSolutionStatusFeasible
        status = _STATUS.get(model_status, "other")
        if has:  # else the last solution stays (a re-solve only adds rows it satisfies)
            sol = h.getSolution()
            self._x = np.array(sol.col_value, dtype=float)
            # integers as integers (HiGHS returns them within its integrality tolerance): the
            # point verified, the rows the tie-break adds and the answer exported are one point
            self._x[self._integer] = np.round(self._x[self._integer])
            self._row_duals = np.array(sol.row_dual, dtype=float) if sol.dual_valid else None
        inc = _finite(info.objective_function_value) if has else None
        if self._mip and info.mip_node_count >= 0:
            bound = _finite(info.mip_dual_bound)
        else:
            bound = inc if status == "optimal" else None
        gap = None
        if inc is not None and bound is not None:
            gap = abs(inc - bound) / max(abs(inc), 1e-12) if inc else abs(inc - bound)
        return SolveStatus(
            status, has, inc, bound, gap, seconds, h.modelStatusToString(model_status)
        )

    # -- solution ----------------------------------------------------------------------------
    def value(self, expr) -> float:
        """`expr` at the last solution (without loading it into the model)."""
        if self._x is None:
            raise RuntimeError("no solution to evaluate")
        cols, coefs, const = self.coefficients(expr)
        return float(coefs @ self._x[cols]) + const

    def load(self) -> None:
        """Load the last solution into the model's variables."""
        if self._x is None:
            raise RuntimeError("no solution to load")
        for v, x in zip(self._columns, self._x, strict=True):
            v.set_value(float(x), skip_validation=True)

    def duals(self) -> dict:
        """Duals of the last solve by constraint, in Pyomo's sign convention ({} for a MIP or
        without a dual solution). A ranged constraint split into two rows reports the sum."""
        if self._mip or self._row_duals is None:
            return {}
        out: dict = {}
        for row, y in zip(self._rows, self._row_duals, strict=False):
            out[row.constraint] = out.get(row.constraint, 0.0) + float(y)
        return out


def _bound(x, default: float) -> float:
    return default if x is None else float(x)


def _finite(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None
