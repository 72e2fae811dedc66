"""Shared helpers of the benchmarks: machine description, timing, JSON output."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
THREAD_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def environment() -> dict[str, Any]:
    """What the numbers depend on: cores, versions, threading variables, date."""
    import numpy as np

    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        nproc = os.cpu_count()
    return {
        "date_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu_count": os.cpu_count(),
        "nproc": nproc,
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "pandas": _version("pandas"),
        "pyomo": _version("pyomo"),
        "highspy": _version("highspy"),
        "OPENBLAS_CORETYPE_set": "OPENBLAS_CORETYPE" in os.environ,
        "thread_env": {k: os.environ[k] for k in THREAD_VARS if k in os.environ},
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call, wall clock."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def median(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def write_json(name: str, payload: dict[str, Any]) -> Path:
    """Write results/<name> atomically (via a .tmp file, ignored by git)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    tmp.replace(path)
    return path


def write_rows(name: str, settings: Any, rows: list) -> Path:
    """Write results/<name>: the machine, the run's settings (argparse namespace), the load
    average at the end, and the rows."""
    return write_json(
        name,
        {
            "environment": environment(),
            "settings": vars(settings),
            "load_average": os.getloadavg(),
            "rows": rows,
        },
    )


def _jsonable(x: Any) -> Any:
    if hasattr(x, "item"):  # numpy scalars
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    return str(x)


def fmt_rate(x: float) -> str:
    """1.23e6 → '1.23 M'."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g} {unit}"
    return f"{x:.3g}"
