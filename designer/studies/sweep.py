"""What-if sweeps: a grid or list of changes to a problem, every point one solve.

A study file (TOML) names a problem (relative to the study file) and the values to sweep;
`[grid]` takes the cross product, `[list]` zips equally long lists (both together: every grid
point with every list row); `[options]` may set `time_limit` (seconds per point) and `workers`:

    problem = "../problems/llama3-405b-1000utps-128k-32users-capex.toml"
    [grid]
    "sla.tokens_per_s_per_user" = [250, 500, 1000, 2000]
    "chips.*.memory_bandwidth" = ["x1", "x2", "x4"]      # wildcards and factors work here too

Results are appended to the output file as soon as each is known (CSV, or Parquet when the
name ends in .parquet: a `.partial.csv` journal beside it until the sweep ends); a re-run skips
the points already in the file (keyed by their swept values, column `key`); a failing point is
recorded with its `error` and the others go on. Points run in a local process pool by default,
or on a Dask cluster (`scheduler="tcp://host:8786"`, or a `distributed.Client`).

    >>> frame = sweep("study.toml", out="results.csv", workers=2)      # doctest: +SKIP
    >>> frame[["sla.tokens_per_s_per_user", "status", "objective"]]  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import importlib
import itertools
import json
import os
import sys
import threading
import tomllib
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

import pandas as pd

from designer.catalog import SECTIONS as CATALOG_SECTIONS
from designer.errors import InputError, closest
from designer.problem import Problem, apply_sets, load_problem
from designer.studies.rows import solve_row

STUDY_KEYS = ("problem", "grid", "list", "options")
OPTION_KEYS = ("time_limit", "workers")


def point_key(point: dict[str, Any]) -> str:
    """The canonical text of a point's swept values: what a re-run matches finished points by."""
    return json.dumps(point, sort_keys=True, separators=(",", ":"), default=str)


@dataclass
class Study:
    """A problem and the points to solve it at (each a dict of dotted-path changes)."""

    problem: Problem
    points: list[dict[str, Any]]
    time_limit: float = 60.0
    workers: int | None = None
    where: str = "<study>"
    swept: list[str] = field(default_factory=list)

    @classmethod
    def from_grid(
        cls,
        problem: Problem,
        grid: dict[str, list] | None = None,
        zipped: dict[str, list] | None = None,
        **options: Any,
    ) -> Study:
        """The cross product of `grid` with the zipped rows of `zipped`.

        Example: `Study.from_grid(p, {"chips.*.memory_bandwidth": ["x1", "x2"]})`."""
        where = options.pop("where", "<study>")
        points = _points(grid or {}, zipped or {}, where)
        swept = [*(grid or {}), *(zipped or {})]
        _check_paths(problem, swept, where)
        return cls(problem, points, where=where, swept=swept, **options)

    @classmethod
    def load(cls, path: str | Path) -> Study:
        """Read a study TOML file (see the module docstring)."""
        path = Path(path)
        where = str(path)
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise InputError("no such file (expected a study TOML)", where=where) from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"malformed TOML: {exc}", where=where) from None
        for key in raw:
            if key not in STUDY_KEYS:
                raise InputError(f"unknown key{closest(key, STUDY_KEYS)}", where=where, key=key)
        if not isinstance(raw.get("problem"), str):
            raise InputError(
                "expected the problem file's path (a string)", where=where, key="problem"
            )
        options = raw.get("options", {})
        for key in options:
            if key not in OPTION_KEYS:
                raise InputError(
                    f"unknown option{closest(key, OPTION_KEYS)}", where=where, key=f"options.{key}"
                )
        for section in ("grid", "list"):
            if not isinstance(raw.get(section, {}), dict):
                raise InputError("expected a table of path = [values]", where=where, key=section)
        if not raw.get("grid") and not raw.get("list"):
            raise InputError("expected a [grid] or [list] table of values to sweep", where=where)
        problem = load_problem(path.parent / raw["problem"])
        return cls.from_grid(problem, raw.get("grid"), raw.get("list"), where=where, **options)


def _points(grid: dict[str, list], zipped: dict[str, list], where: str) -> list[dict[str, Any]]:
    for section, table in (("grid", grid), ("list", zipped)):
        for path, values in table.items():
            if not isinstance(values, list) or not values:
                raise InputError(
                    f"expected a non-empty list of values, got {values!r}",
                    where=where,
                    key=f"{section}.{path}",
                )
    for path in set(grid) & set(zipped):
        raise InputError("swept in both [grid] and [list]", where=where, key=path)
    lengths = {len(v) for v in zipped.values()}
    if len(lengths) > 1:
        raise InputError(
            f"the [list] values must be equally long (got lengths {sorted(lengths)})",
            where=where,
            key="list",
        )
    rows = [dict(zip(zipped, values, strict=True)) for values in zip(*zipped.values(), strict=True)]
    combos = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    return [{**g, **r} for g in combos for r in (rows or [{}])]


def _check_paths(problem: Problem, paths: Iterable[str], where: str) -> None:
    """Bad paths fail the whole study before it starts (bad values fail only their points)."""
    for path in paths:
        try:
            if path.partition(".")[0] in CATALOG_SECTIONS:
                problem.catalog.expand_path(path)
            else:
                apply_sets(problem.raw, {path: 1}, where=where)
        except InputError as exc:
            raise InputError(str(exc), where=where) from None


# ---- running points ------------------------------------------------------------------------
_WORKER_PROBLEM: Problem | None = None


def _init_worker(problem: Problem) -> None:
    global _WORKER_PROBLEM
    _WORKER_PROBLEM = problem


def _run_chunk(
    chunk: list[dict[str, Any]], time_limit: float, problem: Problem | None = None
) -> list[dict[str, Any]]:
    """Solve a few points (in a pool worker, a Dask worker or here); one row each."""
    pr = problem if problem is not None else _WORKER_PROBLEM
    assert pr is not None, "worker not initialized"
    return [
        {
            **{k: _cell(v) for k, v in point.items()},
            **solve_row(pr, point, time_limit=time_limit),
            "key": point_key(point),
        }
        for point in chunk
    ]


def _cell(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) else json.dumps(value)


def _chunks(points: list[dict], workers: int) -> list[list[dict]]:
    size = max(1, min(16, len(points) // max(workers * 8, 1)))
    return [points[i : i + size] for i in range(0, len(points), size)]


def _run_local(study: Study, todo: list[dict], workers: int) -> Iterator[list[dict]]:
    """Rows of `todo`, chunk by chunk: here (one worker) or in a process pool. The pool is
    started and every chunk submitted before this returns, so its workers are forked before
    any other thread (a progress bar) starts."""
    if workers <= 1 or len(todo) <= 1:
        return (_run_chunk([point], study.time_limit, study.problem) for point in todo)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_start_context(),
        initializer=_init_worker,
        initargs=(study.problem,),
    )
    futures = [pool.submit(_run_chunk, c, study.time_limit) for c in _chunks(todo, workers)]
    return _results(pool, futures)


def _start_context():
    """fork where it is safe — Linux, and this process runs no other Python thread (HiGHS runs
    none with one thread, OpenBLAS guards its own) — so workers start with the solver loaded;
    else forkserver (spawn on Windows), whose server loads the solver once for all workers."""
    methods = get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        importlib.import_module("designer.solve")  # loaded once here, inherited by the workers
        return get_context("fork")
    if "forkserver" in methods:
        ctx = get_context("forkserver")
        ctx.set_forkserver_preload(["designer.studies.sweep", "designer.solve"])
        return ctx
    return get_context("spawn")


def _results(pool: ProcessPoolExecutor, futures: list) -> Iterator[list[dict]]:
    try:
        for fut in as_completed(futures):
            yield fut.result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _run_dask(study: Study, todo: list[dict], scheduler: Any) -> Iterator[list[dict]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(
            "--scheduler needs dask.distributed: pip install 'designer[dask]'", key="--scheduler"
        ) from None
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        workers = max(len(client.scheduler_info().get("workers", {})), 1)
        shared = client.scatter(study.problem, broadcast=True)
        futures = [
            client.submit(_run_chunk, c, study.time_limit, shared, pure=False)
            for c in _chunks(todo, workers)
        ]
        for fut in dask_completed(futures):
            yield fut.result()
    finally:
        if client is not scheduler:
            client.close()


# ---- the output file -----------------------------------------------------------------------
class _Sink:
    """Rows appended to a CSV file as they arrive (the journal of a Parquet output)."""

    def __init__(self, out: Path):
        self.out = out
        self.parquet = out.suffix.lower() == ".parquet"
        self.journal = out.with_name(out.name + ".partial.csv") if self.parquet else out
        self.rows: list[dict[str, Any]] = []
        if self.parquet and out.exists():
            self.rows += pd.read_parquet(out).to_dict("records")
        if self.journal.exists():
            self.rows += _read_journal(self.journal)
        self.columns: list[str] = []
        for row in self.rows:
            self.columns += [c for c in row if c not in self.columns]
        self._rewrite()

    def keys(self) -> set[str]:
        return {str(r.get("key")) for r in self.rows}

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.rows += rows
        new = [c for r in rows for c in r if c not in self.columns]
        if new:
            self.columns += list(dict.fromkeys(new))
            self._rewrite()
            return
        with open(self.journal, "a", newline="") as f:
            w = csv.DictWriter(f, self.columns)
            w.writerows(rows)

    def _rewrite(self, rows: list[dict] | None = None) -> None:
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.journal.with_name(self.journal.name + ".tmp")
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, self.columns)
            w.writeheader()
            w.writerows(self.rows if rows is None else rows)
        os.replace(tmp, self.journal)

    def finish(self, order: dict[str, int]) -> pd.DataFrame:
        """Rows in study order; the Parquet file written (and its journal removed)."""
        ranked = sorted(self.rows, key=lambda r: order.get(str(r.get("key")), len(order)))
        self.columns = _ordered(self.columns)
        self._rewrite(ranked)
        frame = pd.read_csv(self.journal, keep_default_na=True)
        if self.parquet:
            frame.to_parquet(self.out, index=False)
            self.journal.unlink()
        return frame


_TAIL = ("explanation", "error", "seconds", "key")


def _ordered(columns: Iterable[str]) -> list[str]:
    """Columns in table order: swept values and answers first, then _TAIL."""
    columns = list(dict.fromkeys(columns))
    return [c for c in columns if c not in _TAIL] + [c for c in _TAIL if c in columns]


def _read_journal(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV journal; a last line cut short by a kill is dropped."""
    text = path.read_text()
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    if not text.strip():
        return []
    reader = csv.DictReader(text.splitlines())
    return [dict(r) for r in reader if r.get("key")]


def _workers(workers: int | None) -> int:
    return max(1, workers if workers is not None else (os.cpu_count() or 1))


def sweep(
    study: Study | str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Solve every point of `study` (a Study or a study file) and return one row per point.

    `out` (.csv or .parquet) receives each row as soon as it is known; points already in it
    are skipped. `workers` processes run the points (default: the study's `workers` option,
    else the CPU count; 1 runs them here); `scheduler` runs them on a Dask cluster instead.
    The frame's `attrs` hold `computed` and `skipped` counts of this run.
    """
    if not isinstance(study, Study):
        study = Study.load(study)
    order = {point_key(p): i for i, p in enumerate(study.points)}
    sink = _Sink(Path(out)) if out is not None else None
    done = sink.keys() if sink else set()
    todo = [p for p in study.points if point_key(p) not in done]
    rows: list[dict[str, Any]] = []
    n = _workers(workers if workers is not None else study.workers)
    runs = (
        _run_dask(study, todo, scheduler) if scheduler is not None else _run_local(study, todo, n)
    )
    with _progress(progress) as bar:
        task = bar.add_task(
            "sweep", total=len(study.points), completed=len(study.points) - len(todo)
        )
        for chunk in runs:
            if sink:
                sink.add(chunk)
            rows += chunk
            bar.advance(task, len(chunk))
    if sink:
        frame = sink.finish(order)
    else:
        rows.sort(key=lambda r: order[r["key"]])
        frame = pd.DataFrame(rows, columns=_ordered(c for r in rows for c in r))
    frame.attrs.update(computed=len(todo), skipped=len(study.points) - len(todo))
    return frame


def _progress(show: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not (show and sys.stderr.isatty()),
    )
