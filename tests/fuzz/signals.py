"""A sweep interrupted by SIGINT (Ctrl-C: the whole process group) or SIGTERM (`kill PID`)
while its process pool runs (issue 17): it must exit at once (130 or 143, one stderr line),
leave no pool worker running, keep the rows it had written, and a re-run must resume them.

    .venv/bin/python tests/fuzz/run_corpus.py --n 0 --files 0 --signals 4
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fuzz.harness import ROOT, Case, Outcome

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXPECTED = {signal.SIGINT: 130, signal.SIGTERM: 143}


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def _rows(path: Path) -> int:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return 0
    return sum(1 for line in lines if line and not line.startswith("#")) - 1


def _study(folder: Path, points: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "problem.toml").write_text(
        '[workload]\nmodel = "llama3.1-70b"\ncontext_tokens = 8192\n'
        "[sla]\ntokens_per_s_per_user = 50\nconcurrent_users = 256\n"
        '[objective]\nminimize = "capex"\n'
        '[space]\nchips = ["h100-sxm", "h200", "b200", "mi300x"]\n'
    )
    rates = ", ".join(str(20 + 2 * i) for i in range(points))
    study = folder / "study.toml"
    study.write_text(f'problem = "problem.toml"\n[grid]\n"sla.tokens_per_s_per_user" = [{rates}]\n')
    return study


def interrupt(
    folder: Path, sig: signal.Signals, points: int = 60
) -> tuple[Case, list[str], Outcome]:
    """One interrupted sweep and its re-run; the breaches found (labels as harness.violations)."""
    study = _study(folder, points)
    out = folder / "out.csv"
    argv = ["sweep", str(study), "--out", str(out), "--workers", "2", "--quiet"]
    case = Case("signals", argv, note=f"{sig.name} during a 2-worker sweep")
    env = {k: v for k, v in os.environ.items() if k != "DESIGNER_DEBUG"}
    cmd = [sys.executable, "-m", "designer.interface.cli", *argv]
    p = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    found: list[str] = []
    deadline = time.monotonic() + 60
    while _rows(out) < 1 and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    children = _children(p.pid)
    t0 = time.perf_counter()
    if p.poll() is None:
        if sig == signal.SIGINT:
            os.killpg(p.pid, sig)  # Ctrl-C reaches every process of the terminal's group
        else:
            p.send_signal(sig)
    try:
        _, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return case, ["hang"], Outcome(None, "", "", time.perf_counter() - t0)
    outcome = Outcome(p.returncode, "", err, time.perf_counter() - t0)
    time.sleep(2)  # a worker left behind is still running now
    orphans = [c for c in children if _alive(c)]
    for c in orphans:
        os.kill(c, signal.SIGKILL)
    if orphans:
        found.append("orphan process")
    if "Traceback" in err:
        found.append("traceback")
    if p.returncode != EXPECTED[sig]:
        found.append(f"exit {p.returncode}")
    kept = _rows(out)
    if kept < 1:
        found.append("partial output lost")
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    skipped = re.search(r"skipped (\d+)", again.stderr)
    if again.returncode != 0 or not skipped or int(skipped.group(1)) < kept:
        found.append("not resumable")
        outcome.err += f" | re-run: exit {again.returncode}: {again.stderr[-200:]}"
    return case, found, outcome


def run(n: int, folder: Path) -> list[tuple[Case, list[str], Outcome]]:
    """`n` interrupted sweeps, alternating SIGINT and SIGTERM."""
    return [interrupt(folder / f"s{i}", SIGNALS[i % 2]) for i in range(n)]
