"""``neuroflow runs`` on a long history: how long listing and comparing take, how big the file is.

Fills a history with ``--runs`` runs of ``--epochs`` epochs each through the store API (the
flagship's settings as a recorder records them, the learning rate and the dense units varying so
the list has setting columns; four metrics per epoch, a Scorer's scores; ``--batches`` per-batch
values of two metrics per epoch, 0 by default), then times, as a user runs them, the commands

* ``neuroflow runs FILE`` (the list, fitted to 120 columns),
* ``neuroflow runs FILE --compare A B``,
* ``neuroflow runs FILE --csv`` and ``--curves-csv`` (every run's curves),

each as a fresh process (so the figure includes Python's and NeuroFlow's start, as the user
sees it; the start alone is timed with ``neuroflow runs --help``), median of ``--repeats``.
Run from the repository root::

    python benchmarks/runs_history.py [--runs 1000] [--epochs 20] [--batches 0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"


def fill(folder: Path, runs: int, epochs: int, batches: int) -> Path:
    """Write the history; return the workflow path its runs are recorded under."""
    from neuroflow.core.fileformat import load
    from neuroflow.history import open_store

    workflow = folder / "study.workflow"
    workflow.write_bytes(FLAGSHIP.read_bytes())
    flow = load(workflow)
    base = {nid: {"type": item.type_id, "version": item.node.version, "settings": item.node.settings_json(),
                  "title": item.label} for nid, item in flow.nodes.items()}
    rng = random.Random(0)
    with open_store(folder / "study.runs.sqlite") as store:
        for number in range(runs):
            settings = {nid: {**rec, "settings": dict(rec["settings"])} for nid, rec in base.items()}
            settings["learner"]["settings"]["learning_rate"] = rng.choice([1e-4, 3e-4, 1e-3, 3e-3])
            settings["dense"]["settings"]["units"] = rng.choice([64, 100, 128, 256])
            run = store.record_run(workflow=workflow.resolve(), seed=42, settings=settings,
                                   started=1_700_000_000 + number * 600, data_fingerprint="sha256 abcd")
            for epoch in range(1, epochs + 1):
                if batches:
                    store.add_batches(run, epoch, [(b, {"loss": rng.random(), "accuracy": rng.random()})
                                                   for b in range(batches)])
                store.add_epoch(run, epoch, {"loss": rng.random(), "accuracy": rng.random(),
                                             "val_loss": rng.random(), "val_accuracy": rng.random()})
            store.finish_run(run, stop_reason="completed", duration=rng.uniform(10, 600),
                             scores={"accuracy": rng.random(), "cohen_kappa": rng.random(), "count": 10000})
    return workflow


def timed(args: list[str], repeats: int) -> float:
    env = {**os.environ, "COLUMNS": "120"}
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "neuroflow", *args], capture_output=True, text=True,
                              env=env, check=False)
        seconds.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"neuroflow {' '.join(args)} failed: {done.stderr.strip()}")
    return statistics.median(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batches", type=int, default=0, help="per-batch values per epoch (two metrics)")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        start = time.perf_counter()
        workflow = fill(folder, options.runs, options.epochs, options.batches)
        filling = time.perf_counter() - start
        history = folder / "study.runs.sqlite"
        size = history.stat().st_size + sum(p.stat().st_size for p in folder.glob("study.runs.sqlite-*"))
        where = [str(workflow), "--runs-dir", str(folder)]
        figures = {
            "start (runs --help)": timed(["runs", "--help"], options.repeats),
            "list": timed(["runs", *where], options.repeats),
            "compare 2 runs": timed(["runs", *where, "--compare", "1", str(options.runs)], options.repeats),
            "csv (table)": timed(["runs", *where, "--csv", str(folder / "runs.csv")], options.repeats),
            "curves csv": timed(["runs", *where, "--curves-csv", str(folder / "curves.csv")], options.repeats),
        }
        print(f"history: {options.runs} runs x {options.epochs} epochs, {options.batches} batches/epoch; "
              f"filled in {filling:.1f} s; file {size / 1e6:.2f} MB")
        for name, seconds in figures.items():
            print(f"  {name:<20} {seconds * 1000:8.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
