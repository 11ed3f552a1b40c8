"""Run histories made with the store API, for the tests of ``neuroflow runs`` and its exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuroflow.core.fileformat import load
from neuroflow.history import open_store

FLAGSHIP = Path(__file__).resolve().parents[1] / "workflows" / "mnist_cnn.workflow"

#: (learning rate, dense units, test accuracy) of the three runs of :func:`make_history`.
RUNS = [(0.001, 100, 0.91), (0.003, 100, 0.94), (0.01, 64, 0.88)]


def recorded(workflow: Any, **changes: Any) -> dict[str, Any]:
    """The settings record a recorder makes of ``workflow``, with ``node__setting=value`` changes."""
    record = {
        nid: {"type": item.type_id, "version": item.node.version, "settings": item.node.settings_json(),
              "title": item.label}
        for nid, item in workflow.nodes.items()
    }
    for key, value in changes.items():
        node_id, name = key.split("__")
        record[node_id]["settings"][name] = value
    return record


def make_history(folder: Path) -> Path:
    """A copy of the flagship as ``folder/study.workflow`` and a history of three finished runs of
    it beside it (learning rate and units vary; two epochs each); returns the workflow's path.
    The second run wrote a model file (a stand-in, ``folder/model-2.keras``)."""
    workflow = folder / "study.workflow"
    workflow.write_bytes(FLAGSHIP.read_bytes())
    flow = load(workflow)
    model = folder / "model-2.keras"
    model.write_bytes(b"a stand-in for a model file")
    with open_store(folder / "study.runs.sqlite") as store:
        for number, (rate, units, test) in enumerate(RUNS):
            run = store.record_run(workflow=workflow.resolve(), seed=42, started=1_000_000 + number * 60,
                                   settings=recorded(flow, learner__learning_rate=rate, dense__units=units),
                                   data_fingerprint="training: 600 images, sha256 aaaa")
            for epoch in (1, 2):
                store.add_epoch(run, epoch, {"loss": 1.0 / epoch + rate, "val_accuracy": test - 0.1 / epoch})
            store.finish_run(run, stop_reason="completed", duration=12.5,
                             model_path=model if number == 1 else None,
                             scores={"accuracy": test, "cohen_kappa": test - 0.05, "count": 500})
    return workflow
