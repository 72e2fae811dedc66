"""Refit every shipped calibration profile by the command it records, and rewrite
catalogs/profiles.toml (its header comment and each profile's `notes` are kept).

    python scripts/refit_profiles.py            # refit all, rewrite the file
    python scripts/refit_profiles.py --check    # refit all, exit 1 if any number moved

It then reruns the command catalogs/intervals.toml records (the 80% intervals of answers, from
held-out residuals under the refitted profiles) and rewrites that file too.

Run it after `catalogs/measurements/decode.csv` (or another CSV a `command` names, such as
inferencemax.csv for `current`) changes; review the `notes`, which are written
by hand and may quote numbers of the previous fit. New profiles are added by running their
`designer calibrate … --out FILE` command once and appending the table to the file.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import tomllib
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "catalogs" / "profiles.toml"
INTERVALS = ROOT / "catalogs" / "intervals.toml"


def _argv(command: str, out: Path) -> list[str]:
    """The recorded `designer calibrate …` command as argv, writing to `out`."""
    from designer.interface.cli import _without_out

    words = shlex.split(command)
    if words[:2] != ["designer", "calibrate"]:
        raise SystemExit(f"not a calibrate command: {command!r}")
    return [*_without_out(words[1:]), "--out", str(out)]


def _run(command: str, label: str) -> str:
    """What the recorded `designer calibrate …` command writes, without the output gate's
    stamp line (the catalogs carry their own header comment)."""
    from designer.interface.cli import main
    from designer.model.outputs import MARK

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.toml"
        with redirect_stdout(StringIO()):
            code = main(_argv(command, out))
        if code:
            raise SystemExit(f"{label}: the fit exited {code}")
        text = out.read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    return rest if first.startswith(f"# {MARK}") else text


def refit(text: str) -> str:
    header = text[: text.index("\n[")].rstrip("\n") + "\n"  # the comment before the tables
    tables = []
    for pid, body in tomllib.loads(text).items():
        lines = _run(body["command"], pid).splitlines()
        if body.get("notes"):
            lines.insert(2, f"notes = {_quote(body['notes'])}")
        tables.append("\n".join(lines) + "\n")
    return header + "\n" + "\n".join(tables)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# How far a refit may land from the shipped numbers on another numpy/scipy. Each fit is
# regularized (designer.calibration.calibrate, PRIOR), so its minimum is unique and scipy's own
# tolerances
# (1e-8) would do; the bounds below are looser by the rounding of the file and the starts: a
# parameter within 1% of its fitted range, an in-sample error within 0.25 percentage points, a
# cross-validated one (seven to fourteen refits of subsets) within 1 point.
PARAMETER_TOLERANCE = (
    0.01  # share of the parameter's range in designer.calibration.calibrate.PARAMETERS
)
ERROR_TOLERANCE = {"fit_mape": 0.25, "fit_median": 0.25, "fit_worst": 1.0, "cv_mape": 1.0}
# a generation's measured platforms (designer/calibration/platforms.py): each one's scale and
# per-step time are fitted on top of the generation's fit, so they move with it: within 1%
# (the per-step time within 1% or 10 µs); their models and counts exactly
PLATFORM_TOLERANCE = 0.01
PLATFORM_STEP_FLOOR_S = 10e-6


def _tolerances() -> dict[str, float]:
    """Absolute tolerance per profile key (times in seconds), from `PARAMETER_TOLERANCE`."""
    from designer.calibration.calibrate import PARAMETERS

    return {
        field: PARAMETER_TOLERANCE * (hi - lo) * scale for _, field, scale, lo, hi in PARAMETERS
    } | ERROR_TOLERANCE


def _close(key: str, a: object, b: object, tol: dict[str, float]) -> bool:
    if key == "fit_date":
        return True
    if key == "intervals":  # a software generation's own table: as catalogs/intervals.toml
        return isinstance(a, dict) and isinstance(b, dict) and not intervals_moved(a, b)
    if key == "platforms":
        return isinstance(a, dict) and isinstance(b, dict) and not platforms_moved(a, b)
    if key not in tol:
        return a == b
    from designer.model.errors import InputError
    from designer.model.units import parse

    def number(v: object) -> float:
        return parse(v, "time") if isinstance(v, str) else float(v)

    try:
        return abs(number(a) - number(b)) <= tol[key] * (1 + 1e-9)
    except (InputError, TypeError, ValueError):  # not a number where one belongs: moved
        return False


def changed(before: dict, after: dict) -> list[str]:
    """Profiles added, removed, or with a value moved beyond its tolerance (the fit date
    aside; parameters and errors within `PARAMETER_TOLERANCE` / `ERROR_TOLERANCE`, every other
    value exactly), by id."""
    tol = _tolerances()

    def same(a: dict | None, b: dict | None) -> bool:
        return (
            a is not None
            and b is not None
            and set(a) == set(b)
            and all(_close(k, a[k], b[k], tol) for k in a)
        )

    return [p for p in sorted(set(before) | set(after)) if not same(before.get(p), after.get(p))]


def platforms_moved(before: dict, after: dict) -> bool:
    """Whether a generation's refitted `platforms` tables differ: another platform, model or
    count, or a scale or per-step time beyond `PLATFORM_TOLERANCE`."""
    from designer.model.units import parse

    if set(before) != set(after):
        return True
    for name, a in before.items():
        b = after[name]
        if not isinstance(a, dict) or not isinstance(b, dict) or set(a) != set(b):
            return True
        if any(a[k] != b[k] for k in a if k not in ("scale", "overhead_per_step")):
            return True
        if abs(a["scale"] - b["scale"]) > PLATFORM_TOLERANCE * abs(a["scale"]):
            return True
        ta, tb = (parse(t["overhead_per_step"], "time") for t in (a, b))
        if abs(ta - tb) > max(PLATFORM_TOLERANCE * ta, PLATFORM_STEP_FLOOR_S):
            return True
    return False


def refit_intervals(text: str) -> str:
    """catalogs/intervals.toml refitted by the command it records."""
    return _run(tomllib.loads(text)["command"], "intervals")


def intervals_moved(before: dict, after: dict) -> bool:
    """Whether a refitted interval table differs beyond 1% of a quantile or 1 point of
    coverage (the fits it rests on move within their own tolerances), or in a measured
    widening factor (`[widen_measured]`)."""
    if set(before["cells"]) != set(after["cells"]) or before["ranges"] != after["ranges"]:
        return True
    factors = [(t.get("widen_measured") or {}).get("factors") for t in (before, after)]
    if factors[0] != factors[1]:
        return True
    for k, cell in before["cells"].items():
        new = after["cells"][k]["ratio"]
        if any(abs(a - b) > 0.01 * abs(a) for a, b in zip(cell["ratio"], new, strict=True)):
            return True
    if set(before["coverage"]) != set(after["coverage"]):  # a check added or gone
        return True
    return any(
        abs(s["inside"] - after["coverage"][name]["inside"]) > 1.0
        for name, s in before["coverage"].items()
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 on a change")
    args = ap.parse_args()
    text = PROFILES.read_text(encoding="utf-8")
    new = refit(text)
    before, after = tomllib.loads(text), tomllib.loads(new)
    if args.check:
        moved = changed(before, after)
        print(
            f"profiles changed ({', '.join(moved)}): run without --check"
            if moved
            else "profiles unchanged"
        )
        if moved:
            return 1
    else:
        PROFILES.write_text(new, encoding="utf-8")
        print(f"rewrote {PROFILES.relative_to(ROOT)} ({len(after)} profiles)")
    old_iv = INTERVALS.read_text(encoding="utf-8")
    new_iv = refit_intervals(old_iv)
    if args.check:
        moved_iv = intervals_moved(tomllib.loads(old_iv), tomllib.loads(new_iv))
        print("intervals changed: run without --check" if moved_iv else "intervals unchanged")
        return 1 if moved_iv else 0
    INTERVALS.write_text(new_iv, encoding="utf-8")
    print(f"rewrote {INTERVALS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
