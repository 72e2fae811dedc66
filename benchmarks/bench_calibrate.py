"""How long calibration takes on the shipped measurements, and what predicting rows as arrays buys.

Times, on catalogs/measurements/decode.csv (median of `--repeats`):
(a) one prediction of every row for one profile, row by row through `perf` and `prefill`
    (`measurements.predict_ms`, the reference) and as arrays (`measurements.Terms.predict`,
    what the fit calls), and the one-time cost of building the arrays (`Terms.of`);
(b) one fit of the generic profile (`calibrate.fit_profile`: three starts of a bounded
    least-squares, each prediction through `Terms`);
(c) leave-one-platform-out cross-validation (one fit per platform), plain and within engine.

Run:  python benchmarks/bench_calibrate.py [--repeats 3]
Writes benchmarks/results/calibrate.json.
"""

from __future__ import annotations

import argparse

from _common import environment, median, timed, write_json

from designer.calibration import calibrate, measurements, profiles
from designer.model.catalog import Catalog

ARRAY_CALLS = 200  # array predictions timed together (one takes tens of µs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cat = Catalog.load()
    rows = measurements.load(measurements.bundled_path(), cat)
    items = measurements.prepare(rows, cat)
    eff = profiles.get("generic").efficiency
    runs: dict[str, list[float]] = {
        k: []
        for k in (
            "predict_row_by_row_s",
            "terms_build_s",
            "predict_arrays_s",
            "fit_s",
            "lopo_s",
            "lopo_within_engine_s",
        )
    }
    for _ in range(args.repeats):
        runs["predict_row_by_row_s"].append(
            timed(lambda: [measurements.predict_ms(i, eff, cat) for i in items])[0]
        )
        t, terms = timed(lambda: measurements.Terms.of(items))
        runs["terms_build_s"].append(t)
        runs["predict_arrays_s"].append(
            timed(lambda t=terms: [t.predict(eff) for _ in range(ARRAY_CALLS)])[0] / ARRAY_CALLS
        )
        runs["fit_s"].append(timed(lambda: calibrate.fit_profile(rows, cat))[0])
        runs["lopo_s"].append(timed(lambda: calibrate.cross_validate(rows, cat, "platform"))[0])
        runs["lopo_within_engine_s"].append(
            timed(lambda: calibrate.cross_validate(rows, cat, "platform", within="engine"))[0]
        )
    med = {k: median(v) for k, v in runs.items()}
    ratio = med["predict_row_by_row_s"] / med["predict_arrays_s"]
    payload = {
        "environment": environment(),
        "rows": len(rows),
        "platforms": len({r.platform for r in rows}),
        "repeats": args.repeats,
        "median": med,
        "runs": runs,
        "arrays_speedup_per_prediction": ratio,
    }
    path = write_json("calibrate.json", payload)
    print(f"{len(rows)} rows, {payload['platforms']} platforms, median of {args.repeats}:")
    for k, v in med.items():
        print(f"  {k:24} {v:.4g} s")
    print(f"  arrays vs row by row: {ratio:,.0f}x per prediction")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
