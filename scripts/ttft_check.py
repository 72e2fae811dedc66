"""Published times to first token against the prefill model, held out (calibration/ttft.py).

    python scripts/ttft_check.py [PREFILL.csv]
    python scripts/ttft_check.py [PREFILL.csv] --forms

Prints each row's measured TTFT, the prediction under the profile an answer would use for its
chip and engine, and under a fit to the other sources' decode rows; then the MAPE and the mean
signed error of each, overall and by engine.

`--forms`: prefill terms fitted to the TTFT rows themselves, leave-one-source-out (each
publication's rows predicted by a fit to the other publications' TTFT rows, every other part
of the prefill under the row's answer profile): `eta`, one prefill compute efficiency η_pf;
`eta+attn`, η_pf for the GEMMs and another for the causal-attention FLOPs (the attention path at
long prompts); `eta per engine`, η_pf per serving engine, fitted only where another
publication has TTFT rows of the same engine (else the shipped profile's); `t0`, a fixed time per
request (a serving front end's) added to the pass under the answer profile; `t0 per engine`, one
per engine where another publication has its rows (else `t0`'s); `scale+t0`, that time and one
factor on the whole pass. Printed beside the shipped profiles' error: the MAPE, the median and
mean signed error, and the share inside an 80% interval built from the other publications'
held-out measured / predicted (each also held out without the judged publication), with its
median half-width. docs/model.md §6 ("Time to first token") states the rules these were judged
by (round 12: a fixed time and a TTFT interval, neither adopted). Last, how the interval answers
give held out (rules N2, round 18, and E, round 19: `designer.calibration.ttft_interval.held_out`),
overall and per engine, and the same with the pages of one repository at one commit counted as
one publication.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from designer.calibration import engines, intervals, measurements, profiles, ttft, ttft_interval
from designer.model import perf
from designer.model.catalog import Catalog
from designer.model.prefill import causal_attention_flops, link_bandwidth, prefill_time
from designer.model.workload import Workload


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=str(ttft.bundled_path()))
    ap.add_argument("--forms", action="store_true", help="prefill terms fitted to TTFT rows")
    args = ap.parse_args(argv)
    cat = Catalog.load()
    rows = ttft.load(args.data, cat)
    if args.forms:
        return forms(rows, cat)
    decode = measurements.load(measurements.bundled_path(), cat)
    res = ttft.compare(rows, decode, cat)
    print(
        f"{'id':8s} {'engine':13s} {'prompt':>7s} {'measured ms':>12s} {'profile':22s}"
        f" {'ms':>10s} {'err':>7s} {'held-out ms':>12s} {'err':>7s}"
    )
    for r in res:
        e1 = r["profile_ms"] / r["measured_ms"] - 1
        e2 = r["held_out_ms"] / r["measured_ms"] - 1
        print(
            f"{r['id']:8s} {r['engine']:13s} {r['input_tokens']:7d} {r['measured_ms']:12.1f} "
            f"{r['profile']:22s} {r['profile_ms']:10.1f} {e1:+7.1%} {r['held_out_ms']:12.1f} "
            f"{e2:+7.1%}"
        )
    groups = {"all": res}
    for r in res:
        groups.setdefault(r["engine"], []).append(r)
    for name, g in groups.items():
        m = np.array([r["measured_ms"] for r in g])
        cells = []
        for key in ("profile_ms", "held_out_ms"):
            rel = np.array([r[key] for r in g]) / m - 1
            cells.append(f"{key[:-3]}: MAPE {np.abs(rel).mean():.1%}, signed {rel.mean():+.1%}")
        print(f"{name} ({len(g)} rows): " + "; ".join(cells))
    return 0


def _parts(row: ttft.Row, cat: Catalog) -> tuple[float, float, float, float]:
    """(GEMM compute, attention compute at η_pf = 1, memory, collectives + software) of the
    row's prefill under its answer profile, in seconds."""
    eff = profiles.default_for(cat, row.chip, row.engine).efficiency
    wl = Workload(
        cat.model(row.model),
        row.input_tokens,
        row.weight_dtype,
        row.kv_dtype,
        efficiency=dataclasses.replace(eff, prefill_compute=1.0),
        assumptions=measurements.MEASURED_ASSUMPTIONS,
        activation_dtype=engines.activation(row.engine),
    )
    hw = perf.ChipArrays.build(cat, [row.chip], wl.compute_dtype).take(0)
    pf = prefill_time(
        wl, hw, link_bandwidth(cat, row.chip), tp=row.tp, pp=row.pp, prompt_tokens=row.input_tokens
    )
    att = causal_attention_flops(wl, row.input_tokens) / pf.flops * pf.compute_s
    return pf.compute_s - att, att, pf.memory_s, pf.collective_s + pf.overhead_s


def _predict(parts: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Prefill seconds with GEMMs at x[0] and attention at x[-1] of peak."""
    gemm, att, mem, rest = parts.T
    return np.maximum(gemm / x[0] + att / x[-1], mem) + rest


def _fit(parts: np.ndarray, measured: np.ndarray, n: int) -> np.ndarray:
    from scipy.optimize import least_squares

    res = least_squares(
        lambda x: _predict(parts, x) / measured - 1.0,
        [0.3] * n,
        bounds=([0.01] * n, [1.0] * n),
        loss="soft_l1",
        f_scale=0.01,
    )
    return res.x


def _fit_fixed(passes: np.ndarray, measured: np.ndarray, scaled: bool) -> np.ndarray:
    """`[s, t0]` of `TTFT = s · pass + t0` (s held at 1 unless `scaled`; t0 in [0, 2 s], s in
    [1, 10]), minimizing the relative error as `_fit` does."""
    from scipy.optimize import least_squares

    if scaled:
        x = least_squares(
            lambda x: (x[0] * passes + x[1]) / measured - 1.0,
            [1.2, 0.01],
            bounds=([1.0, 0.0], [10.0, 2.0]),
            loss="soft_l1",
            f_scale=0.01,
        ).x
        return x
    x = least_squares(
        lambda x: (passes + x[0]) / measured - 1.0,
        [0.01],
        bounds=([0.0], [2.0]),
        loss="soft_l1",
        f_scale=0.01,
    ).x
    return np.array([1.0, x[0]])


FORMS = ("shipped", "eta", "eta+attn", "eta per engine", "t0", "t0 per engine", "scale+t0")


class Forms:
    """TTFT predictions of `rows` under each of `FORMS`, every term fitted only to the rows
    given as training (module doc): the `eta…` forms refit the prefill efficiencies; `t0` adds
    one fixed time per request (a serving front end's) to the pass under the answer profile,
    `t0 per engine` one per engine where the training rows hold that engine (else `t0`'s), and
    `scale+t0` also scales the whole pass."""

    def __init__(self, rows: list[ttft.Row], cat: Catalog):
        self.parts = np.array([_parts(r, cat) for r in rows])
        self.measured = np.array([r.ttft_ms / 1e3 for r in rows])
        self.shipped = np.array([ttft.answer_ms(r, cat)[1] / 1e3 for r in rows])
        self.engine = np.array([r.engine for r in rows])
        self.source = np.array([r.source_url for r in rows])

    def predict(self, form: str, train: np.ndarray, held: np.ndarray) -> np.ndarray:
        """Seconds of the rows `held` under `form` fitted to the rows `train` (index arrays);
        a per-engine form falls back where `train` holds none of the row's engine (`eta per
        engine`: the shipped profile; `t0 per engine`: `t0`)."""
        if form == "shipped":
            return self.shipped[held]
        if form.endswith("per engine"):
            out = np.empty(len(held))
            base = "t0" if form.startswith("t0") else "shipped"
            for e in np.unique(self.engine[held]):
                mine = held[self.engine[held] == e]
                tr = train[self.engine[train] == e]
                if len(tr):
                    got = self.predict(form.removesuffix(" per engine"), tr, mine)
                else:
                    got = self.predict(base, train, mine)
                out[self.engine[held] == e] = got
            return out
        if form in ("t0", "scale+t0"):
            s, t0 = _fit_fixed(self.shipped[train], self.measured[train], form == "scale+t0")
            return s * self.shipped[held] + t0
        x = _fit(self.parts[train], self.measured[train], 2 if form == "eta+attn" else 1)
        return _predict(self.parts[held], x)

    def held_out(self, form: str) -> dict[str, np.ndarray]:
        """Leave-one-source-out predictions under `form`, with each row's 80% interval: its
        prediction times the 10th and 90th percentiles of measured / predicted of the *other*
        sources' rows, each of those held out without the judged source too (double nested:
        no row of the judged source shapes its own interval)."""
        n = len(self.measured)
        every = np.arange(n)
        pred, low, high = np.empty(n), np.empty(n), np.empty(n)
        for s in np.unique(self.source):
            held, train = every[self.source == s], every[self.source != s]
            pred[held] = self.predict(form, train, held)
            ratios = []
            for other in np.unique(self.source[train]):
                h2 = every[self.source == other]
                t2 = every[(self.source != s) & (self.source != other)]
                ratios.append(self.measured[h2] / self.predict(form, t2, h2))
            q10, q90 = np.quantile(np.concatenate(ratios), [0.1, 0.9])
            low[held], high[held] = pred[held] * q10, pred[held] * q90
        return {"predicted": pred, "low": low, "high": high}


def summary(measured: np.ndarray, got: dict[str, np.ndarray]) -> dict[str, float]:
    """MAPE, median |error|, mean signed error, share inside the interval and its median
    half-width over the prediction, in %."""
    rel = got["predicted"] / measured - 1.0
    inside = (got["low"] <= measured) & (measured <= got["high"])
    half = (got["high"] - got["low"]) / 2.0 / got["predicted"]
    return {
        "mape": float(np.abs(rel).mean() * 100),
        "median": float(np.median(np.abs(rel)) * 100),
        "signed": float(rel.mean() * 100),
        "inside": float(inside.mean() * 100),
        "half_width": float(np.median(half) * 100),
    }


def forms(rows: list[ttft.Row], cat: Catalog) -> int:
    """Leave-one-source-out TTFT error, and the double-nested coverage of an 80% interval, of
    prefill terms fitted to TTFT rows (module doc)."""
    f = Forms(rows, cat)
    print(f"{len(rows)} rows, {len(np.unique(f.source))} source documents, each held out in turn")
    print(
        f"{'form':15s} {'MAPE':>6s} {'median':>7s} {'signed':>7s} {'inside':>7s}"
        f" {'half-width':>11s}"
    )
    for form in FORMS:
        got = f.held_out(form)
        s = summary(f.measured, got)
        print(
            f"{form:15s} {s['mape']:5.1f}% {s['median']:6.1f}% {s['signed']:+6.1f}%"
            f" {s['inside']:6.1f}% {s['half_width']:9.1f}%"
        )
        for e in np.unique(f.engine):
            m = f.engine == e
            t = summary(f.measured[m], {k: v[m] for k, v in got.items()})
            print(
                f"    {e:13s} {m.sum():3d} rows: MAPE {t['mape']:5.1f}%, inside {t['inside']:5.1f}%"
            )
    for form in ("t0", "scale+t0"):
        s, t0 = _fit_fixed(f.shipped, f.measured, form == "scale+t0")
        print(f"{form} fitted on all {len(rows)} rows: s = {s:.3g}, t0 = {t0 * 1e3:.2g} ms")
    ratios = ttft.ratios_of(rows, cat)
    c = ttft_interval.held_out(ratios)  # the interval answers give (rules N2 and E)
    engines_inside = ", ".join(
        f"{e} {v:.1f}% at ±{c['median_half_width_by_engine'][e]:.1f}%"
        for e, v in c["inside_by_engine"].items()
    )
    print(
        f"shipped interval (publications weighed equally; an engine's own rows where"
        f" {ttft_interval.MIN_PUBLICATIONS} publications measured it; 1.5x per dimension outside"
        f" the other publications' rows): {c['inside']:.1f}% inside, median half-width"
        f" ±{c['median_half_width']:.1f}% ({engines_inside})"
    )
    # the same with the pages of one repository at one commit counted as one publication
    grouped = dataclasses.replace(
        ratios, source=np.array([ttft_interval.publication(u) for u in ratios.source])
    )
    g = ttft_interval.held_out(grouped)
    low, high = intervals.bounds(intervals.weighted_quantiles(grouped.ratio, grouped.source))
    print(
        f"  pages of one repository and commit as one publication ({g['publications']}):"
        f" {g['inside']:.1f}% inside, median half-width ±{g['median_half_width']:.1f}%;"
        f" built from all rows {low:.2f}-{high:.2f}x the prediction"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
