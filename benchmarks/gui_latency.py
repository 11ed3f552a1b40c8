"""How responsive is the editor? Start-up, GUI stalls while training, long sessions, cancel.

Usage::

    python benchmarks/gui_latency.py [--runs 3] [--stall-runs 5] [--limit 2000] [--epochs 2]
                                     [--session-runs 50] [--cancel-runs 3]
                                     [--large-nodes 400] [--large-repeats 10] [--large-only]

(a) **Start-up**: time from launching a fresh ``python`` process (``neuroflow.gui.app.launch``)
    to the canvas' first paint, for an empty editor and with the flagship workflow open
    (target <= 1.5 s, judged on the median run). The probe also checks that TensorFlow was
    not imported.
(b) **Event-loop stalls while training**: the flagship trains on a sample in the execution
    process while a QTimer ticks every 5 ms on the GUI thread; the longest gap between ticks,
    minus the 5 ms period, is the longest the GUI could not react. Each run gives one such
    longest stall; the verdict is on the median over ``--stall-runs`` runs (target <= 20 ms),
    and the worst run is printed beside it. Measured with the execution process started and
    warm (as the editor leaves it a moment after start-up: one untimed run first) and, for
    information, once "cold", with the process started and TensorFlow imported during the run.
(c) **A long session**: ``--session-runs`` executions of the flagship on a sample in one editor
    (the learner's seed changes each time, so it trains again); the editor process may grow by
    less than 50 MB from after the first run to after the last. The execution process's growth
    is printed for information.
(d) **Cancel**: the flagship training on all 60,000 MNIST images is cancelled after a few
    batches; the time from Cancel to the run's end (target <= 1 s, median of ``--cancel-runs``).
(e) **A network of real size**: a generated residual network of ``--large-nodes`` nodes
    (``tools/make_residual_workflow.py``: Input, Conv2D, BatchNormalization, Activation and Add
    in repeated blocks, with the flagship's readers, learner, executor and scorer): opening it
    in the editor (target <= 1.5 s), then one setting edit on its first convolution (the
    kernel size, which changes the parameter count shown on it and the network total shown by
    every node after it), its undo and its redo, each timed until the canvas has repainted
    (target <= 30 ms, median of ``--large-repeats``). The editor's CPU time is printed beside
    each wall time: on a busy machine it shows what the editor itself spent.

Each measurement runs in its own process. Runs offscreen when there is no display. Timings on
a busy machine are noisy: the script prints the load average and warns when other processes
compete for the CPU. It ends with one VERDICT line and exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"
STARTUP_TARGET = 1.5
STALL_TARGET_MS = 20.0
SESSION_TARGET_MB = 50.0
CANCEL_TARGET_S = 1.0
LARGE_OPEN_TARGET_S = 1.5
LARGE_EDIT_TARGET_MS = 30.0
TICK_MS = 5


def _env(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["NEUROFLOW_NO_WARMUP"] = "1"
    env["NEUROFLOW_SETTINGS"] = str(scratch / "settings.ini")
    return env


# -- (a) start-up -----------------------------------------------------------------------------------
def startup_once(path: Path | None, scratch: Path) -> tuple[float, str]:
    env = _env(scratch)
    env["NEUROFLOW_STARTUP_PROBE"] = "1"
    code = f"import sys; from neuroflow.gui.app import launch; sys.exit(launch({str(path)!r} if {path is not None} else None))"
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    ready, heavy = None, "?"
    for line in process.stdout:
        if line.startswith("NEUROFLOW_READY"):
            ready = time.perf_counter() - started
            heavy = line.split("heavy=")[-1].strip()
            break
    process.wait(timeout=60)
    if ready is None:
        raise RuntimeError(f"the editor did not report ready (exit code {process.returncode})")
    return ready, heavy


def measure_startup(runs: int, scratch: Path) -> dict[str, object]:
    results: dict[str, object] = {}
    for name, path in (("empty", None), ("flagship", FLAGSHIP)):
        times, heavy = [], set()
        for _ in range(runs):
            seconds, loaded = startup_once(path, scratch)
            times.append(seconds)
            heavy.add(loaded)
        results[name] = {"best": min(times), "median": statistics.median(times), "runs": times,
                         "heavy_modules": sorted(heavy)}
    return results


# -- the editor in a child process --------------------------------------------------------------------
def open_editor(limit: int, epochs: int) -> Any:
    """The editor with the flagship cut down to ``limit`` images and ``epochs``; (app, window)."""
    from PySide6.QtCore import QSettings

    from neuroflow.gui.app import application
    from neuroflow.gui.main_window import MainWindow

    app = application()
    scratch = Path(tempfile.mkdtemp(prefix="neuroflow-bench-"))
    window = MainWindow(settings=QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat))
    window.files.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    assert window.open_file(FLAGSHIP)
    doc = window.document
    doc.set_setting("train_reader", "limit", limit)
    doc.set_setting("test_reader", "limit", max(limit // 4, 200) if limit else 0)
    doc.set_setting("learner", "epochs", epochs)
    doc.set_setting("writer", "path", str(scratch / "model.keras"))
    doc.set_setting("writer", "overwrite", True)
    window.resize(1600, 1000)
    window.show()
    window.ensure_monitor()
    return app, window


def execute_and_wait(window: Any) -> Any:
    assert window.execute_all()
    assert window.runner.wait(900_000)
    return window.runs.last_run


def retrain(window: Any) -> None:
    """Change the learner's seed: it and what follows it execute again."""
    doc = window.document
    doc.set_setting("learner", "seed", (doc.workflow.nodes["learner"].node["seed"] + 1) % 1000)


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default), from /proc (Linux)."""
    try:
        text = Path(f"/proc/{pid or 'self'}/status").read_text()
    except OSError:
        return float("nan")
    kilobytes = next(int(line.split()[1]) for line in text.splitlines() if line.startswith("VmRSS:"))
    return kilobytes / 1024.0


# -- (b) stalls during training (child process) -------------------------------------------------------
def stall_child(limit: int, epochs: int, cold: bool) -> dict[str, object]:
    from PySide6.QtCore import QEventLoop, QTimer

    from neuroflow.core.events import BatchEnded

    app, window = open_editor(limit, epochs)
    doc = window.document
    if not cold:  # as the editor leaves it: the execution process started and warm
        execute_and_wait(window)
        retrain(window)
    loop = QEventLoop()
    QTimer.singleShot(300, loop.quit)
    loop.exec()

    ticks: list[float] = []
    batches = [0]
    doc.core_event.connect(lambda e: batches.__setitem__(0, batches[0] + 1) if isinstance(e, BatchEnded) else None)
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    done = QEventLoop()
    window.runner.finished.connect(lambda *_args: done.quit())
    timer.start()
    started = time.perf_counter()
    assert window.execute_all()
    done.exec()
    seconds = time.perf_counter() - started
    timer.stop()
    result = window.runs.last_run
    gaps = sorted((b - a) * 1000.0 for a, b in zip(ticks, ticks[1:], strict=False))
    stall = max(gaps) - TICK_MS if gaps else float("nan")
    doc.undo_stack.setClean()
    window.close()
    app.processEvents()
    return {
        "ok": bool(result is not None and result.ok),
        "seconds": round(seconds, 2),
        "batches": batches[0],
        "ticks": len(ticks),
        "max_stall_ms": round(stall, 1),
        "p99_gap_ms": round(gaps[int(0.99 * (len(gaps) - 1))], 1) if gaps else None,
        "median_gap_ms": round(statistics.median(gaps), 1) if gaps else None,
    }


# -- (c) a long session, (d) cancel (child processes) ---------------------------------------------------
def session_child(runs: int, limit: int) -> dict[str, object]:
    app, window = open_editor(limit, 1)
    first = execute_and_wait(window)
    assert first is not None and first.ok, first
    editor_before, worker_before = rss_mb(), rss_mb(window.runner.worker_pid)
    started = time.perf_counter()
    failures = 0
    for _ in range(runs - 1):
        retrain(window)
        result = execute_and_wait(window)
        failures += int(result is None or not result.ok)
    editor_after, worker_after = rss_mb(), rss_mb(window.runner.worker_pid)
    window.document.undo_stack.setClean()
    window.close()
    app.processEvents()
    return {"runs": runs, "failures": failures, "seconds": round(time.perf_counter() - started, 1),
            "editor_mb": [round(editor_before, 1), round(editor_after, 1)],
            "worker_mb": [round(worker_before, 1), round(worker_after, 1)]}


def cancel_child(runs: int) -> dict[str, object]:
    from neuroflow.core.events import BatchEnded

    app, window = open_editor(0, 3)  # all 60,000 training images
    doc = window.document
    batches = [0]
    doc.core_event.connect(lambda e: batches.__setitem__(0, batches[0] + 1) if isinstance(e, BatchEnded) else None)
    waits = []
    for _ in range(runs):
        retrain(window)
        batches[0] = 0
        assert window.execute_all()
        while batches[0] < 5:
            app.processEvents()
            time.sleep(0.005)
        asked = time.perf_counter()
        window.cancel_run()
        assert window.runner.wait(60_000)
        waits.append(time.perf_counter() - asked)
        assert window.runs.last_run is not None and window.runs.last_run.cancelled
    window.document.undo_stack.setClean()
    window.close()
    app.processEvents()
    return {"cancel_seconds": [round(w, 3) for w in waits]}


def large_child(nodes: int, repeats: int) -> dict[str, object]:
    """Open a generated residual network, then time edit, undo and redo of its first layer."""
    from PySide6.QtCore import QSettings

    from neuroflow.core import fileformat
    from neuroflow.gui.app import application
    from neuroflow.gui.main_window import MainWindow

    sys.path.insert(0, str(REPO / "tools"))
    from make_residual_workflow import residual_workflow

    app = application()
    scratch = Path(tempfile.mkdtemp(prefix="neuroflow-bench-"))
    path = scratch / "residual.workflow"
    fileformat.save(residual_workflow(nodes), path)
    window = MainWindow(settings=QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat))
    window.files.ask_unsaved = lambda: "discard"  # type: ignore[method-assign]
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    started, cpu_started = time.perf_counter(), time.process_time()
    assert window.open_file(path)
    app.processEvents()  # the canvas paints
    opened, opened_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    doc = window.document
    count = len(doc.workflow.nodes)

    cpu: dict[str, list[float]] = {"edit": [], "undo": [], "redo": []}

    def timed(name: str, action: Any) -> float:
        started, cpu_started = time.perf_counter(), time.process_time()
        action()
        app.processEvents()
        cpu[name].append((time.process_time() - cpu_started) * 1000.0)
        return (time.perf_counter() - started) * 1000.0

    edits, undos, redos = [], [], []
    for _ in range(repeats):
        kernel = 5 if tuple(doc.workflow.nodes["stem_conv"].node["kernel_size"]) == (3, 3) else 3
        edits.append(timed("edit", lambda k=kernel: doc.set_setting("stem_conv", "kernel_size", [k, k])))
        assert doc.workflow.nodes["learner"].state.value == "configured"
        undos.append(timed("undo", doc.undo))
        redos.append(timed("redo", doc.redo))
        doc.undo_stack.clear()  # the next edit is a step of its own, not merged into this one
    doc.undo_stack.setClean()
    window.close()
    app.processEvents()
    return {"nodes": count, "open_s": round(opened, 3), "open_cpu_s": round(opened_cpu, 3),
            "edit_ms": [round(t, 1) for t in edits], "undo_ms": [round(t, 1) for t in undos],
            "redo_ms": [round(t, 1) for t in redos],
            **{f"{name}_cpu_ms": statistics.median(times) for name, times in cpu.items()}}


def measure_large(nodes: int, repeats: int, scratch: Path) -> tuple[list[str], bool]:
    """Section (e): prints its lines; returns the verdict texts and whether a target was missed."""
    print(f"(e) a generated residual network of {nodes} nodes: open, then edit / undo / redo of its first "
          f"convolution's kernel size ({repeats} times)")
    data = measure_child("large", scratch, "--large-nodes", str(nodes), "--large-repeats", str(repeats))
    verdicts, failed = [], False
    opened = float(data["open_s"])
    verdict = "PASS" if opened <= LARGE_OPEN_TARGET_S else "FAIL"
    failed |= verdict != "PASS"
    print(f"    open {data['nodes']} nodes: {opened:.2f} s (CPU {data['open_cpu_s']:.2f} s)  "
          f"target <= {LARGE_OPEN_TARGET_S} s: {verdict}")
    verdicts.append(f"open {data['nodes']} nodes {opened:.2f} s (<= {LARGE_OPEN_TARGET_S} s) {verdict}")
    for name in ("edit", "undo", "redo"):
        times = data[f"{name}_ms"]
        median = statistics.median(times)
        verdict = "PASS" if median <= LARGE_EDIT_TARGET_MS else "FAIL"
        failed |= verdict != "PASS"
        print(f"    {name}: median {median:.1f} ms (CPU {data[f'{name}_cpu_ms']:.1f} ms), worst {max(times):.1f} ms  "
              f"[{', '.join(f'{t:.0f}' for t in times)}]  target <= {LARGE_EDIT_TARGET_MS:.0f} ms: {verdict}")
        verdicts.append(f"{name} {median:.0f} ms (<= {LARGE_EDIT_TARGET_MS:.0f} ms) {verdict}")
    return verdicts, failed


def measure_child(kind: str, scratch: Path, *args: str) -> dict[str, Any]:
    command = [sys.executable, __file__, f"--child-{kind}", *args]
    done = subprocess.run(command, env=_env(scratch), cwd=REPO, capture_output=True, text=True, timeout=3600)
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{kind} measurement failed:\n{done.stderr[-2000:]}")


def measure_stall(limit: int, epochs: int, cold: bool, scratch: Path) -> dict[str, Any]:
    return measure_child("stall", scratch, "--limit", str(limit), "--epochs", str(epochs),
                         *(["--cold"] if cold else []))


def _load_note() -> str:
    """The 1-minute load average against the core count, and a warning when the CPU is busy."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on this platform
        return ""
    cores = os.cpu_count() or 1
    note = f"load average {load:.1f} on {cores} cores"
    if load > cores * 0.75:
        note += "; WARNING: other processes compete for the CPU, timings are pessimistic"
    return note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Editor start-up time and GUI stalls while training")
    parser.add_argument("--runs", type=int, default=3, help="start-up runs per case")
    parser.add_argument("--stall-runs", type=int, default=5, help="training runs for the stall measurement")
    parser.add_argument("--limit", type=int, default=2000, help="training images")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--no-cold", action="store_true", help="skip the informative cold run")
    parser.add_argument("--session-runs", type=int, default=50, help="executions in the long session (0: skip)")
    parser.add_argument("--session-limit", type=int, default=300, help="training images per session run")
    parser.add_argument("--cancel-runs", type=int, default=3, help="cancels of full-MNIST training (0: skip)")
    parser.add_argument("--large-nodes", type=int, default=400, help="nodes of the generated network (0: skip)")
    parser.add_argument("--large-repeats", type=int, default=10, help="edits, undos and redos timed on it")
    parser.add_argument("--large-only", action="store_true", help="measure only the generated network (e)")
    parser.add_argument("--child-stall", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-session", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-cancel", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-large", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child_stall:
        print(json.dumps(stall_child(options.limit, options.epochs, options.cold)), flush=True)
        return 0
    if options.child_session:
        print(json.dumps(session_child(options.session_runs, options.session_limit)), flush=True)
        return 0
    if options.child_cancel:
        print(json.dumps(cancel_child(options.cancel_runs)), flush=True)
        return 0
    if options.child_large:
        print(json.dumps(large_child(options.large_nodes, options.large_repeats)), flush=True)
        return 0

    scratch = Path(tempfile.mkdtemp(prefix="neuroflow-bench-"))
    failed = False
    verdicts = []
    note = _load_note()
    if note:
        print(note)
    if options.large_only:
        verdicts, failed = measure_large(options.large_nodes, options.large_repeats, scratch)
        note = _load_note()
        print("VERDICT: " + "; ".join(verdicts) + (f"  [{note}]" if note else ""))
        return 1 if failed else 0
    print("(a) time from process launch to a usable canvas (first paint)")
    startup = measure_startup(options.runs, scratch)
    for name, data in startup.items():
        assert isinstance(data, dict)
        light = data["heavy_modules"] == ["none"]
        verdict = "PASS" if data["median"] <= STARTUP_TARGET and light else "FAIL"
        failed |= verdict != "PASS"
        runs = ", ".join(f"{t:.2f}" for t in data["runs"])
        print(f"    {name:9s} median {data['median']:.2f} s, best {data['best']:.2f} s  [{runs}]  "
              f"target <= {STARTUP_TARGET} s: {verdict}; TensorFlow at start-up: {data['heavy_modules']}")
        verdicts.append(f"start-up {name} {data['median']:.2f} s (<= {STARTUP_TARGET} s) {verdict}")

    print(f"(b) longest GUI event-loop stall while training ({options.limit} images, {options.epochs} epochs, "
          f"{TICK_MS} ms timer, {options.stall_runs} runs)")
    runs = [measure_stall(options.limit, options.epochs, False, scratch) for _ in range(max(1, options.stall_runs))]
    for index, data in enumerate(runs, start=1):
        print(f"    run {index}: max stall {data['max_stall_ms']:.1f} ms, p99 gap {data['p99_gap_ms']} ms, "
              f"median gap {data['median_gap_ms']} ms over {data['ticks']} ticks; {data['batches']} batches "
              f"in {data['seconds']} s" + ("" if data["ok"] else "  (the run FAILED)"))
    stalls = [float(data["max_stall_ms"]) for data in runs]
    median_stall = statistics.median(stalls)
    verdict = "PASS" if median_stall <= STALL_TARGET_MS and all(data["ok"] for data in runs) else "FAIL"
    failed |= verdict != "PASS"
    print(f"    warm (TF imported): max stall median {median_stall:.1f} ms, worst {max(stalls):.1f} ms, "
          f"best {min(stalls):.1f} ms; p99 gap median "
          f"{statistics.median(float(d['p99_gap_ms']) for d in runs):.1f} ms  target <= {STALL_TARGET_MS:.0f} ms: "
          f"{verdict}")
    verdicts.append(f"GUI stall {median_stall:.0f} ms median of {len(runs)} (worst {max(stalls):.0f} ms) "
                    f"(<= {STALL_TARGET_MS:.0f} ms) {verdict}")
    if not options.no_cold:
        data = measure_stall(options.limit, options.epochs, True, scratch)
        print(f"    cold (worker start and TF import in the run, for information): max stall "
              f"{data['max_stall_ms']:.1f} ms, p99 gap {data['p99_gap_ms']} ms over {data['ticks']} ticks "
              f"in {data['seconds']} s")
    if options.session_runs > 1:
        print(f"(c) {options.session_runs} executions of the flagship ({options.session_limit} images, 1 epoch) "
              "in one editor session")
        data = measure_child("session", scratch, "--session-runs", str(options.session_runs),
                             "--session-limit", str(options.session_limit))
        (editor_before, editor_after), (worker_before, worker_after) = data["editor_mb"], data["worker_mb"]
        growth = editor_after - editor_before
        verdict = "PASS" if growth < SESSION_TARGET_MB and not data["failures"] else "FAIL"
        failed |= verdict != "PASS"
        print(f"    editor RSS {editor_before:.0f} -> {editor_after:.0f} MB (+{growth:.1f} MB) after "
              f"{data['runs']} runs in {data['seconds']} s, {data['failures']} failed; execution process "
              f"{worker_before:.0f} -> {worker_after:.0f} MB  target editor < +{SESSION_TARGET_MB:.0f} MB: {verdict}")
        verdicts.append(f"{data['runs']} runs editor +{growth:.0f} MB (< {SESSION_TARGET_MB:.0f} MB) {verdict}")
    if options.cancel_runs > 0:
        print(f"(d) Cancel while training on all 60,000 MNIST images ({options.cancel_runs} runs)")
        data = measure_child("cancel", scratch, "--cancel-runs", str(options.cancel_runs))
        waits = data["cancel_seconds"]
        median_wait = statistics.median(waits)
        verdict = "PASS" if median_wait <= CANCEL_TARGET_S else "FAIL"
        failed |= verdict != "PASS"
        print(f"    Cancel to the run's end: median {median_wait:.2f} s [{', '.join(f'{w:.2f}' for w in waits)}]  "
              f"target <= {CANCEL_TARGET_S:.0f} s: {verdict}")
        verdicts.append(f"cancel {median_wait:.2f} s (<= {CANCEL_TARGET_S:.0f} s) {verdict}")
    if options.large_nodes > 0:
        large_verdicts, large_failed = measure_large(options.large_nodes, options.large_repeats, scratch)
        verdicts += large_verdicts
        failed |= large_failed
    note = _load_note()
    print("VERDICT: " + "; ".join(verdicts) + (f"  [{note}]" if note else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
