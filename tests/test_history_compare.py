"""Comparing runs and restoring a run's settings (neuroflow.history.compare)."""

from __future__ import annotations

from pathlib import Path

from run_histories import recorded

from neuroflow.core.fileformat import load
from neuroflow.history import open_store
from neuroflow.history.compare import (
    ABSENT,
    differing_keys,
    headline_scores,
    key_title,
    restoration,
    settings_diff,
)

FLAGSHIP = Path(__file__).resolve().parents[1] / "workflows" / "mnist_cnn.workflow"


def test_only_the_settings_that_differ_are_compared(tmp_path: Path) -> None:
    flow = load(FLAGSHIP)
    with open_store(tmp_path / "h.runs.sqlite") as store:
        a = store.record_run(workflow=FLAGSHIP, settings=recorded(flow))
        b = store.record_run(workflow=FLAGSHIP, settings=recorded(flow, learner__learning_rate=0.01,
                                                                   train_reader__data_folder="elsewhere"))
        store.add_epoch(b, 1, {"val_accuracy": 0.5, "val_loss": 2.0})
        store.add_epoch(b, 2, {"val_accuracy": 0.9, "val_loss": 0.4})
        store.finish_run(b, stop_reason="completed", scores={"accuracy": 0.93})
        runs = [store.get_run(a), store.get_run(b)]
        listed = {run.id: run for run in store.list_runs()}
    diff = settings_diff(runs)
    assert [(d.key, d.values) for d in diff] == [("learner.learning_rate", (0.001, 0.01))]
    assert differing_keys(runs) == ["learner.learning_rate"]
    # A moved data folder is not a different experiment, unless asked for.
    assert "train_reader.data_folder" in [d.key for d in settings_diff(runs, include_paths=True)]
    assert key_title(runs[0], "learner.learning_rate") == f"{flow.nodes['learner'].label}.learning_rate"
    assert headline_scores(listed[b]) == {"best_val_accuracy": 0.9, "best_val_loss": 0.4,
                                          "best_accuracy": None, "test_accuracy": 0.93}
    assert headline_scores(listed[a])["test_accuracy"] is None


def test_a_node_that_changed_type_shows_as_one_difference(tmp_path: Path) -> None:
    flow = load(FLAGSHIP)
    other = recorded(flow)
    other["dense"]["type"] = "neuroflow.layers.dropout"
    del other["conv"]
    with open_store(tmp_path / "h.runs.sqlite") as store:
        runs = [store.get_run(store.record_run(workflow=None, settings=s)) for s in (recorded(flow), other)]
    keys = {d.key: d.values for d in settings_diff(runs)}
    assert keys["dense.type"] == ("neuroflow.layers.dense", "neuroflow.layers.dropout")
    assert not any(k.startswith("dense.") and k != "dense.type" for k in keys)
    assert keys["conv.type"][1] is ABSENT and "conv.filters" not in keys  # a missing node: one line


def test_restoring_gives_the_changes_and_says_what_it_skips(tmp_path: Path) -> None:
    flow = load(FLAGSHIP)
    settings = recorded(flow, learner__learning_rate=0.0042, dense__units=48)
    settings["ghost"] = {"type": "neuroflow.layers.dense", "version": 1, "settings": {"units": 3}, "title": "Old"}
    settings["conv"]["type"] = "neuroflow.layers.max_pooling2d"
    settings["learner"]["settings"]["epochs"] = -1  # refused today: out of range
    with open_store(tmp_path / "h.runs.sqlite") as store:
        run = store.get_run(store.record_run(workflow=None, settings=settings))
    plan = restoration(flow, run)
    assert sorted(plan.changes) == [("dense", "units", 48), ("learner", "learning_rate", 0.0042)]
    assert any(line.startswith("Old: not in the workflow") for line in plan.skipped)
    assert any("now a Conv2D" in line for line in plan.skipped)
    assert any("epochs" in line and "out of range" in line for line in plan.skipped)
