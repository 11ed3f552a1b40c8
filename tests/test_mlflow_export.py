"""``neuroflow runs export FILE --mlflow URI``: the run history in an MLflow tracking store.

Runs against a local folder store with whatever MLflow is installed (the test extra brings
mlflow-skinny); without MLflow only the install advice is tested.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from run_histories import RUNS, make_history

from neuroflow.cli import main
from neuroflow.history import open_store


@pytest.fixture()
def history(tmp_path: Path) -> Path:
    return make_history(tmp_path)


@pytest.fixture()
def folder_store_allowed_only_by_the_export() -> Iterator[None]:
    """The export allows MLflow's folder store for its process; keep that out of other tests."""
    before = os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
    yield
    os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
    if before is not None:
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = before


def exported(uri: Path) -> dict[str, object]:
    """The MLflow runs in ``uri`` by their neuroflow run id."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=str(uri))
    experiment = client.get_experiment_by_name("study")
    assert experiment is not None
    return {run.data.tags["neuroflow.run_id"]: run for run in client.search_runs([experiment.experiment_id])}


@pytest.mark.usefixtures("folder_store_allowed_only_by_the_export")
def test_every_run_becomes_one_mlflow_run_once(capsys, history: Path, tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    uri = tmp_path / "mlruns"
    code = main(["runs", "export", str(history), "--runs-dir", str(tmp_path), "--mlflow", str(uri)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "3 runs exported, 0 already there" in out
    runs = exported(uri)
    assert sorted(runs) == ["1", "2", "3"]
    client = MlflowClient(tracking_uri=str(uri))
    for number, (rate, units, test) in enumerate(RUNS, start=1):
        run = runs[str(number)]
        assert run.info.status == "FINISHED"
        assert run.data.params["learner.learning_rate"] == str(rate)
        assert run.data.params["dense.units"] == str(units) and run.data.params["seed"] == "42"
        assert run.data.metrics["test_accuracy"] == pytest.approx(test)
        assert run.data.tags["neuroflow.stop_reason"] == "completed"
        assert run.data.tags["neuroflow.data_fingerprint"] == "training: 600 images, sha256 aaaa"
        assert run.data.tags["neuroflow.workflow"] == str(history.resolve())
        losses = client.get_metric_history(run.info.run_id, "loss")
        assert sorted((m.step, m.value) for m in losses) == [(1, pytest.approx(1 + rate)),
                                                            (2, pytest.approx(0.5 + rate))]
    artifacts = [item.path for item in client.list_artifacts(runs["2"].info.run_id, "model")]
    assert artifacts == ["model/model-2.keras"]
    assert client.list_artifacts(runs["1"].info.run_id, "model") == []

    # Again, after a label: no second copy, the new label in the tags, the curves not doubled.
    with open_store(tmp_path / "study.runs.sqlite") as store:
        store.set_label(1, "baseline")
    code = main(["runs", str(history), "--runs-dir", str(tmp_path), "--export-mlflow", str(uri)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "0 runs exported, 3 already there" in out
    again = exported(uri)
    assert sorted(again) == ["1", "2", "3"]
    assert again["1"].data.tags["neuroflow.label"] == "baseline"
    assert len(client.get_metric_history(again["1"].info.run_id, "loss")) == 2


@pytest.mark.usefixtures("folder_store_allowed_only_by_the_export")
def test_only_the_runs_asked_for(capsys, history: Path, tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    uri = tmp_path / "mlruns"
    code = main(["runs", str(history), "--runs-dir", str(tmp_path), "--export-mlflow", str(uri), "--only", "2"])
    assert code == 0, capsys.readouterr().err
    assert sorted(exported(uri)) == ["2"]


def test_without_mlflow_the_command_says_how_to_install_it(capsys, history: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    code = main(["runs", "export", str(history), "--runs-dir", str(tmp_path), "--mlflow", str(tmp_path / "m")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 1 and len(err) == 1
    assert "pip install neuroflow[mlflow]" in err[0]


@pytest.mark.usefixtures("folder_store_allowed_only_by_the_export")
def test_without_uri_mlflow_own_default_applies(capsys, history: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mlflow")
    uri = tmp_path / "from-the-environment"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", str(uri))
    # `--mlflow FILE`: the optional URI is left out and the file follows the flag.
    code = main(["runs", "export", "--runs-dir", str(tmp_path), "--mlflow", str(history)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert str(uri) in out and "3 runs exported" in out
    assert sorted(exported(uri)) == ["1", "2", "3"]
