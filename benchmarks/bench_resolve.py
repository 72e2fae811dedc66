"""Persistent re-solves (`designer.solve.Resolver`) against fresh pruned builds, on the paper's
Llama3-405B question (5 xPU presets × TP 1…1024 × PP 1…64) swept over tokens/s per user.

Run: python benchmarks/bench_resolve.py
"""

from __future__ import annotations

import statistics
import time

from designer.problem import load_problem
from designer.solve import Resolver, solve

TARGETS = [250, 500, 750, 1000, 1250, 1500]


def main() -> None:
    base = load_problem("problems/llama3-405b-1000utps-128k-32users-capex.toml")
    resolver = Resolver(base)
    resolver.solve()  # the one build
    persistent, fresh = [], []
    for target in TARGETS:
        change = {"sla.tokens_per_s_per_user": target}
        start = time.perf_counter()
        a = resolver.solve(change)
        persistent.append(time.perf_counter() - start)
        start = time.perf_counter()
        b = solve(base.with_changes(change))
        fresh.append(time.perf_counter() - start)
        if abs(a.objective - b.objective) > 1e-9 * abs(b.objective):
            raise SystemExit(f"MISMATCH at {target}: {a.objective} != {b.objective}")
    print(
        f"{len(TARGETS)} targets: persistent re-solve median {statistics.median(persistent):.3f}"
        f" s, fresh pruned build median {statistics.median(fresh):.3f} s, "
        f"rebuilds {resolver.rebuilds}; objectives agree"
    )


if __name__ == "__main__":
    main()
