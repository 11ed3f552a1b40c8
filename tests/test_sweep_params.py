"""``neuroflow sweep`` before any trial: --param specs, the metric, one-line refusals (no TensorFlow)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from neuroflow.cli import main
from neuroflow.core import fileformat
from neuroflow.core.errors import NeuroFlowError, SettingError
from neuroflow.sweep.metric import choose_metric
from neuroflow.sweep.params import parse_param

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"


@pytest.fixture(scope="module")
def flagship() -> object:
    return fileformat.load(FLAGSHIP)


def test_every_kind_of_range_is_read_with_the_settings_own_types(flagship: object) -> None:
    log = parse_param(flagship, "learner.learning_rate=log:1e-4..1e-2")
    assert log.describe() == {"name": "learner.learning_rate", "kind": "log", "low": 0.0001, "high": 0.01}
    units = parse_param(flagship, "Dense 100.units=64,128,256")  # the node by its label, as --set
    assert units.node_id == "dense"
    assert units.describe() == {"name": "Dense 100.units", "kind": "choice", "choices": [64, 128, 256]}
    plain_int = parse_param(flagship, "learner.epochs=1..3")
    assert plain_int.describe() == {"name": "learner.epochs", "kind": "int", "low": 1, "high": 3, "step": 1}
    assert plain_int.grid_values() == [1, 2, 3]
    plain_float = parse_param(flagship, "learner.validation_split=0.1..0.5")
    assert plain_float.describe()["kind"] == "float" and plain_float.describe()["step"] is None
    assert plain_float.grid_values() is None  # continuous
    stepped = parse_param(flagship, "learner.validation_split=float:0.1..0.3:0.1")
    assert stepped.grid_values() == [0.1, 0.2, 0.3]
    assert parse_param(flagship, "dense.units=int:32..128:32").grid_values() == [32, 64, 96, 128]
    optimizer = parse_param(flagship, "learner.optimizer=adam,sgd")
    assert [value for _, value in optimizer.choices] == ["adam", "sgd"]
    shuffle = parse_param(flagship, "learner.shuffle=true,off")
    assert [value for _, value in shuffle.choices] == [True, False]


def test_a_tuple_choice_is_stored_as_text_and_comes_back_as_the_tuple(flagship: object) -> None:
    kernel = parse_param(flagship, "conv.kernel_size=3x3,5x5")
    assert kernel.describe()["choices"] == [[3, 3], [5, 5]]  # the JSON form of the setting value
    assert kernel.grid_values() == ["3x3", "5x5"]  # what Optuna stores
    assert kernel.value("5x5") == (5, 5) and kernel.json_value("5x5") == [5, 5]


def test_sampled_values_are_validated_as_the_setting_values_they_become(flagship: object) -> None:
    units = parse_param(flagship, "dense.units=16..64")
    assert units.value(32.0) == 32 and isinstance(units.value(32.0), int)
    rate = parse_param(flagship, "learner.learning_rate=log:1e-4..1e-2")
    assert rate.value(0.003) == 0.003


@pytest.mark.parametrize(("spec", "message"), [
    ("nope.units=1..3", "no node with id or label 'nope'"),
    ("dense.nope=1..3", "Dense has no setting 'nope'"),
    ("dense.units=0..5", "setting 'units': 0 is out of range (1 to 65536)"),
    ("learner.learning_rate=1e-3..20", "setting 'learning_rate': 20.0 is out of range (0 to 10)"),
    ("learner.optimizer=adam,adamw", "'adamw' is not one of adam, sgd"),
    ("dense.units=5..5", "the range 5..5 is empty: LOW must be below HIGH"),
    ("learner.momentum=0.9..0.1", "the range 0.9..0.1 is empty"),
    ("learner.momentum=log:0..0.9", "a log range needs bounds above 0, got 0"),
    ("learner.learning_rate=log:1e-4..1e-2:1e-3", "a log range has no step"),
    ("dense.units=int:1..9:3", "the step 3 does not divide the range 1..9 evenly"),
    ("learner.optimizer=1..3", "a range needs a number setting"),
    ("learner.epochs=float:1..3", "setting 'epochs' takes integers"),
    ("learner.momentum=int:0..1", "takes numbers, not only integers"),
    ("dense.units=64,,128", "empty value in the list"),
    ("dense.units", "expected NODE.SETTING=RANGE"),
    ("dense.units=", "expected NODE.SETTING=RANGE"),
])
def test_a_bad_spec_is_refused_naming_it(flagship: object, spec: str, message: str) -> None:
    with pytest.raises(SettingError) as caught:
        parse_param(flagship, spec)
    text = str(caught.value)
    assert text.startswith("--param ") and message in text, text
    assert "\n" not in text


def test_the_default_metric_follows_what_the_workflow_measures() -> None:
    flow = fileformat.load(FLAGSHIP)
    metric = choose_metric(flow, "learner", None)
    assert (metric.name, metric.direction, metric.epoch_name) == ("val_accuracy", "maximize", "val_accuracy")
    flow.set_setting("learner", "validation_split", 0.0)
    metric = choose_metric(flow, "learner", None)
    assert (metric.name, metric.scorer, metric.epoch_name) == ("test_accuracy", "scorer", "accuracy")
    flow.remove_node("scorer")
    assert choose_metric(flow, "learner", None).name == "accuracy"
    assert choose_metric(flow, "learner", "loss").direction == "minimize"
    with pytest.raises(NeuroFlowError, match="does not report it; it reports loss, accuracy$"):
        choose_metric(flow, "learner", "val_loss")
    with pytest.raises(NeuroFlowError, match="needs a Scorer downstream"):
        choose_metric(flow, "learner", "test_accuracy")


def test_a_trial_value_is_the_best_validation_epoch_or_the_last_training_epoch() -> None:
    flow = fileformat.load(FLAGSHIP)
    epochs = [{"accuracy": 0.5, "val_accuracy": 0.7, "val_loss": 0.9},
              {"accuracy": 0.8, "val_accuracy": 0.6, "val_loss": 1.1}]
    assert choose_metric(flow, "learner", "val_accuracy").value(epochs) == 0.7
    assert choose_metric(flow, "learner", "val_loss").value(epochs) == 0.9
    assert choose_metric(flow, "learner", "accuracy").value([*epochs, {"accuracy": 0.75}]) == 0.75
    with pytest.raises(NeuroFlowError, match="NaN"):
        choose_metric(flow, "learner", "loss").value([{"loss": 1.0}, {"loss": float("nan")}])


def run_sweep(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sweep", str(FLAGSHIP), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("args", "message"), [
    (["--param", "nope.units=1..3"], "--param nope.units=1..3: no node with id or label 'nope'"),
    (["--param", "learner.momentum=log:0..0.9"], "a log range needs bounds above 0"),
    (["--param", "learner.learning_rate=log:1e-4..1e-2", "--sampler", "grid"],
     "--param learner.learning_rate: the grid sampler needs values it can list"),
    (["--param", "learner.learning_rate=0.001..0.01", "--sampler", "grid"], "a float range without a step"),
    (["--param", "writer.overwrite=true,false"], "'Network Writer' (writer) does not run in a trial"),
    (["--param", "dense.units=64,128", "--param", "Dense 100.units=32,64"], "the same setting as --param"),
    (["--param", "dense.units=64,128", "--metric", "top5_accuracy"], "the Network Learner does not report it"),
    (["--param", "dense.units=64,128", "--set", "dense.units=0"], "--set dense.units=0: setting 'units'"),
])
def test_the_command_refuses_in_one_line_before_any_trial(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    storage = tmp_path / "study.sqlite"
    code, out, err = run_sweep(capsys, *args, "--storage", f"sqlite:///{storage}")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuroflow: error: ") and message in lines[0], err
    assert not storage.exists()  # refused before a study was made


def test_with_json_an_error_is_an_event_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code, out, err = run_sweep(capsys, "--param", "dense.units=0..5", "--json")
    assert code == 1
    (line,) = out.splitlines()
    event = json.loads(line)
    assert event["event"] == "error" and "setting 'units': 0 is out of range" in event["message"]
    assert err.count("\n") == 1 and err.startswith("neuroflow: error: --param dense.units=0..5")


def test_only_tensorflows_note_about_retracing_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from neuroflow.sweep.trial import quiet_retracing

    quiet_retracing()
    quiet_retracing()  # once is enough; a second call adds nothing
    logger = logging.getLogger("tensorflow")
    # Once TensorFlow is imported (earlier tests) its logger stops propagating and may sit at
    # ERROR: listen on the logger itself, at WARNING, whatever ran before.
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="tensorflow"):
            logger.warning("5 out of the last 9 calls to <function f> triggered tf.function retracing. Tracing is ...")
            logger.warning("something else worth seeing")
    finally:
        logger.removeHandler(caplog.handler)
    messages = {record.getMessage() for record in caplog.records}  # seen once or twice (propagated)
    assert messages == {"something else worth seeing"}
    assert len(logger.filters) == 1


def test_a_study_refuses_a_sweep_that_would_mix_other_measurements(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Values of another metric, direction or kind of range cannot be compared in one study."""
    import optuna
    from optuna.distributions import FloatDistribution

    storage = f"sqlite:///{tmp_path / 'study.sqlite'}"
    earlier = optuna.create_study(storage=storage, study_name="mnist_cnn", direction="maximize")
    earlier.set_user_attr("metric", "val_accuracy")
    earlier.add_trial(optuna.trial.create_trial(
        params={"learner.learning_rate": 0.001}, value=0.9,
        distributions={"learner.learning_rate": FloatDistribution(1e-4, 1e-2, log=True)}))
    capsys.readouterr()  # Optuna's own note about the new study
    for args, message in [
        (["--metric", "test_accuracy"], "optimises val_accuracy, not test_accuracy: use --metric val_accuracy"),
        (["--metric", "val_loss"], "is set to maximize, and --metric val_loss would minimize"),
        (["--param", "learner.learning_rate=0.001,0.01"],
         "--param learner.learning_rate: the study 'mnist_cnn' in sqlite:///"),
    ]:
        code, out, err = run_sweep(capsys, "--param", "dense.units=64,128", *args, "--storage", storage)
        assert code == 1 and out == "", err
        (line,) = err.splitlines()
        assert line.startswith("neuroflow: error: ") and message in line, line
    assert "already sampled it from another kind of range (log float 0.0001..0.01)" in line
    assert len(optuna.load_study(study_name="mnist_cnn", storage=storage).trials) == 1  # nothing added


def test_processes_opening_a_new_study_file_at_once_all_succeed(tmp_path: Path) -> None:
    """Left to Optuna alone, two of four processes creating one new SQLite storage often fail
    ('table studies already exists', 'UNIQUE constraint failed: alembic_version...')."""
    import subprocess

    script = ("import sys, optuna; from neuroflow.sweep.engine import _open_storage; "
              "optuna.logging.set_verbosity(optuna.logging.ERROR); "
              "optuna.create_study(storage=_open_storage(sys.argv[1]), study_name='s', load_if_exists=True)")
    for attempt in range(3):
        url = f"sqlite:///{tmp_path / f'new{attempt}.sqlite'}"
        processes = [subprocess.Popen([sys.executable, "-c", script, url], stderr=subprocess.PIPE, text=True)
                     for _ in range(4)]
        errors = [process.communicate(timeout=120)[1] for process in processes]
        assert [process.returncode for process in processes] == [0] * 4, errors


def test_a_storage_that_cannot_be_used_is_one_line_without_its_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for storage, message in [
        (f"sqlite:///{blocker / 'study.sqlite'}", "cannot create its folder"),
        ("nosuchdb://host/db", "cannot open it (Can't load plugin"),
        ("mysql://someone:secret@127.0.0.1:9/db", "--storage mysql://someone:***@127.0.0.1:9/db: "),
    ]:
        code, out, err = run_sweep(capsys, "--param", "dense.units=64,128", "--storage", storage)
        assert code == 1 and out == "", err
        (line,) = err.splitlines()
        assert line.startswith("neuroflow: error: ") and message in line and "secret" not in line, line
