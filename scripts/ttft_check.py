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
publication has TTFT rows of the same engine (else the shipped profile's). Printed beside the
shipped profiles' error.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from designer.calibration import engines, measurements, profiles, ttft
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


def forms(rows: list[ttft.Row], cat: Catalog) -> int:
    """Leave-one-source-out TTFT error of prefill terms fitted to TTFT rows (module doc)."""
    parts = np.array([_parts(r, cat) for r in rows])
    measured = np.array([r.ttft_ms / 1e3 for r in rows])
    shipped = np.array(
        [
            ttft.predict_ms(r, profiles.default_for(cat, r.chip, r.engine).efficiency, cat) / 1e3
            for r in rows
        ]
    )
    print(f"shipped profiles: MAPE {np.abs(shipped / measured - 1).mean():.1%}")
    sources = sorted({r.source_url for r in rows})
    for form in ("eta", "eta+attn", "eta per engine"):
        got = shipped.copy()
        for s in sources:
            held = [k for k, r in enumerate(rows) if r.source_url == s]
            train = [k for k, r in enumerate(rows) if r.source_url != s]
            groups = {"": held} if form != "eta per engine" else {}
            for k in held if form == "eta per engine" else []:
                groups.setdefault(rows[k].engine, []).append(k)
            for engine, ks in groups.items():
                tr = [k for k in train if not engine or rows[k].engine == engine]
                if not tr:
                    print(f"  {form}: no other publication has {engine} TTFT rows: shipped")
                    continue
                x = _fit(parts[tr], measured[tr], 2 if form == "eta+attn" else 1)
                got[ks] = _predict(parts[ks], x)
                print(f"  {form}: {len(tr)} rows fit {np.round(x, 3)} for {s[-50:]} {engine}")
        rel = got / measured - 1
        mape, signed = np.abs(rel).mean(), rel.mean()
        print(f"{form}: leave-one-source-out MAPE {mape:.1%}, signed {signed:+.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
