"""Compare the optimum member by member: one solve per chip, memory technology or TP degree
of the problem's space, or per cost basis (buy, rent on demand, rent reserved), ranked by the
objective, with the reason each loses.

The ranked table is the answer's certificate: the first row is the best member alone, and
every other row says by how much it is worse, or which requirement it cannot meet. A fleet
may mix members (`solve` over the whole space); when that beats every row, a note gives its
optimum.

    >>> from designer.optimize.problem import load_problem
    >>> table = compare(load_problem("problems/quickstart.toml"), by="chip")   # doctest: +SKIP
    >>> table.rows[0]["chip"], table.rows[1]["reason"]                        # doctest: +SKIP
    ('mi300x', 'costlier by $30,000 (+20.0%) than mi300x')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from designer.model.errors import InputError, unknown
from designer.optimize.problem import Problem
from designer.studies.progress import progress_bar
from designer.studies.rows import describe, flatten, mixed_fleet, solve_record, synthesis_chosen

if TYPE_CHECKING:
    import pandas as pd  # loaded by frame() only: tables are written from it

BY = ("chip", "memory", "tp", "basis")
MIXED = ("chip", "memory", "tp")  # members of one space, which a fleet may mix
# --by basis: the same question bought, rented on demand and rented reserved ([costs])
BASES = {
    "purchase": {"costs.basis": "purchase"},
    "rent-on-demand": {"costs.basis": "rent", "costs.rent_term": "on_demand"},
    "rent-reserved": {"costs.basis": "rent", "costs.rent_term": "reserved"},
}
FEASIBLE = ("optimal", "feasible")


@dataclass
class Comparison:
    """Rows `{<by>, status, objective: {value, unit}, design, reason, record}`, feasible first
    in objective order; `json()` is the `compare --json` contract."""

    by: str
    objective: str
    unit: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    sense: str = "minimize"  # the problem's: the title says which way the rows rank
    note: str | None = None  # what the rows cannot say (printed under the table; JSON `note`)
    synthesis: bool = False  # a synthesis problem's: its rows name the designs they use

    def json(self) -> dict[str, Any]:
        """`{"rows": [...]}`; a row whose answer mixes configurations also has `fleet`; every
        row of a synthesis problem has `synthesis_chosen`, the synthesized designs its answer
        uses (area, stacks, bandwidth, price, power, what binds; `[]` when it uses catalog chips
        only, null when it has no answer); `note` when there is one."""
        keys = (self.by, "status", "objective", "design", "reason")
        rows = [
            {k: r[k] for k in keys}
            | mixed_fleet(r["record"])
            | ({"synthesis_chosen": synthesis_chosen(r["record"])} if self.synthesis else {})
            for r in self.rows
        ]
        return {"rows": rows} | ({"note": self.note} if self.note else {})

    def table(self):
        """The ranked rows as a rich table (what `designer compare` prints)."""
        from rich.table import Table

        t = Table(
            title=f"{self.sense} {self.objective} — optimum per {self.by}", title_justify="left"
        )
        for col in ("#", self.by, "status", f"{self.objective} ({self.unit})", "design", "reason"):
            t.add_column(col, overflow="fold")
        for i, r in enumerate(self.rows, 1):
            v = r["objective"]["value"]
            t.add_row(
                str(i),
                str(r[self.by]),
                r["status"],
                "-" if v is None else money(v, self.unit),
                describe(r["record"]),
                r["reason"],
            )
        return t

    def frame(self) -> pd.DataFrame:
        """One flat row per member (the sweep's columns), in rank order."""
        import pandas as pd

        return pd.DataFrame(
            [
                {self.by: r[self.by], **flatten(r["record"]), "reason": r["reason"]}
                for r in self.rows
            ]
        )


@dataclass(frozen=True)
class Member:
    """How a comparison restricts the problem to one member: `changes` (as `--set` gives
    them), or `chips`, the problem's chips kept (a synthesis problem's designs, which a
    `space.chips` change joins rather than replaces)."""

    changes: dict[str, Any] | None = None
    chips: tuple[str, ...] | None = None


def members(problem: Problem, by: str) -> dict[Any, Member]:
    """The space's members and the restriction of the problem to each (insertion order:
    the order of `problem.chips` / `problem.tp`)."""
    if by in ("chip", "memory"):
        groups: dict[str, list[str]] = {}
        for c in problem.chips:
            key = c if by == "chip" else problem.catalog.chip(c).memory_technology
            groups.setdefault(key, []).append(c)
        if problem.synthesis is not None:
            return {m: Member(chips=tuple(chips)) for m, chips in groups.items()}
        return {m: Member({"space.chips": chips}) for m, chips in groups.items()}
    if by == "tp":
        return {t: Member({"space.tp": [t]}) for t in problem.tp}
    if by == "basis":
        return {b: Member(change) for b, change in BASES.items()}
    raise unknown("comparison", by, BY, key="--by")


def money(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "no price" if unit.startswith("USD") else "unknown"
    if unit == "USD":
        return f"${value:,.0f}"
    if unit.startswith("USD/"):
        return f"${value:,.4g}/{unit[4:]}"
    scaled = {"W": (1e3, "kW")}.get(unit)
    if scaled and abs(value) >= scaled[0]:
        return f"{value / scaled[0]:,.4g} {scaled[1]}"
    return f"{value:,.4g} {unit}"


def _reason(row: dict[str, Any], best: dict[str, Any] | None, by: str, maximize: bool) -> str:
    rec = row["record"]
    if row["status"] not in FEASIBLE:
        return rec.get("explanation") or rec.get("error") or row["status"]
    if best is None or row is best:
        return "best"
    value, ref = row["objective"]["value"], best["objective"]["value"]
    gap = abs(value - ref)
    if gap <= 1e-9 * max(abs(ref), 1.0):
        return f"ties with {best[by]}"
    unit = row["objective"]["unit"] or ""
    pct = f" ({'+' if value > ref else '−'}{100 * gap / abs(ref):.1f}%)" if ref else ""
    amount = money(gap, unit)
    if maximize:
        return f"lower by {amount}{pct} than {best[by]}"
    if unit.startswith("USD"):
        return f"costlier by {amount}{pct} than {best[by]}"
    if unit == "W":
        return f"draws {amount} more{pct} than {best[by]}"
    if unit == "chips":
        return f"needs {gap:,.0f} more chips{pct} than {best[by]}"
    return f"worse by {amount}{pct} than {best[by]}"


def compare(
    problem: Problem,
    by: str = "chip",
    *,
    top: int | None = None,
    time_limit: float = 60.0,
    progress: bool = False,
) -> Comparison:
    """The optimum restricted to each member of the space (`by` = chip | memory | tp), or on
    each cost basis (`by` = basis: purchase, rent-on-demand, rent-reserved), ranked.

    `top` keeps the `top` best distinct feasible designs (or fleets); `progress` shows a bar
    on a terminal (a synthesis problem's `--by chip` solves each of its hundreds of designs).
    """
    if top is not None and top < 1:
        raise InputError(f"expected a positive integer, got {top}", key="--top")
    objective = problem.objective
    maximize = getattr(problem, "sense", "minimize") == "maximize"

    def rank(r: dict[str, Any]) -> tuple:
        v = r["objective"]["value"]
        ok = r["status"] in FEASIBLE and v is not None and math.isfinite(v)
        return (not ok, (-v if maximize else v) if ok else 0.0)

    rows = []
    pool = members(problem, by)
    whole = _mixes(by, len(pool))  # one more solve, the whole space's (`_mixing_note`)
    with progress_bar(show=progress) as bar:
        task = bar.add_task(f"compare --by {by}", total=len(pool) + whole)
        for member, restriction in pool.items():
            rows.append(_row(problem, by, member, restriction, time_limit))
            bar.advance(task)
        for r in rows:
            objective = (r["record"].get("objective") or {}).get("name", objective)
        unit = next((r["objective"]["unit"] for r in rows if r["objective"]["unit"]), "")
        rows.sort(key=rank)
        best = rows[0] if rows and rows[0]["status"] in FEASIBLE else None
        note = _mixing_note(problem, by, len(pool), best, unit, maximize, time_limit)
        bar.advance(task, whole)
    for r in rows:
        r["reason"] = _reason(r, best, by, maximize)
    if top is not None:
        seen, kept = [], []
        for r in rows:
            design = r["design"] or r["record"].get("fleet")
            if r["status"] in FEASIBLE and design not in seen:
                seen.append(design)
                kept.append(r)
        rows = kept[:top]
    sense = "maximize" if maximize else "minimize"
    return Comparison(by, objective, unit, rows, sense, note, problem.synthesis is not None)


def _row(problem: Problem, by: str, member: Any, restriction: Member, time_limit: float):
    rec = solve_record(
        problem,
        restriction.changes,
        time_limit=time_limit,
        origin=f"compare --by {by}",
        chips=restriction.chips,
    )
    obj = rec.get("objective") or {}
    return {
        by: member,
        "status": rec.get("status"),
        "objective": {"value": obj.get("value"), "unit": obj.get("unit")},
        "design": rec.get("design"),
        "record": rec,
    }


def _mixes(by: str, count: int) -> bool:
    """Whether `count` members `by` are parts of one space a fleet may mix (`_mixing_note`
    solves it once more as a whole)."""
    return by in MIXED and count >= 2


def _mixing_note(
    problem: Problem,
    by: str,
    count: int,
    best: dict[str, Any] | None,
    unit: str,
    maximize: bool,
    time_limit: float,
) -> str | None:
    """The whole space's optimum (one more solve) when it beats every row: each row holds one
    member alone, and a fleet may mix members — replicas of several chips or TP degrees round
    the users more closely, limits and a supply cap each member, serving pools differ per
    phase. None when the best row holds it, with fewer than `count` = 2 members, or for
    members that are not parts of one space (`basis`): `_mixes`."""
    if not _mixes(by, count):
        return None
    whole = solve_record(problem, None, time_limit=time_limit)
    value = (whole.get("objective") or {}).get("value")
    if whole.get("status") not in FEASIBLE or value is None:
        return None
    if best is not None:
        ref = best["objective"]["value"]
        gain = (value - ref) if maximize else (ref - value)
        if gain <= 1e-9 * max(abs(ref), 1.0):
            return None
    rows = whole.get("fleet") or [whole.get("design") or {}]
    found = {r.get(by) for r in rows if r.get(by) is not None}
    mix = ", ".join(str(v) for v in sorted(found, key=lambda v: (isinstance(v, str), v)))
    answer = f"the whole space answers {money(value, unit)} with a fleet mixing {by} {mix}"
    if best is None:
        head = f"no {by} serves the question alone; {answer}"
    else:
        pct = 100 * abs(value - best["objective"]["value"]) / abs(best["objective"]["value"])
        head = f"{answer}, {pct:.1f}% {'above' if maximize else 'below'} the best row"
    return f"{head} (what designer solve answers)"
