"""`designer web` end to end in a real headless browser: Debian's Chromium driven by
Playwright. Skipped when the web extra (`pip install -e ".[web]"`) or /usr/bin/chromium is
missing; `.ci/run` installs both."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("nicegui")
sync_api = pytest.importorskip("playwright.sync_api")

from designer.optimize.problem import load_problem, problem_from_dict  # noqa: E402
from designer.optimize.solve import solve  # noqa: E402
from designer.studies.rows import describe  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "problems" / "quickstart.toml"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 60_000  # the machine is shared: generous, the latency is measured elsewhere


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`designer web` on a free loopback port, started in an empty folder (which must stay
    empty: the app writes only inside its own temporary folder)."""
    cwd = tmp_path_factory.mktemp("web-cwd")
    port = _free_port()
    # as a user starts it: NiceGUI takes a process with pytest's variables for its own tests
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "designer.interface.cli", "web", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"designer web did not start: {proc.communicate()[0]}")
        time.sleep(0.2)
    yield {"url": url, "cwd": cwd, "proc": proc}
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a new, empty user-data dir
            executable_path=str(CHROMIUM),
            args=BROWSER_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
            accept_downloads=True,
        )
        yield context
        context.close()


@pytest.fixture
def page(server, browser):
    page = browser.new_page()
    page.goto(server["url"])
    sync_api.expect(page.get_by_test_id("design")).to_be_visible(timeout=WAIT_MS)
    yield page
    page.close()


def _answer(sets: dict | None = None) -> str:
    return describe(solve(load_problem(QUICKSTART, sets)).record)


def test_the_page_answers_the_quickstart_question(page):
    sync_api.expect(page.get_by_test_id("design")).to_have_text(_answer(), timeout=WAIT_MS)
    assert "re-checked by the forward model" in page.get_by_test_id("answer").inner_text()
    assert "step time ±" in page.get_by_test_id("answer").inner_text()  # the stated accuracy


def test_changing_the_sla_shows_the_new_design(page):
    expected = _answer({"sla.tokens_per_s_per_user": 200})
    assert expected != _answer()
    page.get_by_label("tokens/s per user").fill("200")
    sync_api.expect(page.get_by_test_id("design")).to_have_text(expected, timeout=WAIT_MS)


def test_a_whatif_control_resolves_as_it_moves(page):
    expected = _answer({"chips.*.memory_bandwidth": "x0.5"})
    assert expected != _answer()
    slider = page.get_by_test_id("whatif-bandwidth").locator("[tabindex]").first  # Quasar's
    slider.focus()
    for _ in range(4):  # four steps of 2^0.25: half the bandwidth
        slider.press("ArrowLeft")
    sync_api.expect(page.get_by_text("memory bandwidth ×0.5")).to_be_visible(timeout=WAIT_MS)
    sync_api.expect(page.get_by_test_id("design")).to_have_text(expected, timeout=WAIT_MS)


def test_the_efficiency_switch_sets_the_efficiencies(page):
    expected = _answer({"efficiency.bandwidth": 0.6, "efficiency.compute": 0.6})
    assert expected != _answer()
    page.get_by_text("set the efficiency").click()
    sync_api.expect(page.get_by_text("efficiency η_bw = η_f = 0.60")).to_be_visible(timeout=WAIT_MS)
    sync_api.expect(page.get_by_test_id("design")).to_have_text(expected, timeout=WAIT_MS)


def test_a_bad_config_upload_is_a_message_not_a_traceback(page, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps({"hidden_size": 4096}))
    page.locator("input[type=file]").set_input_files(str(bad))
    error = page.get_by_test_id("error")
    sync_api.expect(error).to_contain_text("num_hidden_layers", timeout=WAIT_MS)
    text = error.inner_text()
    assert "broken.json" in text and "Traceback" not in text
    assert "designer-web-" not in text  # the server's folders stay out of the message


def test_an_uploaded_config_is_the_model(page):
    config = ROOT / "tests" / "fixtures" / "hf" / "llama-3.1-8b" / "config.json"
    expected = _answer({"workload.model": str(config)})
    assert expected != _answer()
    page.locator("input[type=file]").set_input_files(str(config))
    sync_api.expect(page.get_by_test_id("design")).to_have_text(expected, timeout=WAIT_MS)
    sync_api.expect(page.get_by_label("model")).to_have_value("uploaded: config.json")


def test_a_bad_value_is_a_message_naming_the_key(page):
    page.get_by_label("max IT power").fill("lots")
    error = page.get_by_test_id("error")
    sync_api.expect(error).to_contain_text("limits.max_power", timeout=WAIT_MS)
    assert "Traceback" not in page.content()


def test_the_downloaded_problem_reproduces_the_page(page, tmp_path):
    page.get_by_label("tokens/s per user").fill("80")
    expected = _answer({"sla.tokens_per_s_per_user": 80})
    sync_api.expect(page.get_by_test_id("design")).to_have_text(expected, timeout=WAIT_MS)
    with page.expect_download() as info:
        page.get_by_role("button", name="problem TOML").click()
    path = tmp_path / "problem.toml"
    info.value.save_as(path)
    raw = tomllib.loads(path.read_text())
    assert raw["sla"]["tokens_per_s_per_user"] == 80
    assert describe(solve(problem_from_dict(raw)).record) == expected
    with page.expect_download() as info:
        page.get_by_role("button", name="results CSV").click()
    csv = tmp_path / "results.csv"
    info.value.save_as(csv)
    assert csv.read_text().startswith("status,objective,objective_value")


def test_compare_by_chip_and_by_memory(page):
    page.get_by_role("button", name="compare", exact=True).click()
    table = page.get_by_test_id("compare")
    sync_api.expect(table).to_contain_text("best", timeout=WAIT_MS)
    assert "mi300x" in table.inner_text()
    page.get_by_text("by memory").click()
    page.get_by_role("button", name="compare", exact=True).click()
    sync_api.expect(table).to_contain_text("hbm3e", timeout=WAIT_MS)  # the choice holds
    page.get_by_role("button", name="frontier", exact=True).click()
    sync_api.expect(page.get_by_test_id("frontier")).to_contain_text("$", timeout=WAIT_MS)
    assert "hbm3e" in table.inner_text()  # both studies stay on the page


def test_the_frontier_is_drawn_and_listed(page):
    page.get_by_role("button", name="frontier", exact=True).click()
    table = page.get_by_test_id("frontier")
    sync_api.expect(table).to_contain_text("$", timeout=WAIT_MS)
    assert "tokens/s per user" in table.inner_text()


def test_nothing_is_written_where_the_server_was_started(server):
    assert list(server["cwd"].iterdir()) == []
