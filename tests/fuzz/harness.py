"""Run the `designer` command line on fuzz inputs and check the contract of the README.

The contract, for any input: exit code 0 (answered), 2 (bad input), 3 (infeasible) or 4 (solver
limit); on 2 exactly one stderr line starting with `designer: error:`; never a traceback or an
"internal error"; `--json` output is strict JSON (no NaN or Infinity); nothing runs past
`TIMEOUT` seconds; an input known to be bad never exits 0; an answer passes its own re-check;
on success stderr holds only `designer: warning:` lines (and a sweep's summary); files a case
names in `keep` are left byte for byte; a CSV it names in `csv_out` holds no cell a spreadsheet
would run as a formula.

Inputs run in a worker process that has imported `designer` once
(`designer.interface.cli.main(argv)`
in-process, stdout and stderr captured); a worker that overruns the clock is killed and replaced,
so a hang costs one timeout, never the run.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import multiprocessing as mp
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIMEOUT = 10.0  # seconds per input
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Case:
    """One fuzz input: a command line, its environment and what is known about it.

    `expect` is "bad" for inputs that must be rejected (exit 2), "ok" for valid inputs that must
    not be (exit 0, 3 or 4) and "any" when only the contract applies.
    """

    family: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    expect: str = "any"
    note: str = ""
    before: list[list[str]] = field(default_factory=list)  # run first, outcomes ignored
    keep: list[str] = field(default_factory=list)  # files the case must leave byte-for-byte
    csv_out: str = ""  # a CSV the case writes: no cell may start a spreadsheet formula
    stdout: str = ""  # "full" or "closed": run as a process with that standard output
    work: float = 1.0  # the case's clock is work × the timeout (a study solves several points)


def _digest(path: str) -> str | None:
    import hashlib

    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


FORMULA = ("=", "+", "-", "@", "\t", "\r")


def formula_cells(path: str) -> list[str]:
    """Cells of the CSV `path` that a spreadsheet would run as a formula (numbers are not)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            cells = [c for row in csv.reader(f) for c in row]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []

    def number(c: str) -> bool:
        try:
            float(c)
        except ValueError:
            return False
        return True

    return [c for c in cells if c.startswith(FORMULA) and not number(c)]


@dataclass
class Outcome:
    code: int | None
    out: str
    err: str
    seconds: float
    clobbered: list[str] = field(default_factory=list)

    @property
    def hung(self) -> bool:
        return self.code is None


# ---- running ---------------------------------------------------------------------------------
def _run_here(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """designer.interface.cli.main(argv) with `env` added to the environment, output captured."""
    from designer.interface.cli import main

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # main returns codes; this would be a contract breach
                code = exc.code if isinstance(exc.code, int) else 1
                print(f"SystemExit escaped main: {exc.code!r}", file=sys.stderr)
            except BaseException as exc:  # noqa: BLE001  anything escaping main is a breach
                import traceback

                traceback.print_exc()
                code = -1
                del exc
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue(), err.getvalue()


def _worker(conn) -> None:
    # C-level output (a solver's log) must not reach the caller's terminal.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    import designer.interface.cli  # noqa: F401  imported once, before the first input

    conn.send("ready")
    while True:
        try:
            argv, env = conn.recv()
        except EOFError:
            return
        conn.send(_run_here(argv, env))


class Worker:
    """A process that runs cases with designer imported; restarted after a hang."""

    def __init__(self) -> None:
        self._ctx = mp.get_context("fork")
        self._start()

    def _start(self) -> None:
        self.conn, child = self._ctx.Pipe()
        self.proc = self._ctx.Process(target=_worker, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        if not self.conn.poll(120) or self.conn.recv() != "ready":  # imports, on a loaded box
            raise RuntimeError("the fuzz worker did not start")

    def run(self, case: Case, timeout: float = TIMEOUT) -> Outcome:
        if case.stdout:
            return run_subprocess(case, timeout)
        timeout *= case.work
        for argv in case.before:
            self._run(Case(case.family, argv, case.env), timeout)
        kept = {p: _digest(p) for p in case.keep}
        o = self._run(case, timeout)
        o.clobbered = [p for p, d in kept.items() if _digest(p) != d]
        return o

    def _run(self, case: Case, timeout: float) -> Outcome:
        t0 = time.perf_counter()
        self.conn.send((case.argv, case.env))
        if self.conn.poll(timeout):
            try:
                code, out, err = self.conn.recv()
                return Outcome(code, out, err, time.perf_counter() - t0)
            except EOFError:  # the worker died (a crash of a C extension)
                self.close()
                self._start()
                return Outcome(-9, "", "worker died", time.perf_counter() - t0)
        self.close()
        self._start()
        return Outcome(None, "", "", time.perf_counter() - t0)

    def close(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.conn.close()


def run_subprocess(case: Case, timeout: float = TIMEOUT) -> Outcome:
    """The case through a real `python -m designer.interface.cli` process."""
    env = {**os.environ, **case.env}
    env.pop("DESIGNER_DEBUG", None)
    timeout *= case.work

    def run(argv: list[str]) -> subprocess.CompletedProcess:
        stdout: Any = subprocess.PIPE
        if case.stdout == "full" and argv is case.argv:
            stdout = open("/dev/full", "wb")  # noqa: SIM115  closed below
        try:
            return subprocess.run(
                [sys.executable, "-m", "designer.interface.cli", *argv],
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
                timeout=timeout + 5,  # + interpreter start-up and imports
                env=env,
                cwd=ROOT,
                # a closed standard output: descriptor 1 closed before designer starts
                preexec_fn=(lambda: os.close(1))
                if case.stdout == "closed" and argv is case.argv
                else None,
            )
        finally:
            if stdout is not subprocess.PIPE:
                stdout.close()

    for argv in case.before:
        with contextlib.suppress(subprocess.TimeoutExpired):
            run(argv)
    kept = {p: _digest(p) for p in case.keep}
    t0 = time.perf_counter()
    try:
        p = run(case.argv)
    except subprocess.TimeoutExpired:
        return Outcome(None, "", "", time.perf_counter() - t0)
    clobbered = [f for f, d in kept.items() if _digest(f) != d]
    return Outcome(p.returncode, p.stdout or "", p.stderr, time.perf_counter() - t0, clobbered)


# ---- the contract ----------------------------------------------------------------------------
def _no_constant(name: str):
    raise ValueError(f"{name} in JSON")


def _finite_numbers(obj) -> bool:
    if isinstance(obj, dict):
        return all(_finite_numbers(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_finite_numbers(v) for v in obj)
    if isinstance(obj, float):
        return math.isfinite(obj)
    return True


def _answer_problems(command: str, record) -> list[str]:
    """Why an exit-0 JSON answer is wrong (empty when it is consistent)."""
    if not isinstance(record, dict) or "metrics" not in record:
        return []
    # one configuration: its metrics; a mixed fleet: every row of it
    rows = [record["metrics"]] if record["metrics"] is not None else record.get("fleet", [])
    designs = [record.get("design") or {}] if record["metrics"] is not None else rows
    bad = []
    for m in rows:
        for key in ("tokens_per_s_per_user", "step_time_s", "memory_per_chip_bytes"):
            if key == "tokens_per_s_per_user" and m.get("phase") == "prefill":
                continue  # a disaggregated prefill row serves prompts, no user rate
            v = m.get(key)
            if v is None or v < 0 or (key != "memory_per_chip_bytes" and v == 0):
                bad.append(f"metrics.{key} = {v}")
    for d in designs:
        if d and d.get("chips") != d.get("tp", 0) * d.get("pp", 0) * d.get("replicas", 0):
            bad.append("design.chips is not tp·pp·replicas")
    if command == "solve":
        if record.get("recheck") not in (None, "passed"):
            bad.append(f"recheck {record.get('recheck')!r} with exit 0")
        for name, r in (record.get("residuals") or {}).items():
            if r is None or r < -1e-6:
                bad.append(f"residual {name} = {r}")
        if not record.get("fits", True):
            bad.append("design does not fit")
    return bad


# stderr lines of a success: warnings, and the summary of a sweep (its results are in a file)
_REPORTED = re.compile(r"designer: warning: .*|\d+ points \(.*\); computed \d+, skipped \d+ .*")


def _reported(line: str) -> bool:
    return bool(_REPORTED.fullmatch(line))


def violations(case: Case, o: Outcome) -> list[str]:
    """The contract breaches of one outcome, each a short label ('hang', 'internal error', ...)."""
    if o.hung:
        return ["hang"]
    found = []
    if o.seconds > TIMEOUT * case.work + (5 if case.stdout else 0):
        found.append("hang")
    if "Traceback" in o.err or "Traceback" in o.out:
        found.append("traceback")
    if "internal error" in o.err or o.code in (1, -1, -9):
        found.append("internal error")
    if o.code not in (0, 2, 3, 4, 1, -1, -9):
        found.append(f"exit {o.code}")
    if o.code == 2:
        lines = o.err.strip().splitlines()
        if len(lines) != 1 or not lines[0].startswith("designer: error: "):
            found.append("not one error line")
        elif len(lines[0]) > 700:
            found.append("error line too long")
    if o.code == 0 and any(not _reported(line) for line in o.err.strip().splitlines()):
        found.append("stderr on success")  # numpy warnings and the like
    if o.clobbered:
        found.append("file clobbered")
    if case.csv_out and o.code == 0 and formula_cells(case.csv_out):
        found.append("formula in CSV")
    # exit 4 with no design found: no answer to print, one error line (README, exit codes)
    no_design = o.code == 4 and not o.out.strip() and o.err.startswith("designer: error: ")
    if (
        "--json" in case.argv
        and o.code in (0, 3, 4)
        and case.argv[:1] != ["--help"]
        and not case.stdout
        and not no_design
    ):
        try:
            record = json.loads(o.out, parse_constant=_no_constant)
        except ValueError as exc:
            found.append("NaN in JSON" if "in JSON" in str(exc) else "invalid JSON")
        else:
            if not _finite_numbers(record):
                found.append("NaN in JSON")
            if o.code == 0 and _answer_problems(case.argv[0], record):
                found.append("wrong answer")
    if case.expect == "bad" and o.code == 0:
        found.append("bad input accepted")
    if case.expect == "bad" and o.code in (3, 4):
        found.append("bad input reported as infeasible")
    if case.expect == "ok" and o.code == 2:
        found.append("valid input rejected")
    return found
