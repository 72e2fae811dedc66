"""Refit every shipped calibration profile by the command it records, and rewrite
catalogs/profiles.toml (its header comment and each profile's `notes` are kept).

    python scripts/refit_profiles.py            # refit all, rewrite the file
    python scripts/refit_profiles.py --check    # refit all, exit 1 if any number moved

Run it after `catalogs/measurements/decode.csv` changes; review the `notes`, which are written
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


def _argv(command: str, out: Path) -> list[str]:
    """The recorded `designer calibrate …` command as argv, writing to `out`."""
    from designer.cli import _without_out

    words = shlex.split(command)
    if words[:2] != ["designer", "calibrate"]:
        raise SystemExit(f"not a calibrate command: {command!r}")
    return [*_without_out(words[1:]), "--out", str(out)]


def refit(text: str) -> str:
    from designer.cli import main

    header = text[: text.index("\n[")].rstrip("\n") + "\n"  # the comment before the tables
    old = tomllib.loads(text)
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for pid, body in old.items():
            out = Path(tmp) / f"{pid}.toml"
            with redirect_stdout(StringIO()):
                code = main(_argv(body["command"], out))
            if code:
                raise SystemExit(f"{pid}: the fit exited {code}")
            fitted = out.read_text(encoding="utf-8")
            lines = fitted.splitlines()
            if body.get("notes"):
                lines.insert(2, f"notes = {_quote(body['notes'])}")
            tables.append("\n".join(lines) + "\n")
    return header + "\n" + "\n".join(tables)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def changed(before: dict, after: dict) -> list[str]:
    """Profiles added, removed or with any number moved (the fit date aside), by id."""
    ids = sorted(set(before) | set(after))
    return [
        pid
        for pid in ids
        if pid not in before
        or pid not in after
        or {**before[pid], "fit_date": after[pid].get("fit_date")} != after[pid]
    ]


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
        return 1 if moved else 0
    PROFILES.write_text(new, encoding="utf-8")
    print(f"rewrote {PROFILES.relative_to(ROOT)} ({len(after)} profiles)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
