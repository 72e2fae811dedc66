"""sweep: grids and lists, results streamed to a file, resume, failures, pools and Dask."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from designer.interface.cli import main
from designer.model.errors import InputError
from designer.optimize.solve import solve
from designer.studies import Study, sweep

RATES = [100, 200, 400, 800]
BANDWIDTHS = ["x0.5", "x1", "x2"]
COMPARED = ["status", "objective", "design.chip", "design.tp", "design.pp", "design.batch"]


def _study_file(tmp_path: Path, small_path: Path, body: str) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(f'problem = "{small_path.name}"\n{body}')
    return path


GRID = f"""
[grid]
"sla.tokens_per_s_per_user" = {RATES}
"chips.*.memory_bandwidth" = {BANDWIDTHS!r}
""".replace("'", '"')


def test_grid_is_the_cross_product_and_list_zips(tmp_path, small_path):
    study = Study.load(_study_file(tmp_path, small_path, GRID))
    assert len(study.points) == 12
    assert study.points[1] == {"sla.tokens_per_s_per_user": 100, "chips.*.memory_bandwidth": "x1"}
    body = '[list]\n"sla.tokens_per_s_per_user" = [100, 200]\n"sla.concurrent_users" = [1, 4]\n'
    zipped = Study.load(_study_file(tmp_path, small_path, body))
    assert zipped.points == [
        {"sla.tokens_per_s_per_user": 100, "sla.concurrent_users": 1},
        {"sla.tokens_per_s_per_user": 200, "sla.concurrent_users": 4},
    ]
    body = '[list]\n"sla.concurrent_users" = [1, 4]\n'
    both = Study.load(_study_file(tmp_path, small_path, GRID + body))
    assert len(both.points) == 24


@pytest.mark.parametrize(
    "body,needle",
    [
        ('[grid]\n"sla.tokens_per_s_per_usr" = [1]\n', "closest valid name: tokens_per_s_per_user"),
        ('[grid]\n"chips.*.memory_bandwith" = ["x2"]\n', "closest valid name: memory_bandwidth"),
        ('[list]\n"sla.concurrent_users" = [1, 2]\n"limits.max_chips" = [4]\n', "equally long"),
        ('[grid]\n"sla.concurrent_users" = []\n', "non-empty list"),
        ('[gird]\n"sla.concurrent_users" = [1]\n', "closest valid name: grid"),
        (
            '[options]\nworker = 2\n[grid]\n"sla.concurrent_users" = [1]\n',
            "closest valid name: workers",
        ),
        ("", "expected a [grid] or [list]"),
        ('[grid]\n"sla.concurrent_users" = [1]\n[list]\n"sla.concurrent_users" = [2]\n', "both"),
    ],
)
def test_bad_study_is_one_line(tmp_path, small_path, body, needle):
    with pytest.raises(InputError) as info:
        Study.load(_study_file(tmp_path, small_path, body))
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith(str(tmp_path / "study.toml"))


def test_every_point_equals_a_direct_solve_and_streams_to_csv(tmp_path, small, small_path):
    out = tmp_path / "out.csv"
    frame = sweep(Study.load(_study_file(tmp_path, small_path, GRID)), out, workers=1)
    assert len(frame) == 12 and frame.attrs == {"computed": 12, "skipped": 0}
    on_disk = pd.read_csv(out, skiprows=1)  # after the header naming study and problem
    pd.testing.assert_frame_equal(on_disk[COMPARED], frame[COMPARED])
    for row in frame.itertuples(index=False):
        change = {"sla.tokens_per_s_per_user": row[0], "chips.*.memory_bandwidth": row[1]}
        assert row.objective == pytest.approx(solve(small.with_changes(change)).objective)
    assert list(frame.columns[:3]) == [
        "sla.tokens_per_s_per_user",
        "chips.*.memory_bandwidth",
        "status",
    ]
    assert {"design.chip", "metrics.tokens_per_s_per_user", "key", "seconds"} <= set(frame)


def test_a_failing_point_is_recorded_and_the_rest_go_on(tmp_path, small_path):
    body = (
        '[grid]\n"chips.mi300x.memory_bandwidth" = ["5.3 TB/s", "8 TiB", "10 TB/s"]\n'
        '"sla.tokens_per_s_per_user" = [200, 100000]\n'
    )
    frame = sweep(
        Study.load(_study_file(tmp_path, small_path, body)), tmp_path / "o.csv", workers=1
    )
    cells = zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True)
    status = dict(zip(cells, frame["status"], strict=True))
    assert status[("8 TiB", 200)] == "error" and status[("8 TiB", 100000)] == "error"
    assert status[("5.3 TB/s", 200)] == "optimal" and status[("10 TB/s", 200)] == "optimal"
    assert status[("10 TB/s", 100000)] == "infeasible"
    err = frame.loc[frame["status"] == "error", "error"].iloc[0]
    assert "chips.mi300x.memory_bandwidth: expected a bandwidth" in err
    infeasible = frame.loc[frame["status"] == "infeasible"].iloc[0]
    assert "above the highest reachable" in infeasible["explanation"]
    assert infeasible["best_achievable.max_tokens_per_s_per_user"] > 200


def test_rerun_computes_only_the_missing_points(tmp_path, small_path):
    study = Study.load(_study_file(tmp_path, small_path, GRID))
    out = tmp_path / "out.csv"
    half = Study(study.problem, study.points[::2], swept=study.swept)
    assert sweep(half, out, workers=1).attrs["computed"] == 6
    full = sweep(study, out, workers=1)
    assert full.attrs == {"computed": 6, "skipped": 6}
    assert len(full) == 12 and full["key"].is_unique
    assert sweep(study, out, workers=1).attrs == {"computed": 0, "skipped": 12}


def test_resume_after_a_kill(tmp_path, small_path):
    # 60 points: half a second or more of solving, so the kill lands mid-way (12 took less time
    # than the polling below once start-up was fast)
    rates = list(range(100, 400, 10))
    body = f'[grid]\n"sla.tokens_per_s_per_user" = {rates}\n'
    body += '"chips.*.memory_bandwidth" = ["x1", "x2"]\n'
    path = _study_file(tmp_path, small_path, body)
    out = tmp_path / "killed.csv"
    cmd = [sys.executable, "-m", "designer.interface.cli", "sweep", str(path), "--out", str(out)]
    proc = subprocess.Popen([*cmd, "--workers", "1", "--quiet"], env=os.environ.copy())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_text().count("\n") >= 5:  # headers + at least 3 rows
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = pd.read_csv(out, skiprows=1)
    assert 3 <= len(before) < 60, "killed mid-way"
    frame = sweep(Study.load(path), out, workers=1)
    assert frame.attrs == {"computed": 60 - len(before), "skipped": len(before)}
    assert len(frame) == 60 and frame["key"].is_unique


def _six(tmp_path, small_path) -> Study:
    study = Study.load(_study_file(tmp_path, small_path, GRID))
    return Study(study.problem, study.points[::2], swept=study.swept)


def test_a_process_pool_and_parquet_give_the_local_answers(tmp_path, small_path):
    study = _six(tmp_path, small_path)
    local = sweep(study, workers=1)
    pooled = sweep(study, tmp_path / "out.parquet", workers=2)
    assert (tmp_path / "out.parquet").exists()
    assert not (tmp_path / "out.parquet.partial.csv").exists()
    pd.testing.assert_frame_equal(local[COMPARED], pooled[COMPARED], check_dtype=False)
    assert pd.read_parquet(tmp_path / "out.parquet")["key"].tolist() == local["key"].tolist()


@pytest.mark.parametrize("threads", [1, 2], ids=["fork", "forkserver"])
def test_both_pool_start_methods_give_the_local_answers(tmp_path, small_path, monkeypatch, threads):
    # with another thread running the pool must not fork this process
    sweep_mod = importlib.import_module("designer.studies.sweep")  # the package exports sweep()
    monkeypatch.setattr(sweep_mod.threading, "active_count", lambda: threads)
    expected = "fork" if threads == 1 and sys.platform.startswith("linux") else None
    if expected:
        assert sweep_mod._start_context().get_start_method() == "fork"
    else:
        assert sweep_mod._start_context().get_start_method() in ("forkserver", "spawn")
    study = _six(tmp_path, small_path)
    local = sweep(study, workers=1)
    pooled = sweep(study, workers=2)
    pd.testing.assert_frame_equal(local[COMPARED], pooled[COMPARED], check_dtype=False)


def test_dask_local_cluster_equals_the_local_run(tmp_path, small_path):
    distributed = pytest.importorskip("distributed")
    study = _six(tmp_path, small_path)
    local = sweep(study, workers=1)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = sweep(study, tmp_path / "dask.csv", scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(local[COMPARED], remote[COMPARED], check_dtype=False)


def test_cli_sweep_writes_file_and_plot(tmp_path, small_path, capsys):
    pytest.importorskip("matplotlib")
    path = _study_file(tmp_path, small_path, GRID)
    out, png = tmp_path / "cli.csv", tmp_path / "heat.png"
    args = ["sweep", str(path), "--out", str(out), "--workers", "1", "--plot", str(png)]
    assert main([*args, "--assumptions", "paper"]) == 0
    assert "12 points (12 optimal); computed 12" in capsys.readouterr().err
    table = pd.read_csv(out, skiprows=1)
    assert len(table) == 12 and png.read_bytes()[:4] == b"\x89PNG"
    assert set(table["assumptions.preset"]) == {"paper"}


def test_a_wildcard_factor_point_equals_explicit_per_chip_values(small):
    study = Study.from_grid(small, {"chips.*.memory_bandwidth": ["x3"]})
    row = sweep(study, workers=1).iloc[0]
    explicit = {
        f"chips.{c}.memory_bandwidth": f"{3 * small.catalog.chip(c).memory_bandwidth!r} B/s"
        for c in small.catalog.ids("chips")
    }
    direct = solve(small.with_changes(explicit))
    assert row["objective"] == pytest.approx(direct.objective)
    assert row["design.chip"] == direct.design["chip"] and row["design.tp"] == direct.design["tp"]


# ---- issue 17: the output file is the sweep's own, of this problem; caps; interruptions ------
def test_an_output_of_another_problem_is_not_resumed(tmp_path, small_path):
    study = _six(tmp_path, small_path)
    out = tmp_path / "out.csv"
    sweep(study, out, workers=1)
    before = out.read_bytes()
    assert before.startswith(b"# written by designer ") and b"problem sha256 " in before
    changed = Study(study.problem.with_changes({"sla.concurrent_users": 80}), study.points)
    with pytest.raises(InputError, match=r"holds a sweep .* problem sha256 [0-9a-f]{16}, but"):
        sweep(changed, out, workers=1)
    assert out.read_bytes() == before
    assert sweep(changed, out, workers=1, force=True).attrs["computed"] == 6


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("small.toml", "expected a .csv or .parquet file name"),  # the study itself (round 20)
        ("mine.csv", "not a sweep written by designer.*--force"),
    ],
)
def test_a_file_designer_did_not_write_is_not_replaced(tmp_path, small_path, name, says):
    study = _six(tmp_path, small_path)
    out = tmp_path / name
    if not out.exists():
        out.write_text("name,value\nmine,1\n")
    before = out.read_bytes()
    with pytest.raises(InputError, match=says):
        sweep(study, out, workers=1)
    assert out.read_bytes() == before


def test_a_huge_grid_is_refused_before_any_point(tmp_path, small_path):
    values = list(range(1, 1001))
    body = f'[grid]\n"sla.tokens_per_s_per_user" = {values}\n"sla.concurrent_users" = {values}\n'
    with pytest.raises(InputError, match="1,000,000 points: a study has at most 100,000"):
        Study.load(_study_file(tmp_path, small_path, body))


def test_cells_that_a_spreadsheet_would_run_are_quoted(tmp_path, small_path):
    body = '[grid]\n"workload.model" = ["=1+2", "@SUM(A1)"]\n'
    out = tmp_path / "out.csv"
    sweep(Study.load(_study_file(tmp_path, small_path, body)), out, workers=1)
    cells = [line.split(",")[0] for line in out.read_text().splitlines()[2:]]
    assert cells == ["'=1+2", "'@SUM(A1)"]


def test_a_scheduler_that_never_answers_fails_in_seconds(tmp_path, small_path):
    from tests.fuzz import servers

    study = _six(tmp_path, small_path)
    for address, needle in [
        (servers.silent(), "no answer from"),
        (servers.garbage(), r"is not a Dask scheduler \(it announced a first message of"),
        ("tcp://127.0.0.1:1", "cannot connect to"),
        ("nonsense", "expected a Dask scheduler address tcp://HOST:PORT"),
    ]:
        t0 = time.perf_counter()
        with pytest.raises(InputError, match=needle):
            sweep(study, tmp_path / "d.csv", scheduler=address)
        assert time.perf_counter() - t0 < 8


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_pool_leaves_no_worker_and_resumes(tmp_path, sig):
    from tests.fuzz import signals

    case, found, outcome = signals.interrupt(tmp_path, sig, points=40)
    assert not found, (found, outcome.err)
    assert outcome.err.startswith("designer: terminated" if sig == signal.SIGTERM else "designer")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('[grid]\n"sla.tokens_per_s_per_user" = [nan, 60]\n', "expected finite values, got nan"),
        ('[grid]\n"sla.tokens_per_s_per_user" = [inf, 60]\n', "expected finite values, got inf"),
        ('[grid]\n"sla.tokens_per_s_per_user" = [50, 50, 60]\n', "50 is listed twice"),
        (
            '[list]\n"sla.tokens_per_s_per_user" = [50, 50]\n"sla.concurrent_users" = [8, 8]\n',
            r"a \[list\] row is listed twice",
        ),
    ],
)
def test_values_no_point_can_use_fail_the_study(tmp_path, small_path, body, says):
    """A non-finite value or a repeated point is the study's error, not one error row (or two
    rows of one key): caught before any solve."""
    with pytest.raises(InputError, match=says):
        Study.load(_study_file(tmp_path, small_path, body))


def test_a_bad_path_names_the_study_once(tmp_path, small_path, capsys):
    study = _study_file(tmp_path, small_path, '[grid]\n"sla.tokens_per_s_per_usr" = [50]\n')
    assert main(["sweep", str(study), "--out", str(tmp_path / "r.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("study.toml") == 1 and "closest valid name: tokens_per_s_per_user" in err
