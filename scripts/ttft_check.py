"""Published times to first token against the prefill model, held out (calibration/ttft.py).

    python scripts/ttft_check.py [PREFILL.csv]

Prints each row's measured TTFT, the prediction under the profile an answer would use for its
chip and engine, and under a fit to the other sources' decode rows; then the MAPE and the mean
signed error of each, overall and by engine.
"""

from __future__ import annotations

import argparse

import numpy as np

from designer.calibration import measurements, ttft
from designer.model.catalog import Catalog


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=str(ttft.bundled_path()))
    args = ap.parse_args(argv)
    cat = Catalog.load()
    rows = ttft.load(args.data, cat)
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


if __name__ == "__main__":
    raise SystemExit(main())
