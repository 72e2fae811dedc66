"""Whether the criteria the tie-break holds leave the fleet one choice of servers.

After the objective and capex are held at their optima (and power, decided by them under a
purchase basis), the fleets the next tie-break stage may choose lie in narrow windows: for each
held criterion h, L_h ≤ Σ_c a_hc · S_c ≤ U_h, with S_c ≥ 0 the whole servers of chip type c,
a_hc > 0 what one server adds to h, U_h the held row and L_h the bound HiGHS proved for h's
stage (no fleet does better), both with the solver's room. Dropping every row that is not about
servers leaves a relaxation: integer S in a box (the servers' bounds, and U_h / a_hc), using at
most N chip types (`[fleet] max_chip_types`), inside the windows. When the servers the
incumbent has, S*, are the only integer point of that relaxation, every fleet the stage may
choose has exactly S* — then the servers can be fixed, the criteria that depend on them alone
(capex, power, TCO) need no re-solve, and the one left (fewest chips) is a re-solve with the
servers fixed. The question is a lattice problem: MIP branch and bound proves "no other point"
slowly on such thin slabs; counting the points is fast when the chip types are few.

The count (`other_vector`) goes over the supports T (sets of at most N chip types) and, in each,
over the servers of all but T's two types of widest range; the last two are solved from two of
the windows at once: the (x, y) with both windows met form a parallelogram whose x-extent is
read off its corners, and for each whole x in it the y the windows allow form an interval.
With one window only the last type is solved. Every floor and ceiling leans outwards (points
within `EPS` of a window count): a point counted that is not quite inside only makes the answer
"not alone", never a wrong "alone". Past `budget` points and candidates examined the count
stops and says it does not know (None): the solve then re-solves as it would without it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

EPS = 1e-7  # servers: how far outside a window a count still includes a point
BUDGET = 10_000_000  # candidate vectors examined before the count gives up
CHUNK = 100_000  # candidates held in memory at once
NEAR_PARALLEL = 1e-9  # |det| below this share of |a1·b2| + |a2·b1|: two windows as one


def ranges(coef: np.ndarray, upper: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Per chip type, the most servers any point inside the windows can have: its bound, and
    U_h / a_hc for every window (coefficients are positive, the others at least 0)."""
    with np.errstate(divide="ignore"):
        most = np.floor(np.min(upper[:, None] / coef, axis=0) + EPS)
    return np.minimum(np.asarray(bound, dtype=float), np.maximum(most, 0.0)).astype(np.int64)


def work(r: np.ndarray, most_types: int, windows: int) -> float:
    """The candidates `other_vector` examines (before pruning): over the supports T of at most
    `most_types` types, the product of the ranges of T's enumerated types (all but its
    `solved` widest; solved = 2 with two windows or more, else 1). Summed by the widest
    enumerated type j: r_j · e_{f−1}(the narrower ranges) · C(types wider than j, solved), with
    e the elementary symmetric sums; a support with nothing to enumerate counts 1."""
    r = np.sort(np.asarray(r, dtype=float))
    r = r[r > 0]
    n = len(r)
    solved = 2 if windows >= 2 else 1
    sizes = range(1, min(most_types, n) + 1)
    total = float(sum(math.comb(n, s) for s in sizes if s <= solved))
    e = np.zeros(max(most_types, 1))  # e[q]: degree-q symmetric sum of the narrower ranges
    e[0] = 1.0
    for j in range(n):
        for s in sizes:
            f = s - min(solved, s)
            if f >= 1:
                total += r[j] * e[f - 1] * math.comb(n - j - 1, min(solved, s))
        for q in range(len(e) - 1, 0, -1):
            e[q] += e[q - 1] * r[j]
    return total


def other_vector(
    coef: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    bound: np.ndarray,
    most_types: int,
    star: np.ndarray,
    budget: int = BUDGET,
) -> bool | None:
    """Whether an integer S ≠ `star` with 0 ≤ S ≤ `bound`, at most `most_types` nonzero
    entries and `lower` ≤ `coef` @ S ≤ `upper` exists (True), none does (False), or the count
    would examine more than `budget` candidates (None). `coef` is windows × chip types with
    positive entries; `star` must itself be inside (else True: nothing is proved)."""
    coef = np.atleast_2d(np.asarray(coef, dtype=float))
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    star = np.asarray(star, dtype=float)
    if not (coef > 0).all():
        raise ValueError("every window's coefficients must be positive")
    value = coef @ star
    inside = (value >= lower - _slack(lower)).all() and (value <= upper + _slack(upper)).all()
    whole = (star == np.round(star)).all() and (star >= 0).all()
    if not (inside and whole and (star <= bound).all() and (star > 0).sum() <= most_types):
        return True  # the count below would not find it: nothing can be proved
    r = ranges(coef, upper, bound)
    most_types = min(int(most_types), int((r > 0).sum()))
    if work(r, most_types, len(lower)) > budget:
        return None
    found = int((lower <= _slack(lower)).all())  # the empty fleet
    live = np.flatnonzero(r > 0)
    order = live[np.argsort(r[live], kind="stable")]  # narrowest first: enumerated
    for size in range(1, most_types + 1):
        supports = np.array(list(itertools.combinations(order.tolist(), size)), dtype=np.int64)
        enumerated = size - (2 if len(lower) >= 2 and size >= 2 else 1)
        cost = np.prod(r[supports[:, :enumerated]].astype(float), axis=1)
        chunk = np.floor(np.cumsum(cost) / CHUNK)  # supports whose candidates fit at once
        for part in np.split(supports, np.flatnonzero(np.diff(chunk)) + 1):
            found += _count(coef, lower, upper, r, part)
            if found > 1:
                return True
    return found != 1


def _slack(v: np.ndarray) -> np.ndarray:
    return 1e-12 * np.maximum(np.abs(v), 1.0)


def _count(coef, lower, upper, r, supports: np.ndarray) -> int:
    """Points whose nonzero types are one of `supports` (rows of equal size, narrowest type
    first; each type ≥ 1 server), counted to at most 2, all supports at once: the enumerated
    types expand each row into one per value (pruned where a window is already passed), the
    solved ones are counted (`_count_one`, `_extent`)."""
    size = supports.shape[1]
    solved = 2 if len(lower) >= 2 and size >= 2 else 1
    rows = np.arange(len(supports))  # candidate → its support
    partial = np.zeros((len(supports), len(lower)))  # what the enumerated types add
    for pos in range(size - solved):
        ty = supports[rows, pos]
        n = r[ty]
        rows, partial, ty = np.repeat(rows, n), np.repeat(partial, n, axis=0), np.repeat(ty, n)
        value = np.arange(len(rows)) - np.repeat(np.cumsum(n) - n, n) + 1.0
        partial = partial + value[:, None] * coef[:, ty].T
        keep = (partial <= upper + _slack(upper)).all(axis=1)
        rows, partial = rows[keep], partial[keep]
    if not len(rows):
        return 0
    lo, up = lower - partial, upper - partial  # what the solved types must add
    last = supports[rows, size - 1]
    if solved == 1:
        return _count_one(coef[:, last].T, lo, up, r[last])
    x_ty = supports[rows, size - 2]
    pick, xs = _extent(coef[:, x_ty].T, coef[:, last].T, lo, up, r[x_ty])
    if not len(pick):
        return 0
    a_x = coef[:, x_ty[pick]].T
    return _count_one(
        coef[:, last[pick]].T,
        lo[pick] - xs[:, None] * a_x,
        up[pick] - xs[:, None] * a_x,
        r[last[pick]],
    )


def _count_one(a: np.ndarray, lo: np.ndarray, up: np.ndarray, most: np.ndarray) -> int:
    """Whole y in [1, most] with lo ≤ a·y ≤ up in every window (rows: candidates; a, lo, up
    candidates × windows), counted to at most 2."""
    first = np.maximum(np.ceil(np.max(lo / a, axis=1) - EPS), 1)
    last = np.minimum(np.floor(np.min(up / a, axis=1) + EPS), most)
    return int(min(np.maximum(last - first + 1, 0).sum(), 2))


def _extent(a: np.ndarray, b: np.ndarray, lo: np.ndarray, up: np.ndarray, most: np.ndarray):
    """Per candidate row, the whole x in [1, most] for which some real y meets its first two
    windows (lo ≤ a·x + b·y ≤ up; a, b, lo, up candidates × windows) — the x-extent of that
    parallelogram, from its corners — as (row, x) pairs. Rows whose two windows are near
    parallel keep their whole range (the y count decides)."""
    det = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    scale = np.abs(a[:, 0] * b[:, 1]) + np.abs(a[:, 1] * b[:, 0])
    parallel = np.abs(det) <= NEAR_PARALLEL * scale
    safe = np.where(parallel, 1.0, det)
    corners = np.stack(
        [
            (b[:, 1] * w0 - b[:, 0] * w1) / safe
            for w0 in (lo[:, 0], up[:, 0])
            for w1 in (lo[:, 1], up[:, 1])
        ]
    )
    first = np.where(parallel, 1.0, np.maximum(np.ceil(corners.min(axis=0) - EPS), 1))
    last = np.where(parallel, most, np.minimum(np.floor(corners.max(axis=0) + EPS), most))
    n = np.maximum(last - first + 1, 0).astype(np.int64)
    rows = np.repeat(np.arange(len(lo)), n)
    offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return rows, first[rows] + offsets
