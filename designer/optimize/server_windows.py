"""Whether the criteria the tie-break holds leave the fleet one choice of servers.

Once a stage is solved, the fleets the next tie-break stage may choose lie in narrow windows:
for each criterion h held so far (the objective; capex), L_h ≤ Σ_c a_hc · S_c ≤ U_h, with
S_c ≥ 0 the whole servers of chip type c, a_hc > 0 what one server adds to h, U_h the held row
and L_h the bound HiGHS proved for h's stage (no fleet does better), both widened by the tie
tolerance and HiGHS' row tolerance. Dropping every row that is not about servers leaves a
relaxation: integer S in a box (the servers' bounds, and U_h / a_hc), using at most N chip types
(`[fleet] max_chip_types`), inside the windows. When the incumbent's servers S* are the only
integer point of that relaxation — or each of the few others (at most `MOST_OTHERS`) holds no
fleet, which `solve` has HiGHS prove with the servers fixed there — every fleet the stage may
choose has exactly S*: the servers can be fixed, the criteria of servers alone (capex, power,
TCO) need no re-solve, and the one left (fewest chips) re-solves over the replicas only.
Asking HiGHS "is there another point?" is a lattice problem its branch and bound proves slowly
on such thin slabs (a try on the 20 classes stopped unproved at 0.5 s and about 2,600 nodes);
counting the points is fast when the chip types are few.

The count (`others`) goes over the supports T (sets of at most N chip types). In each it
enumerates the servers of all but two of T's types (one window: all but one) and solves the
rest: for two types under two windows the (x, y) inside both form a parallelogram whose
x-extent is read off its corners, and for each whole x in it the y the windows allow form an
interval. The types enumerated are the narrowest, except for three types under two windows:
their points lie in a thin tube along a line, and the type enumerated is the one along which
the tube is shortest (`_tube`; at planet scale this is what keeps the count within budget).
Every floor and ceiling leans outwards (points within `EPS` of a window count): a point
counted that is not quite inside only makes the answer "not alone", never a wrong "alone". With
more than `MAX_SUPPORTS` supports or `budget` candidates (`ONE_SUPPORT` in one support, whose
candidates are held at once) the count says it does not know (None), and the solve re-solves
as it would without it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

EPS = 1e-7  # servers: how far outside a window a count still includes a point
BUDGET = 10_000_000  # candidate vectors examined before the count gives up
MAX_SUPPORTS = 100_000  # sets of chip types (at most N of them) looked at before it gives up
CHUNK = 100_000  # candidates held in memory at once (a whole support's, if it has more)
ONE_SUPPORT = 1_000_000  # candidates of one support: more and the count gives up (memory)
MOST_OTHERS = 2  # other server vectors `others` lists before it gives up
NEAR_PARALLEL = 1e-9  # |det| below this share of |a1·b2| + |a2·b1|: two windows as one


def ranges(coef: np.ndarray, upper: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Per chip type, the most servers any point inside the windows can have: its bound, and
    U_h / a_hc for every window (coefficients are positive, the others at least 0)."""
    with np.errstate(divide="ignore"):
        most = np.floor(np.min(upper[:, None] / coef, axis=0) + EPS)
    return np.minimum(np.asarray(bound, dtype=float), np.maximum(most, 0.0)).astype(np.int64)


def others(
    coef: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    bound: np.ndarray,
    most_types: int,
    star: np.ndarray,
    budget: int = BUDGET,
    most: int = MOST_OTHERS,
) -> np.ndarray | None:
    """The integer S ≠ `star` with 0 ≤ S ≤ `bound`, at most `most_types` nonzero entries and
    `lower` ≤ `coef` @ S ≤ `upper` (rows; none: `star` is alone), or None when that is not
    known: more than `most` of them, a count past `budget` candidates or `MAX_SUPPORTS`
    supports, or `star` itself not inside. `coef` is windows × chip types, positive. Points
    within `EPS` of a window are included (module doc)."""
    coef = np.atleast_2d(np.asarray(coef, dtype=float))
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    star = np.asarray(star, dtype=float)
    if not (coef > 0).all():
        raise ValueError("every window's coefficients must be positive")
    value = coef @ star
    inside = (value >= lower - _slack(lower)).all() and (value <= upper + _slack(upper)).all()
    whole = (star == np.round(star)).all() and (star >= 0).all()
    if not (inside and whole and (star <= bound).all() and (star > 0).sum() <= most_types):
        return None  # the count below would not find it: nothing can be proved
    r = ranges(coef, upper, bound)
    live = np.flatnonzero(r > 0)
    most_types = min(int(most_types), len(live))
    if sum(math.comb(len(live), s) for s in range(1, most_types + 1)) > MAX_SUPPORTS:
        return None
    order = live[np.argsort(r[live], kind="stable")]  # narrowest first: enumerated
    plans = [_plan(coef, lower, upper, r, order, size) for size in range(1, most_types + 1)]
    costs = [cost for _, _, cost in plans if len(cost)]
    if (
        sum(float(c.sum()) for c in costs) > budget
        or max(map(np.max, costs), default=0) > ONE_SUPPORT
    ):
        return None
    found = [np.zeros((1, len(r)))] if (lower <= _slack(lower)).all() else []  # no servers
    count = len(found)
    for supports, span, cost in plans:
        chunk = np.floor(np.cumsum(cost) / CHUNK)  # supports whose candidates fit at once
        cuts = np.flatnonzero(np.diff(chunk)) + 1
        for part, part_span in zip(np.split(supports, cuts), np.split(span, cuts), strict=True):
            points = _points(coef, lower, upper, r, part, part_span, most + 2 - count)
            found.append(points)
            count += len(points)
            if count > most + 1:
                return None
    points = np.concatenate(found) if found else np.zeros((0, len(r)))
    mine = (points == star).all(axis=1)
    if mine.sum() != 1:
        return None  # the count missed the incumbent (rounding): nothing is proved
    return points[~mine]


def _slack(v: np.ndarray) -> np.ndarray:
    return 1e-12 * np.maximum(np.abs(v), 1.0)


def _solved(windows: int, size: int) -> int:
    """How many of a support's types are solved from the windows rather than enumerated."""
    return 2 if windows >= 2 and size >= 2 else 1


def _plan(coef, lower, upper, r, order: np.ndarray, size: int):
    """The supports of `size` types (rows; the enumerated types first), per enumerated type
    the span [first, last] of servers to enumerate (supports × enumerated × 2), and what each
    support costs (the candidates it expands into). Spans are the whole range [1, r], except
    for three types under two windows: there the points lie in a thin tube along a line, and
    the type enumerated is the one along which the tube is shortest (`_tube`)."""
    supports = np.array(list(itertools.combinations(order.tolist(), size)), dtype=np.int64)
    supports = supports.reshape(-1, size)
    enumerated = size - _solved(len(lower), size)
    span = np.stack([np.ones(supports.shape), r[supports].astype(float)], axis=2)
    if size == 3 and len(lower) >= 2:
        tube = _tube(coef[:2, supports].transpose(1, 0, 2), lower[:2], upper[:2], r[supports])
        n = np.maximum(tube[:, :, 1] - tube[:, :, 0] + 1, 0)
        first = np.argmin(n, axis=1)  # the shortest way along the tube comes first
        perm = np.stack([first, (first + 1) % 3, (first + 2) % 3], axis=1)
        supports = np.take_along_axis(supports, perm, axis=1)
        span = np.take_along_axis(tube, perm[:, :, None], axis=1)
    span = span[:, :enumerated]
    cost = np.prod(np.maximum(span[:, :, 1] - span[:, :, 0] + 1, 0), axis=1)
    return supports, span, cost


def _tube(w: np.ndarray, lower: np.ndarray, upper: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Per support of three types (w: supports × 2 windows × 3 coefficients, r: supports × 3
    ranges) and per type, whole [first, last] that hold every point of the support inside both
    windows (an outer bound): eliminating one other type between the two windows leaves
    α·x_i + γ·x_k in a known interval, and x_k's range [1, r_k] then bounds x_i; both choices
    of the type eliminated, and [1, r_i], are intersected."""
    first = np.ones(r.shape)
    last = r.astype(float)
    for i in range(3):
        for j in range(3):
            if j == i:
                continue
            k = 3 - i - j
            c0, c1 = w[:, 1, j], -w[:, 0, j]  # c0·window 0 + c1·window 1 cancels x_j
            low = c0 * lower[0] + c1 * upper[1]
            high = c0 * upper[0] + c1 * lower[1]
            alpha = c0 * w[:, 0, i] + c1 * w[:, 1, i]
            gamma = c0 * w[:, 0, k] + c1 * w[:, 1, k]
            g = np.stack([gamma, gamma * r[:, k]])
            a_lo, a_hi = low - g.max(axis=0), high - g.min(axis=0)  # α·x_i within
            scale = np.abs(c0 * w[:, 0, i]) + np.abs(c1 * w[:, 1, i])
            known = np.abs(alpha) > NEAR_PARALLEL * scale
            safe = np.where(known, alpha, 1.0)
            ends = np.sort(np.stack([a_lo / safe, a_hi / safe]), axis=0)
            room = EPS + 1e-9 * r[:, i]  # the elimination's rounding, outwards
            first[:, i] = np.where(
                known, np.maximum(first[:, i], np.ceil(ends[0] - room)), first[:, i]
            )
            last[:, i] = np.where(
                known, np.minimum(last[:, i], np.floor(ends[1] + room)), last[:, i]
            )
    return np.stack([first, last], axis=2)


def _points(coef, lower, upper, r, supports: np.ndarray, span: np.ndarray, limit: int):
    """The points whose nonzero types are one of `supports` (rows of equal size, enumerated
    types first; each type ≥ 1 server), at most `limit` of them (rows over all chip types), all
    supports at once: each enumerated type expands each row into one per value of its `span`
    that can still reach every window with the types after it at 1 … r servers; the solved
    ones are read off the windows (`_extent`, `_solve_last`)."""
    size = supports.shape[1]
    solved = _solved(len(lower), size)
    rows = np.arange(len(supports))  # candidate → its support
    partial = np.zeros((len(supports), len(lower)))  # what the enumerated types add
    values = np.zeros((len(supports), 0))  # the enumerated types' servers
    for pos in range(size - solved):
        ty = supports[rows, pos]
        a = coef[:, ty].T  # candidates × windows
        later = supports[rows, pos + 1 :]  # the types still to come: each 1 … r servers
        most = np.einsum("hcq,cq->ch", coef[:, later], r[later].astype(float))
        least = coef[:, later].sum(axis=2).T
        # the servers of this type that can still reach every window, leaning outwards
        first = np.ceil(np.max((lower - partial - most) / a, axis=1) - EPS)
        last = np.floor(np.min((upper - partial - least) / a, axis=1) + EPS)
        start = np.maximum(span[rows, pos, 0], first)
        n = np.maximum(np.minimum(span[rows, pos, 1], last) - start + 1, 0).astype(np.int64)
        value = _runs(start, n)
        rows, partial = np.repeat(rows, n), np.repeat(partial, n, axis=0)
        values = np.column_stack([np.repeat(values, n, axis=0), value])
        partial = partial + value[:, None] * coef[:, supports[rows, pos]].T
    if not len(rows):
        return np.zeros((0, len(r)))
    lo, up = lower - partial, upper - partial  # what the solved types must add
    last_ty = supports[rows, size - 1]
    if solved == 2:
        x_ty = supports[rows, size - 2]
        pick, xs = _extent(coef[:, x_ty].T, coef[:, last_ty].T, lo, up, r[x_ty])
        a_x = coef[:, x_ty[pick]].T
        rows, values, last_ty = rows[pick], np.column_stack([values[pick], xs]), last_ty[pick]
        lo, up = lo[pick] - xs[:, None] * a_x, up[pick] - xs[:, None] * a_x
    first, n = _solve_last(coef[:, last_ty].T, lo, up, r[last_ty])
    keep = np.flatnonzero(n > 0)[:limit]
    n = np.minimum(n[keep], limit)
    y = _runs(first[keep], n)
    at = np.repeat(keep, n)[:limit]
    out = np.zeros((len(at), len(r)))
    np.put_along_axis(out, supports[rows[at]], np.column_stack([values[at], y[:limit]]), axis=1)
    return out


def _solve_last(a: np.ndarray, lo: np.ndarray, up: np.ndarray, most: np.ndarray):
    """Per candidate, the whole y in [1, most] with lo ≤ a·y ≤ up in every window (a, lo, up:
    candidates × windows) as (first y, how many)."""
    first = np.maximum(np.ceil(np.max(lo / a, axis=1) - EPS), 1)
    last = np.minimum(np.floor(np.min(up / a, axis=1) + EPS), most)
    return first, np.maximum(last - first + 1, 0).astype(np.int64)


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
    return np.repeat(np.arange(len(lo)), n), _runs(first, n)


def _runs(first: np.ndarray, n: np.ndarray) -> np.ndarray:
    """first[0], first[0] + 1, … (n[0] of them), then first[1], … : each row's values, in turn."""
    return np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + np.repeat(first, n)
