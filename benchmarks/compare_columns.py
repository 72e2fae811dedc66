"""The columns before and after a change to the column build (issue 18): every field of
`designer.optimize.columns.build` on the 20-class problem of `bench_classes.py` (the first 20
classes of the planet, users /1000), on the planet itself and on every `problems/*.toml`.

    python benchmarks/compare_columns.py --save /tmp/before.pickle   # on the old code
    python benchmarks/compare_columns.py --against /tmp/before.pickle

`--against` exits 1 when a problem's columns differ: an integer or text field in any entry, a
float field by more than `--rel` (default 1e-12) relative, or the per-class presolve counts,
the excluded chips or the incumbent. Problems whose build raises (they ask something the
column build does not answer) are compared by their error message.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np
from bench_classes import problem as class_problem
from bench_planet import PROBLEM, ROOT

from designer.optimize import columns
from designer.optimize.problem import load_problem


def snapshots() -> dict[str, dict]:
    """Per problem name, its columns as plain arrays and values (or the build's error)."""
    todo = {"planet[:20] users/1000": lambda: class_problem(20, 1e-3), "planet": None}
    todo["planet"] = lambda: load_problem(PROBLEM)
    for path in sorted((ROOT / "problems").glob("*.toml")):
        todo[path.name] = lambda path=path: load_problem(path)
    out = {}
    for name, make in todo.items():
        try:
            c = columns.build(make())
        except Exception as e:  # noqa: BLE001 — compared as it stands
            out[name] = {"error": f"{type(e).__name__}: {e}"}
            continue
        snap = {k: np.array(getattr(c, k)) for k in columns.ARRAYS}
        snap["stats"] = [dict(s) for s in c.stats]
        snap["excluded"] = list(c.excluded)
        snap["incumbent"] = c.incumbent
        snap["chip_types"] = [repr(t) for t in c.chip_types]
        out[name] = snap
    return out


def differences(before: dict, after: dict, rel: float) -> list[str]:
    """What differs between two snapshots of one problem, one line each."""
    if set(before) != set(after):
        return [f"fields {sorted(before)} became {sorted(after)}"]
    out = []
    for k, a in before.items():
        b = after[k]
        if isinstance(a, np.ndarray):
            if a.shape != b.shape:
                out.append(f"{k}: {a.shape} entries became {b.shape}")
            elif a.dtype.kind == "f":
                scale = np.maximum(np.abs(a), np.abs(b))
                bad = ~((a == b) | (np.abs(a - b) <= rel * scale))
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    out.append(f"{k}: {int(bad.sum())} entries, e.g. [{i}] {a[i]!r} → {b[i]!r}")
            elif not np.array_equal(a, b):
                i = int(np.flatnonzero(a != b)[0])
                out.append(f"{k}: entry [{i}] {a[i]!r} → {b[i]!r}")
        elif isinstance(a, float) and isinstance(b, float):
            if not (a == b or abs(a - b) <= rel * max(abs(a), abs(b))):
                out.append(f"{k}: {a!r} → {b!r}")
        elif a != b:
            out.append(f"{k}: {a!r} → {b!r}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--save", type=Path, help="write the snapshots here")
    mode.add_argument("--against", type=Path, help="compare with the snapshots saved here")
    ap.add_argument("--rel", type=float, default=1e-12)
    args = ap.parse_args()
    now = snapshots()
    if args.save:
        args.save.write_bytes(pickle.dumps(now))
        print(f"saved the columns of {len(now)} problems to {args.save}")
        return
    before = pickle.loads(args.against.read_bytes())
    failed = 0
    for name in sorted(set(before) | set(now)):
        if name not in before or name not in now:
            print(f"{name}: only {'after' if name in now else 'before'}")
            failed += 1
            continue
        diff = differences(before[name], now[name], args.rel)
        size = len(now[name].get("cls", ()))
        print(f"{name}: {'identical' if not diff else 'DIFFERENT'} ({size} columns)")
        for line in diff:
            print(f"    {line}")
        failed += bool(diff)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
