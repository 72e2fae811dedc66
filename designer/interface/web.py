"""`designer web`: the explorer in the browser (NiceGUI; `pip install -e ".[web]"`).

One page per browser tab: the question's controls on the left, the optimal fleet, its
step-time breakdown and stated accuracy, the what-if controls, the comparison by chip or memory
technology and the cost-vs-tokens/s frontier on the right, and downloads of the problem TOML and
results CSV. Everything is computed by `designer.interface.explorer` (the project's solve, compare
and
pareto); this module only draws it. Errors are messages in the page. The server listens on
loopback unless `host` says otherwise, and writes only inside its temporary folder (uploaded
config.json files, the framework's storage), which it removes when it stops.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from designer.interface.explorer import (
    STEP_PARTS,
    Form,
    Outcome,
    WhatIf,
    accuracy,
    amount,
    catalog,
    fleet_rows,
    problem_toml,
    results_csv,
    run,
    study,
)
from designer.model.errors import one_line
from designer.optimize.problem import OBJECTIVES

MAX_UPLOAD = 1 << 20  # bytes: the project's limit on an input file
# Pyomo models are built in worker threads (the page stays live); one solve at a time.
_SOLVE_LOCK = threading.Lock()


def _locked(fn, *args: Any, **kwargs: Any) -> Any:
    with _SOLVE_LOCK:
        return fn(*args, **kwargs)


def serve(host: str, port: int) -> None:
    """Run the explorer until interrupted (blocks). A port that cannot be had is bad input."""
    _check_address(host, port)
    print(f"designer web: http://{host}:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    folder = Path(tempfile.mkdtemp(prefix="designer-web-"))
    # NiceGUI's storage and any spooled upload go to the temporary folder, nowhere else.
    tempfile.tempdir = str(folder)
    # SIGTERM, like Ctrl-C, ends the server through the cleanup below (uvicorn re-raises the
    # signal it caught once it has shut down)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from nicegui import app, ui
        from nicegui.storage import Storage

        Storage.path = folder / "storage"
        # the solver's imports and the catalogs load once the server answers (the first page
        # shows at once; its first answer waits for them)
        app.on_startup(lambda: threading.Thread(target=_warm_up, daemon=True).start())
        ui.run(
            root=lambda: Page(folder).build(),
            host=host,
            port=port,
            title="designer — explorer",
            reload=False,
            show=False,
            show_welcome_message=False,
            uvicorn_logging_level="warning",
            favicon="🖥",
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_address(host: str, port: int) -> None:
    from designer.model.errors import InputError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(infos[0][4])
    except OSError as exc:
        raise InputError(
            f"cannot serve on {host}:{port} ({exc.strerror or exc}); choose another --port or "
            "--host",
            key="--port",
        ) from None


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def _warm_up() -> None:
    with _SOLVE_LOCK:
        import designer.optimize.solve  # noqa: F401  (Pyomo, HiGHS)

        catalog()


@dataclass
class Page:
    """One browser tab's state and elements."""

    folder: Path
    form: Form = field(default_factory=Form)
    whatif: WhatIf = field(default_factory=WhatIf)
    outcome: Outcome | None = None
    busy: bool = False
    dirty: bool = False
    ui: Any = None
    model: Any = None
    timing: Any = None
    solves: int = 0
    results: Any = None
    studies: Any = None
    study: dict[str, dict[str, Any]] = field(default_factory=dict)  # by kind, this question's
    choice: dict[str, str] = field(default_factory=lambda: {"compare": "chip", "pareto": "capex"})
    asked: int = 0  # questions asked so far (each change of the form or the what-ifs)

    # ---- layout -------------------------------------------------------------------------

    def build(self) -> None:
        from nicegui import ui

        from designer.calibration.profiles import engines
        from designer.calibration.profiles import load as load_profiles
        from designer.model.dtypes import DTYPE_BYTES
        from designer.optimize.problem import MAXIMIZE

        self.ui = ui
        models, chips = catalog().ids("models"), catalog().ids("chips")
        ui.page_title("designer — explorer")
        with ui.header().classes("items-center"):
            ui.label("designer").classes("text-h6")
            ui.label("which hardware should serve this LLM?").classes("text-subtitle1")
        f = self.form
        with ui.row().classes("w-full no-wrap items-start gap-6"):
            with ui.column().classes("w-80 shrink-0 gap-1"):
                ui.label("Question").classes("text-h6")
                self.model = ui.select(
                    {m: m for m in models},
                    value=f.model,
                    label="model",
                    on_change=lambda e: self._set(model=e.value),
                ).classes("w-full")
                ui.upload(
                    label="or upload a config.json",
                    auto_upload=True,
                    max_file_size=MAX_UPLOAD,
                    on_upload=self._uploaded,
                    on_rejected=lambda: self._message("the file is over 1 MiB"),
                ).props('accept=".json,application/json" flat bordered').classes("w-full").style(
                    "max-height: 76px"
                )
                self._text("context tokens", "context_tokens", "8192, 8K or 128K")
                with ui.row().classes("w-full no-wrap"):
                    self._number("prompt tokens", "prompt_tokens", integer=True)
                    self._number("output tokens", "output_tokens", integer=True)
                dtypes = {"": "model default", **{d: d for d in DTYPE_BYTES}}
                with ui.row().classes("w-full no-wrap"):
                    self._select("weight dtype", "weight_dtype", dtypes)
                    self._select("KV dtype", "kv_dtype", dtypes)
                self._number("tokens/s per user", "tokens_per_s_per_user")
                self._number("concurrent users", "concurrent_users", integer=True)
                objectives = {o: f"minimize {o}" for o in OBJECTIVES}
                objectives |= {o: f"maximize {o}" for o in MAXIMIZE}
                self._select("objective", "objective", objectives)
                ui.label("Limits (empty: none)").classes("text-subtitle2 q-mt-sm")
                self._text("max IT power", "max_power", "e.g. 1 MW")
                self._number("max capex (USD)", "max_capex_usd")
                self._number("max chips", "max_chips", integer=True)
                ui.select(
                    chips,
                    value=list(f.chips),
                    label="chips",
                    multiple=True,
                    on_change=lambda e: self._set(chips=list(e.value or [])),
                ).props("use-chips").classes("w-full")
                self._select(
                    "assumptions",
                    "assumptions",
                    {"": "default (deployment)", "paper": "paper", "deployment": "deployment"},
                )
                profiles = {"": "each chip's default", **{p: p for p in load_profiles()}}
                self._select("profile", "profile", profiles)
                self._select("serving engine", "engine", {"": "none", **{e: e for e in engines()}})
                self._text("engine version", "engine_version", "e.g. 0.5.6 (with an engine)")
            with ui.column().classes("grow min-w-0 gap-2"):
                self.results = ui.refreshable(self._results)
                self.results()
                self._whatif_controls()
                self.studies = ui.refreshable(self._studies)
                self.studies()
        ui.timer(0.05, self.resolve, once=True)

    def _text(self, label: str, key: str, hint: str = "") -> None:
        self.ui.input(
            label,
            value=str(getattr(self.form, key) or ""),
            placeholder=hint,
            on_change=lambda e: self._set(**{key: e.value or ""}),
        ).props("debounce=400").classes("w-full")

    def _number(self, label: str, key: str, integer: bool = False) -> None:
        def changed(e) -> None:
            v = e.value
            if v is not None and integer:
                v = int(v) if float(v).is_integer() else v
            self._set(**{key: v})

        self.ui.number(label, value=getattr(self.form, key), on_change=changed).props(
            "debounce=400"
        ).classes("w-full")

    def _select(self, label: str, key: str, options: dict[str, str]) -> None:
        self.ui.select(
            options,
            value=getattr(self.form, key),
            label=label,
            on_change=lambda e: self._set(**{key: e.value or ""}),
        ).classes("w-full")

    def _whatif_controls(self) -> None:
        ui = self.ui
        # the browser moves its own slider (no round trip through the server per step: quick
        # moves are not lost while a solve runs); the server hears every value
        slider = type("Slider", (ui.slider,), {"LOOPBACK": False})
        with ui.card().classes("w-full"):
            ui.label("What if … (re-solves as the controls move)").classes("text-h6")
            with ui.grid(columns=3).classes("w-full"):
                with ui.column():
                    bw = ui.label()
                    slider(
                        min=-2,
                        max=2,
                        step=0.25,
                        value=0,
                        on_change=lambda e: self._what(bandwidth=2.0**e.value),
                    ).props("data-testid=whatif-bandwidth")
                    bw.bind_text_from(
                        self, "whatif", lambda w: f"memory bandwidth ×{w.bandwidth:.3g}"
                    )
                with ui.column():
                    sync = ui.label()
                    slider(
                        min=-3,
                        max=3,
                        step=0.5,
                        value=0,
                        on_change=lambda e: self._what(sync_latency=2.0**e.value),
                    )
                    sync.bind_text_from(
                        self, "whatif", lambda w: f"sync latency ×{w.sync_latency:.3g}"
                    )
                with ui.column():
                    eff = ui.label()
                    eff.bind_text_from(
                        self,
                        "whatif",
                        lambda w: (
                            "efficiency η_bw = η_f: the profile's"
                            if w.efficiency is None
                            else f"efficiency η_bw = η_f = {w.efficiency:.2f}"
                        ),
                    )
                    level = slider(min=0.1, max=1.0, step=0.05, value=0.6)
                    switch = ui.switch("set the efficiency")
                    level.on_value_change(
                        lambda e: switch.value and self._what(efficiency=float(e.value))
                    )
                    switch.on_value_change(
                        lambda e: self._what(efficiency=float(level.value) if e.value else None)
                    )
            self.timing = ui.label("").props("data-testid=timing").classes("text-caption")

    # ---- state changes ----------------------------------------------------------------

    def _set(self, **changes: Any) -> None:
        self.form = replace(self.form, **changes)
        self.asked += 1
        self.study = {}
        asyncio.ensure_future(self.resolve())

    def _what(self, **changes: Any) -> None:
        self.whatif = replace(self.whatif, **changes)
        self.asked += 1
        self.study = {}
        asyncio.ensure_future(self.resolve())

    async def resolve(self) -> None:
        """Solve the current question; while a solve runs, changes coalesce into one more."""
        from nicegui import run as nrun

        self.dirty = True
        if self.busy:
            return
        self.busy = True
        try:
            while self.dirty:
                self.dirty = False
                form, whatif = self.form, self.whatif
                self.outcome = await nrun.io_bound(_locked, run, form, whatif)
                self.results.refresh()
                self.studies.refresh()
                self.solves += 1
                self.timing.text = (
                    f"solve {self.solves}: {1e3 * self.outcome.seconds:.0f} ms "
                    f"(model, columns, MILP and re-check)"
                )
        finally:
            self.busy = False

    async def _uploaded(self, e) -> None:
        from designer.model.architecture import load_hf_config

        data = await e.file.read()
        if len(data) > MAX_UPLOAD:
            self._message(f"{e.file.name}: over 1 MiB ({len(data):,} bytes)")
            return
        # the file's own name never becomes a path: only its stem, reduced to safe letters,
        # names the folder (and so the model, as for a downloaded Hugging Face config.json)
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(e.file.name).stem)[:64].strip(".") or "model"
        path = Path(tempfile.mkdtemp(prefix="upload-", dir=self.folder)) / stem / "config.json"
        path.parent.mkdir()
        path.write_bytes(data)
        try:
            load_hf_config(str(path))
        except Exception as exc:  # a bad config: say why, keep the model
            self._message(one_line(str(exc).replace(str(path), e.file.name)))
            return
        self.model.options[str(path)] = f"uploaded: {e.file.name}"
        self.model.update()
        self.model.value = str(path)  # on_change re-solves

    def _message(self, text: str) -> None:
        self.outcome = Outcome("error", text)
        self.results.refresh()

    # ---- results ------------------------------------------------------------------------

    def _results(self) -> None:
        ui = self.ui
        out = self.outcome
        if out is None:
            ui.label("solving …")
            return
        if not out.answered:
            title = "No fleet meets this question" if out.kind == "infeasible" else "Error"
            with ui.card().classes("w-full bg-red-1").props("data-testid=error"):
                ui.label(title).classes("text-h6 text-negative")
                ui.label(out.message).classes("text-negative")
                best = out.record.get("best_achievable")
                if best:
                    ui.label(f"best reachable: {best}").classes("text-caption")
            return
        r = out.record
        obj = r["objective"]
        from designer.studies.rows import describe

        with ui.card().classes("w-full").props("data-testid=answer"):
            ui.label(
                f"{obj['sense']} {obj['name']}: {amount(obj['value'], obj['unit'])} "
                f"({r['status']}, re-checked by the forward model)"
            ).classes("text-h6")
            ui.label(describe(r)).props("data-testid=design").classes("text-subtitle1")
            t = r["totals"]
            ui.label(
                f"{t['chips']} chips in {t['servers']} servers · capex "
                f"{amount(t['capex_usd'], 'USD')} · IT power {amount(t['power_w'], 'W')} · TCO "
                f"{amount(t['tco_usd_per_year'], 'USD')}/year · "
                f"{amount(t['cost_per_mtoken_usd'], 'USD/Mtoken')} · "
                f"{t['system_tokens_per_s']:,.0f} tokens/s for {t['users_served']} users"
            )
            single = r.get("single_configuration") or {}
            if single.get("saving"):
                ui.label(f"mixing configurations saves {100 * single['saving']:.1f}%")
            ui.label("binding: " + (", ".join(r.get("binding") or []) or "none")).classes(
                "text-caption"
            )
            for line in accuracy(r):
                ui.label(line).classes("text-caption")
            rows = fleet_rows(r)
            ui.table(
                columns=[{"name": k, "label": k, "field": k} for k in rows[0]],
                rows=rows,
            ).props("dense flat").classes("w-full")
            self._breakdown(r)
            with ui.row():
                ui.button(
                    "problem TOML",
                    icon="download",
                    on_click=lambda: ui.download.content(
                        problem_toml(self.form, self.whatif), "problem.toml"
                    ),
                )
                ui.button(
                    "results CSV",
                    icon="download",
                    on_click=lambda: ui.download.content(
                        results_csv(r, self.whatif), "results.csv"
                    ),
                )

    def _breakdown(self, record: dict[str, Any]) -> None:
        names = [f"{f['chip']} TP{f['tp']}×PP{f['pp']} b{f['batch']}" for f in record["fleet"]]
        series = [
            {
                "name": part.removesuffix("_time_s"),
                "type": "bar",
                "data": [round(1e3 * f[part], 3) for f in record["fleet"]],
            }
            for part in (*STEP_PARTS, "step_time_s")
        ]
        series[-1]["name"] = "step = max(memory, compute) + sync + overhead"
        self.ui.echart(
            {
                "title": {
                    "text": "step time (ms) per configuration",
                    "textStyle": {"fontSize": 13},
                },
                "animation": False,
                "tooltip": {},
                "legend": {"top": 24},
                "grid": {"top": 72, "containLabel": True},
                "xAxis": {"type": "category", "data": names},
                "yAxis": {"type": "value", "name": "ms"},
                "series": series,
            }
        ).classes("w-full h-64")

    # ---- compare and frontier -----------------------------------------------------------

    def _studies(self) -> None:
        ui = self.ui
        with ui.card().classes("w-full"):
            with ui.row().classes("items-center"):
                ui.label("Compare").classes("text-h6")
                ui.toggle({"chip": "by chip", "memory": "by memory"}).bind_value(
                    self.choice, "compare"
                )
                ui.button("compare", on_click=lambda: self._study("compare"))
            self._compare_table()
        with ui.card().classes("w-full"):
            with ui.row().classes("items-center"):
                ui.label("Frontier: cost vs tokens/s per user").classes("text-h6")
                ui.select(list(OBJECTIVES)).bind_value(self.choice, "pareto").classes("w-40")
                ui.button("frontier", on_click=lambda: self._study("pareto"))
            self._frontier()

    async def _study(self, kind: str) -> None:
        """Run the compare or frontier of the question as it is now; a result that arrives
        after the question changed is dropped."""
        from nicegui import run as nrun

        asked = self.asked
        self.study[kind] = {"running": True}
        self.studies.refresh()
        arg = self.choice[kind]
        result = await nrun.io_bound(_locked, study, kind, arg, self.form, self.whatif)
        if asked == self.asked:
            self.study[kind] = result
            self.studies.refresh()

    def _compare_table(self) -> None:
        ui, s = self.ui, self.study.get("compare")
        if not s:
            return
        if s.get("running"):
            ui.label("comparing …")
        elif "error" in s:
            ui.label(s["error"]).classes("text-negative").props("data-testid=study-error")
        else:
            ui.table(
                columns=[
                    {"name": k, "label": k, "field": k, "align": "left"} for k in s["rows"][0]
                ],
                rows=s["rows"],
            ).props("dense flat data-testid=compare").classes("w-full")

    def _frontier(self) -> None:
        ui, s = self.ui, self.study.get("pareto")
        if not s:
            return
        if s.get("running"):
            ui.label("walking the frontier …")
            return
        if "error" in s:
            ui.label(s["error"]).classes("text-negative").props("data-testid=study-error")
            return
        pts = s["points"]
        ui.echart(
            {
                "animation": False,
                "tooltip": {"trigger": "item"},
                "xAxis": {"type": "log", "name": "tokens/s per user"},
                "yAxis": {"type": "log", "name": f"{s['y']} ({s['unit']})"},
                "series": [
                    {
                        "type": "line",
                        "step": "end",
                        "data": [[p["tokens/s per user"], p["value"]] for p in pts],
                    }
                ],
            }
        ).classes("w-full h-64")
        ui.table(
            columns=[
                {"name": k, "label": k, "field": k, "align": "left"} for k in pts[0] if k != "value"
            ],
            rows=pts,
        ).props("dense flat data-testid=frontier").classes("w-full")
