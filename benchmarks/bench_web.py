"""`designer web` speed, measured in a real browser (issue 23): the time from starting the
server to its first page, and to that page showing the quick-start answer; and the latency of a
what-if control, from a key press on the memory-bandwidth slider to the page showing the
re-solved fleet (and the server's own solve time for it).

Needs the web extra (`pip install -e ".[web]"`) and Debian's Chromium at /usr/bin/chromium.

Run:  python benchmarks/bench_web.py [--repeats 3] [--moves 20] [--screenshot docs/web.png]
Writes benchmarks/results/web.json.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import environment, median, write_json
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SOLVE = re.compile(r"solve (\d+): (\d+) ms")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: what its wall time would be on an idle
    core, for a single-threaded start."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start() -> tuple[subprocess.Popen, str, float]:
    """Start `designer web`; (process, URL, seconds to the first HTTP 200 of the page)."""
    port = _port()
    url = f"http://127.0.0.1:{port}/"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "designer.interface.cli", "web", "--port", str(port)],
        cwd=tempfile.mkdtemp(),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return proc, url, time.perf_counter() - t0
        except OSError:
            time.sleep(0.02)
        if proc.poll() is not None:
            raise SystemExit("designer web did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="server starts (median)")
    ap.add_argument("--moves", type=int, default=20, help="what-if slider moves (median)")
    ap.add_argument("--screenshot", help="save a PNG of the page after the first start")
    args = ap.parse_args()
    first_page, first_answer, latency, server = [], [], [], []
    page_cpu, answer_cpu = [], []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(),
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        for i in range(args.repeats + 1):  # the first start warms the disk cache, untimed
            proc, url, seconds = start()
            cpu_page = cpu_seconds(proc.pid)
            try:
                page = ctx.new_page()
                page.goto(url)
                expect(page.get_by_test_id("design")).to_be_visible(timeout=120_000)
                answered = time.perf_counter()
                if i:
                    first_page.append(seconds)
                    # from the server's start: its first page, then the answer in the browser
                    first_answer.append(seconds + answered - _loaded(page))
                    page_cpu.append(cpu_page)
                    answer_cpu.append(cpu_seconds(proc.pid))
                if args.screenshot and i == 0:
                    page.screenshot(path=args.screenshot)
                    _small(args.screenshot)
                if i == args.repeats:
                    latency, server = _moves(page, args.moves)
                page.close()
            finally:
                stop(proc)
        ctx.close()
    result = {
        "benchmark": "web",
        "environment": environment(),
        "first_page_s": first_page,
        "first_answer_s": first_answer,
        "first_page_server_cpu_s": page_cpu,
        "first_answer_server_cpu_s": answer_cpu,
        "whatif_latency_s": latency,
        "whatif_server_solve_s": server,
        "median": {
            "first_page_s": median(first_page),
            "first_answer_s": median(first_answer),
            "first_page_server_cpu_s": median(page_cpu),
            "first_answer_server_cpu_s": median(answer_cpu),
            "whatif_latency_s": median(latency),
            "whatif_server_solve_s": median(server),
        },
    }
    result["load_average"] = os.getloadavg()
    write_json("web.json", result)
    print(result["median"])


def _small(path: str) -> None:
    """The screenshot in 64 colours (a third of the bytes), when Pillow is there."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def _loaded(page) -> float:
    """perf_counter at the page's navigation start (the browser's clock, moved to ours)."""
    elapsed_ms = page.evaluate("performance.now()")
    return time.perf_counter() - elapsed_ms / 1e3


def _moves(page, moves: int) -> tuple[list[float], list[float]]:
    """Move the bandwidth slider one step at a time, alternately down and up; per move, the
    seconds until the page shows the new solve, and the server's solve time."""
    timing = page.get_by_test_id("timing")
    slider = page.get_by_test_id("whatif-bandwidth").locator("[tabindex]").first
    slider.focus()
    latency, server = [], []
    for k in range(moves):
        done = int(SOLVE.search(timing.inner_text()).group(1))
        t0 = time.perf_counter()
        slider.press("ArrowLeft" if k % 2 == 0 else "ArrowRight")
        expect(timing).to_contain_text(f"solve {done + 1}:", timeout=60_000)
        latency.append(time.perf_counter() - t0)
        server.append(int(SOLVE.search(timing.inner_text()).group(2)) / 1e3)
    return latency, server


if __name__ == "__main__":
    main()
