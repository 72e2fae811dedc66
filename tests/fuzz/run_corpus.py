"""Run the fuzz corpus of issue 7 and print the counts of contract breaches.

    .venv/bin/python tests/fuzz/run_corpus.py --n 2000 --workers 2

Prints, per family and in total: inputs, exit codes, tracebacks, internal errors, hangs past
10 s, NaN/Infinity in JSON, bad inputs accepted with exit 0 (and other wrong answers with exit
0), bad inputs reported as infeasible, valid inputs rejected; then up to --show examples of each
breach with the command to reproduce it. A sample of --subprocess cases also runs through a real
`python -m designer.interface.cli` process. The `limits` family (--limits cases, on top of --n) are
valid but large searches (max_batch 10^5, every candidate with --no-prune, short --time-limit):
their hangs measure the solver's speed and --time-limit, not input checking.
Exit status 1 when any breach was found.
"""

from __future__ import annotations

import argparse
import collections
import shlex
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz import signals  # noqa: E402
from tests.fuzz.corpus import FAMILIES, FILE_FAMILIES, FILE_WEIGHTS, Corpus, generate  # noqa: E402
from tests.fuzz.harness import TIMEOUT, Case, Worker, run_subprocess, violations  # noqa: E402

COLUMNS = [
    "traceback",
    "internal error",
    "hang",
    "NaN in JSON",
    "bad input accepted",
    "wrong answer",
    "bad input reported as infeasible",
    "valid input rejected",
    "not one error line",
    "stderr on success",
    "invalid JSON",
    "file clobbered",
    "formula in CSV",
    "orphan process",
    "partial output lost",
    "not resumable",
    "wrong signal exit",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="inputs (default 2000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--files",
        type=int,
        default=0,
        help="inputs of the issue-17 families (study, sweep, pareto, compare, profile, csv, "
        "values), on top of --n",
    )
    ap.add_argument(
        "--signals", type=int, default=0, help="sweeps interrupted by SIGINT/SIGTERM (issue 17)"
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--subprocess", type=int, default=20, help="cases also run as a process")
    ap.add_argument("--show", type=int, default=3, help="examples shown per breach")
    ap.add_argument("--timeout", type=float, default=TIMEOUT)
    ap.add_argument(
        "--limits",
        type=int,
        default=12,
        help="extra cases of large valid searches (max_batch 10^5, --no-prune, --time-limit)",
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="designer-fuzz-") as tmp:
        cases = generate(args.n, Path(tmp), seed=args.seed) if args.n else []
        if args.files:
            cases += generate(args.files, Path(tmp) / "files", args.seed, FILE_WEIGHTS)
        extra = Corpus(Path(tmp) / "limits", seed=args.seed)
        cases += [extra.limits() for _ in range(args.limits)]
        t0 = time.perf_counter()
        workers = [Worker() for _ in range(args.workers)]
        chunks = [cases[i :: args.workers] for i in range(args.workers)]

        def run_chunk(i: int):
            return [(c, workers[i].run(c, args.timeout)) for c in chunks[i]]

        with ThreadPoolExecutor(args.workers) as pool:
            results = [r for chunk in pool.map(run_chunk, range(args.workers)) for r in chunk]
        for w in workers:
            w.close()
        sample = cases[:: max(1, len(cases) // max(args.subprocess, 1))][: args.subprocess]
        results += [
            (Case("subprocess:" + c.family, c.argv, c.env, c.expect, c.note), run_subprocess(c))
            for c in sample
            if not c.before and not c.keep  # those were run once already
        ]
        judged = [(c, violations(c, o), o) for c, o in results]
        judged += signals.run(args.signals, Path(tmp) / "signals")
        seconds = time.perf_counter() - t0

        counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        examples: dict[str, list[str]] = collections.defaultdict(list)
        for case, found, outcome in judged:
            fam = counts[case.family]
            fam["inputs"] += 1
            fam[f"exit {outcome.code if not outcome.hung else 'hang'}"] += 1
            for v in found:
                fam[v] += 1
                if len(examples[v]) < args.show:
                    env = " ".join(f"{k}={shlex.quote(x)}" for k, x in case.env.items())
                    cmd = f"{env} designer {shlex.join(case.argv)}".strip()
                    examples[v].append(
                        f"  [{case.family}] {case.note[:80]}\n    $ {cmd[:300]}\n"
                        f"    → exit {outcome.code}: {(outcome.err or outcome.out)[-300:].strip()}"
                    )
        total = collections.Counter()
        for fam in counts.values():
            total.update(fam)
        known = (*FAMILIES, "limits", *FILE_FAMILIES, "signals")
        families = [f for f in known if f in counts] + sorted(f for f in counts if f not in known)
        print(f"{len(judged)} inputs in {seconds:.0f} s (seed {args.seed}, {args.workers} workers)")
        header = ["family", "inputs", "exit 0", "exit 2", "exit 3", "exit 4", *COLUMNS]
        print("\t".join(header))
        for name, c in [*((f, counts[f]) for f in families), ("TOTAL", total)]:
            print("\t".join([name, *(str(c[h]) for h in header[1:])]))
        for v, lines in examples.items():
            print(f"\n{v} (e.g.):")
            print("\n".join(lines))
        breaches = sum(total[c] for c in COLUMNS)
        return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
