"""``neuroflow sweep`` on the flagship with small samples: trials, pruning, shared studies, Ctrl+C.

Each trial trains for real (600 MNIST images, 1-3 epochs, a few seconds). The run history and
the default study storage go to a temporary folder through ``$NEUROFLOW_RUNS_DIR``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from deadlines import deadline

from neuroflow.cli import main
from neuroflow.history import open_store

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"
SAMPLE = ("--set", "MNIST train.limit=600", "--set", "test_reader.limit=200")

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "runs"
    monkeypatch.setenv("NEUROFLOW_RUNS_DIR", str(folder))
    return folder


def sweep(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sweep", str(FLAGSHIP), *SAMPLE, *args])
    out, err = capsys.readouterr()
    return code, out, err


def study(runs_dir: Path, name: str = "mnist_cnn", storage: str | None = None) -> Any:
    import optuna

    return optuna.load_study(study_name=name, storage=storage or f"sqlite:///{runs_dir / 'mnist_cnn.sweeps.sqlite'}")


def history(runs_dir: Path) -> dict[str, Any]:
    """Runs of the flagship's history by label."""
    with open_store(runs_dir / "mnist_cnn.runs.sqlite") as store:
        return {run.label: store.get_run(run.id) for run in store.list_runs()}


def test_a_sweep_of_four_trials_prints_them_and_the_best_and_records_four_runs(
    capsys: pytest.CaptureFixture[str], runs_dir: Path
) -> None:
    code, out, err = sweep(capsys, "--param", "learner.learning_rate=log:1e-4..1e-2", "--trials", "4",
                           "--set", "learner.epochs=2")
    assert code == 0, err
    lines = out.splitlines()
    finished = [line for line in lines if line.startswith("trial #")]
    assert len(finished) == 4 and all(" complete: value=" in line for line in finished), out
    header = lines.index("#  state     learner.learning_rate  val_accuracy  epochs  run")
    rows = [line.split() for line in lines[header + 1:header + 5]]
    assert [row[0] for row in rows] == ["0", "1", "2", "3"] and {row[1] for row in rows} == {"complete"}
    assert {row[4] for row in rows} == {"2"}  # epochs
    trials = study(runs_dir).trials
    best = max(trials, key=lambda t: t.value)
    assert lines[-1] == f"best: trial #{best.number} value={best.value:.4g} learner.learning_rate={best.params['learner.learning_rate']:.4g}"
    runs = history(runs_dir)
    assert sorted(runs) == [f"sweep mnist_cnn #{n}" for n in range(4)]
    for trial in trials:
        run = runs[f"sweep mnist_cnn #{trial.number}"]
        assert run.id == trial.user_attrs["run_id"] and run.stop_reason == "completed"
        assert run.settings["learner"]["settings"]["learning_rate"] == trial.params["learner.learning_rate"]
        assert run.settings["train_reader"]["settings"]["limit"] == 600  # --set applied too
        assert run.workflow == str(FLAGSHIP) and len(run.curves["val_accuracy"]) == 2
        assert trial.value == max(value for _, value in run.curves["val_accuracy"])  # the best epoch
        assert run.scores is not None and run.scores["count"] == 200  # the Scorer's test scores
        assert 0 < run.scores["accuracy"] <= 1 and "confusion_matrix" not in run.scores  # numbers only
    assert f"trial #0: learner.learning_rate={trials[0].params['learner.learning_rate']:.4g}" in err


def test_json_output_is_one_contract_event_per_line(capsys: pytest.CaptureFixture[str], runs_dir: Path) -> None:
    code, out, _ = sweep(capsys, "--param", "learner.learning_rate=log:1e-4..1e-2", "--param", "dense.units=32,64",
                         "--trials", "2", "--set", "learner.epochs=2", "--sampler", "random", "--json")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]  # every line is JSON, nothing else
    first, *middle, last = events
    assert first == {
        "event": "study", "study": "mnist_cnn", "storage": f"sqlite:///{runs_dir / 'mnist_cnn.sweeps.sqlite'}",
        "metric": "val_accuracy", "direction": "maximize", "trials": 2, "sampler": "random", "prune": False,
        "params": [{"name": "learner.learning_rate", "kind": "log", "low": 0.0001, "high": 0.01},
                   {"name": "dense.units", "kind": "choice", "choices": [32, 64]}],
        "existing": 0,
    }
    assert [e["event"] for e in middle] == ["trial", "epoch", "epoch", "trial", "best"] * 2
    for number in (0, 1):
        running, epoch1, epoch2, done, best = middle[5 * number:5 * number + 5]
        assert running == {"event": "trial", "number": number, "state": "running", "params": done["params"]}
        assert isinstance(done["params"]["dense.units"], int) and done["params"]["dense.units"] in (32, 64)
        assert [epoch1["epoch"], epoch2["epoch"]] == [1, 2] and epoch1["number"] == number
        assert done["state"] == "complete" and done["epochs"] == 2 and done["message"] == ""
        assert done["value"] == max(epoch1["value"], epoch2["value"])
        assert isinstance(done["run_id"], int) and done["seconds"] > 0
        assert set(best) == {"event", "number", "params", "value"}
    assert last["event"] == "done" and (last["complete"], last["pruned"], last["failed"]) == (2, 0, 0)
    assert last["best"] == {key: value for key, value in middle[-1].items() if key != "event"}
    assert last["best"]["value"] == max(middle[3]["value"], middle[8]["value"])


def test_a_trial_far_behind_the_median_is_pruned_and_its_run_says_so(
    capsys: pytest.CaptureFixture[str], runs_dir: Path
) -> None:
    """The pruner compares each epoch with the median of earlier trials at that epoch. A first
    process trains with Adam; a second adds to the same study the same network with plain SGD
    at the same small learning rate, which learns next to nothing in one epoch of 19 batches."""
    common = ("--param", "learner.learning_rate=log:1e-3..2e-3", "--set", "learner.epochs=3",
              "--set", "learner.batch_size=32")
    code, _, err = sweep(capsys, *common, "--trials", "1")
    assert code == 0, err
    code, out, err = sweep(capsys, *common, "--set", "learner.optimizer=sgd", "--trials", "1", "--prune",
                           "--prune-startup", "1", "--json")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert events[0]["existing"] == 1 and events[0]["prune"] is True
    (pruned,) = [e for e in events if e["event"] == "trial" and e["state"] != "running"]
    assert pruned["number"] == 1 and pruned["state"] == "pruned", pruned
    assert pruned["epochs"] == 1 and pruned["message"] == "pruned at epoch 1"
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1]  # training stopped there
    assert events[-1]["pruned"] == 1 and events[-1]["best"]["number"] == 0
    run = history(runs_dir)["sweep mnist_cnn #1"]
    assert run.id == pruned["run_id"] and run.stop_reason == "pruned at epoch 1"
    assert list(run.curves["val_accuracy"]) == [(1, pruned["value"])]
    assert run.settings["learner"]["settings"]["optimizer"] == "sgd"
    assert study(runs_dir).trials[1].state.name == "PRUNED"


def test_two_processes_at_once_add_their_trials_to_one_study(tmp_path: Path, runs_dir: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    command = [sys.executable, "-m", "neuroflow", "sweep", str(FLAGSHIP), "--set", "MNIST train.limit=300",
               "--set", "test_reader.limit=100", "--set", "learner.epochs=1", "--param",
               "learner.learning_rate=log:1e-4..1e-2", "--trials", "2", "--storage", storage,
               "--study", "shared", "--json"]
    env = {**os.environ, "NEUROFLOW_RUNS_DIR": str(runs_dir), "TF_CPP_MIN_LOG_LEVEL": "3"}
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(2)]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        events = [json.loads(line) for line in out.splitlines()]
        assert events[-1]["event"] == "done" and events[-1]["complete"] == 2
    trials = study(runs_dir, "shared", storage).trials
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]
    assert {t.state.name for t in trials} == {"COMPLETE"}
    assert {t.user_attrs["pid"] for t in trials} == {p.pid for p in processes}
    assert sorted(history(runs_dir)) == [f"sweep shared #{n}" for n in range(4)]


def test_a_failing_combination_is_a_failed_trial_and_a_grid_stops_when_done(
    capsys: pytest.CaptureFixture[str], runs_dir: Path
) -> None:
    code, out, err = sweep(capsys, "--param", "output.units=10,5", "--sampler", "grid", "--trials", "5",
                           "--set", "learner.epochs=1")
    assert code == 0, err
    finished = [line for line in out.splitlines() if line.startswith("trial #")]
    assert len(finished) == 2, out  # the grid has two points
    (failed,) = [line for line in finished if " failed: " in line]
    assert "output.units=5" in failed and "no run" in failed
    assert "('Network Learner' (learner): the network ends in 5 units but the training data has 10 classes" in failed
    assert out.splitlines()[-1].startswith("best: trial #") and out.splitlines()[-1].endswith("output.units=10")
    assert [run.settings["output"]["settings"]["units"] for run in history(runs_dir).values()] == [10]


@pytest.mark.parametrize(("sent", "presses"), [(signal.SIGINT, 1), (signal.SIGINT, 2), (signal.SIGTERM, 1)])
def test_ctrl_c_ends_the_running_trial_as_interrupted_prints_the_table_and_exits_130(
    tmp_path: Path, runs_dir: Path, sent: int, presses: int
) -> None:
    """Once: the trial stops after its batch, is marked failed and the table is printed. Twice:
    the process quits at once, as a killed one would (its trial is failed later by the heartbeat
    check of another sweep, its run reads as interrupted) - exit 130 and no traceback either way.
    SIGTERM, how the editor's Sweep dialog stops a sweep, is a clean stop too (exit 143)."""
    command = [sys.executable, "-m", "neuroflow", "sweep", str(FLAGSHIP), *SAMPLE, "--set", "learner.epochs=20",
               "--set", "learner.batch_size=16", "--param", "learner.learning_rate=log:1e-4..1e-2", "--trials", "3"]
    env = {**os.environ, "NEUROFLOW_RUNS_DIR": str(runs_dir), "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stderr is not None
    with deadline(120):
        for line in process.stderr:
            if "trial #0 epoch 1:" in line:
                break
        for _ in range(presses):
            process.send_signal(sent)
            time.sleep(0.05)
        out, err = process.communicate()
    assert process.returncode == 128 + sent, err
    assert "the running trial stops after its current batch" in err and "Traceback" not in err, err
    (trial,) = study(runs_dir).trials
    run = history(runs_dir)["sweep mnist_cnn #0"]
    if presses == 2:
        assert "quitting now" in err and "#  state" not in out
        # where the second press lands decides how far the first one got
        assert trial.state.name in ("RUNNING", "FAIL") and run.state in ("interrupted", "finished")
        return
    lines = out.splitlines()
    assert lines[0].startswith("trial #0 failed: value=- epochs=") and lines[0].endswith("(interrupted)")
    assert lines[-2].startswith("0  failed") and lines[-1] == "best: none (no trial completed)"
    assert trial.state.name == "FAIL" and trial.user_attrs["message"] == "interrupted"
    assert run.ended is not None and run.stop_reason.startswith("sweep interrupted"), run.stop_reason
