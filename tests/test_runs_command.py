"""``neuroflow runs``: the run history on the command line (list, show, compare, edit, CSV)."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from run_histories import FLAGSHIP, make_history

from neuroflow.cli import main
from neuroflow.history import open_store
from neuroflow.history.export import run_table
from neuroflow.history.render import list_lines


@pytest.fixture(autouse=True)
def _terminal_of_100_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The list fits the terminal: the tests read it at the width a pipe gets (100 columns),
    whatever runs them (a test worker process may have a COLUMNS of its own)."""
    monkeypatch.setenv("COLUMNS", "100")


@pytest.fixture()
def history(tmp_path: Path) -> Path:
    return make_history(tmp_path)


def runs(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main(["runs", *(str(a) for a in args)])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("neuroflow: error: ")
    return lines[0]


def test_the_list_shows_differing_settings_newest_first(capsys, history: Path) -> None:
    code, out, err = runs(capsys, history, "--runs-dir", history.parent)
    assert code == 0, err
    header, *rows = out.splitlines()
    assert "learning_rate" in header and "units" in header and "test acc" in header
    assert [row.split()[0] for row in rows] == ["3", "2", "1"]
    assert "0.01" in rows[0] and "64" in rows[0] and "0.8800" in rows[0]
    assert "0.001" in rows[2] and "0.9100" in rows[2] and "12.5s" in rows[2]
    assert "seed" not in header  # the same in every run: not a column


def test_the_list_fits_narrow_terminals_and_says_what_it_left_out(history: Path) -> None:
    with open_store(history.parent / "study.runs.sqlite") as store:
        listed = store.list_runs()
    table = run_table(listed)
    for width in (70, 80, 120):
        lines = list_lines(table, width)
        assert all(len(line) <= width for line in lines), (width, lines)
    wide = list_lines(table, 120)
    assert "Network Learner.learning_rate" in wide[0] and "Dense 100.units" in wide[0]
    narrow = list_lines(table, 80)
    assert narrow[-1].startswith("(") and "not shown" in narrow[-1], narrow


def test_show_prints_everything_recorded(capsys, history: Path) -> None:
    code, out, err = runs(capsys, history, "--runs-dir", history.parent, "--show", 2)
    assert code == 0, err
    assert out.startswith("run 2\n")
    for expected in ("seed         42", "training: 600 images, sha256 aaaa", "Network Learner (learner)",
                     "learning_rate", "0.003", "cohen_kappa", "0.8900", "completed", "12.5s"):
        assert expected in out, expected
    epochs = out.split("epochs\n")[1].splitlines()
    assert epochs[0].split() == ["epoch", "loss", "val_accuracy"]
    assert epochs[2].split() == ["2", "0.5030", "0.8900"]
    code, out, _ = runs(capsys, history, "--runs-dir", history.parent, "--show", 2, "--json")
    data = json.loads(out)
    assert data["id"] == 2 and data["curves"]["loss"] == [[1, 1.003], [2, 0.503]]


def test_compare_shows_the_diff_and_the_metrics(capsys, history: Path) -> None:
    code, out, err = runs(capsys, history, "--runs-dir", history.parent, "--compare", 1, 3)
    assert code == 0, err
    lines = out.splitlines()
    rate = next(line for line in lines if "learning_rate" in line)
    assert rate.split()[-2:] == ["0.001", "0.01"]
    units = next(line for line in lines if ".units" in line)
    assert units.split()[-2:] == ["100", "64"]
    test = next(line for line in lines if line.strip().startswith("test accuracy"))
    assert test.split()[-2:] == ["0.9100", "0.8800"]
    assert "data: the same fingerprint in every run" in out


def test_compare_says_when_the_data_differ(capsys, history: Path) -> None:
    with open_store(history.parent / "study.runs.sqlite") as store:
        other = store.record_run(workflow=history.resolve(), data_fingerprint="training: 10 images, sha256 bbbb")
    code, out, _ = runs(capsys, history, "--runs-dir", history.parent, "--compare", 1, other)
    assert code == 0
    assert "the data fingerprints differ" in out


def test_label_star_and_delete(capsys, history: Path) -> None:
    where = ("--runs-dir", history.parent)
    assert runs(capsys, history, *where, "--label", 1, "baseline")[1] == "run 1 labelled 'baseline'\n"
    assert runs(capsys, history, *where, "--star", 2)[0] == 0
    code, out, _ = runs(capsys, history, *where)
    row = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "baseline" in row["1"] and " * " in row["2"] and " * " not in row["1"]
    assert runs(capsys, history, *where, "--unstar", 2)[0] == 0
    assert runs(capsys, history, *where, "--delete", 3)[0] == 0
    code, out, _ = runs(capsys, history, *where, "--json")
    listed = {run["id"]: run for run in json.loads(out)["runs"]}
    assert set(listed) == {1, 2}
    assert listed[1]["label"] == "baseline" and not listed[2]["starred"]


@pytest.mark.parametrize("args", [("--show", "abc"), ("--show", "0"), ("--show", "99"), ("--delete", "99"),
                                  ("--label", "x", "new"), ("--star", "99"), ("--compare", "1", "99"),
                                  ("--only", "7")])
def test_bad_ids_are_one_line_errors(capsys, history: Path, args: tuple[str, ...]) -> None:
    code, out, err = runs(capsys, history, "--runs-dir", history.parent, *args)
    assert code == 1
    one_error_line(err)


def test_csv_files_load_back(capsys, history: Path, tmp_path: Path) -> None:
    table, curves = tmp_path / "runs.csv", tmp_path / "curves.csv"
    code, _, err = runs(capsys, history, "--runs-dir", history.parent, "--csv", table, "--curves-csv", curves,
                        "--only", 1, 3)
    assert code == 0, err
    with table.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["id"] for row in rows] == ["3", "1"]
    assert rows[0]["learner.learning_rate"] == "0.01" and rows[1]["dense.units"] == "100"
    assert float(rows[0]["test_accuracy"]) == 0.88 and rows[0]["test_cohen_kappa"]
    assert float(rows[1]["best_val_accuracy"]) == pytest.approx(0.86)
    with curves.open(newline="") as stream:
        points = list(csv.DictReader(stream))
    assert len(points) == 2 * 2 * 2  # runs x epochs x metrics
    assert {"run_id": "1", "epoch": "2", "metric": "loss", "value": "0.501"} in points


def test_an_empty_or_missing_history_says_so(capsys, tmp_path: Path) -> None:
    code, out, _ = runs(capsys, tmp_path / "never.workflow", "--runs-dir", tmp_path)
    assert code == 0 and len(out.splitlines()) == 1 and "no runs recorded yet" in out
    assert not (tmp_path / "never.runs.sqlite").exists()  # looking does not create a history
    open_store(tmp_path / "empty.runs.sqlite").close()
    code, out, _ = runs(capsys, tmp_path / "empty.workflow", "--runs-dir", tmp_path)
    assert code == 0 and len(out.splitlines()) == 1 and "no runs recorded yet" in out


def test_a_file_that_is_not_a_history_is_refused_untouched(capsys, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.runs.sqlite"
    garbage.write_text("not a database, just text\n" * 100)
    code, _, err = runs(capsys, garbage)
    assert code == 1 and "not a run history" in one_error_line(err)
    other = tmp_path / "other.runs.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    db.close()
    code, _, err = runs(capsys, other)
    assert code == 1 and "not a run history" in one_error_line(err)
    with sqlite3.connect(other) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert tables == {"notes"}


def test_runs_of_another_workflow_with_the_same_name_are_left_out(capsys, history: Path, tmp_path: Path) -> None:
    with open_store(tmp_path / "study.runs.sqlite") as store:
        store.record_run(workflow=tmp_path / "elsewhere" / "study.workflow")
    code, out, _ = runs(capsys, history, "--runs-dir", history.parent)
    assert [line.split()[0] for line in out.splitlines()[1:4]] == ["3", "2", "1"]
    assert "1 run of other workflows" in out
    code, out, _ = runs(capsys, history, "--runs-dir", history.parent, "--all")
    assert out.splitlines()[1].split()[0] == "4"


@pytest.mark.slow
def test_two_runs_with_different_settings_are_listed_and_compared(tmp_path: Path) -> None:
    """The issue's must-show: two `neuroflow run` calls, then `neuroflow runs`, as a user types them."""
    env = {**os.environ, "COLUMNS": "120"}

    def neuroflow(*args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "neuroflow", *map(str, args)], capture_output=True,
                              text=True, env=env, timeout=600, check=False)

    sample = ("--set", "MNIST train.limit=600", "--set", "test_reader.limit=200", "--set", "learner.epochs=1",
              "--set", f"writer.path={tmp_path / 'model.keras'}", "--runs-dir", tmp_path, "--quiet")
    for rate in ("0.001", "0.003"):
        done = neuroflow("run", FLAGSHIP, *sample, "--set", f"learner.learning_rate={rate}")
        assert done.returncode == 0, done.stderr
    listed = neuroflow("runs", FLAGSHIP, "--runs-dir", tmp_path)
    assert listed.returncode == 0, listed.stderr
    header, newer, older = listed.stdout.splitlines()
    assert "Network Learner.learning_rate" in header and "test acc" in header
    assert newer.split()[0] == "2" and "0.003" in newer
    assert older.split()[0] == "1" and "0.001" in older
    with open_store(tmp_path / "mnist_cnn.runs.sqlite") as store:
        tests = {run.id: run.scores["accuracy"] for run in store.list_runs()}
    assert f"{tests[2]:.4f}" in newer and f"{tests[1]:.4f}" in older
    compared = neuroflow("runs", FLAGSHIP, "--runs-dir", tmp_path, "--compare", 1, 2)
    assert compared.returncode == 0, compared.stderr
    rate = next(line for line in compared.stdout.splitlines() if "learning_rate" in line)
    assert rate.split()[-2:] == ["0.001", "0.003"]
    assert "test accuracy" in compared.stdout and "data: the same fingerprint" in compared.stdout


def test_a_node_that_changed_type_shows_its_short_type_name(capsys, history: Path) -> None:
    with open_store(history.parent / "study.runs.sqlite") as store:
        settings = store.get_run(1).settings
        settings["dense"] = {**settings["dense"], "type": "neuroflow.layers.dropout", "settings": {"rate": 0.5}}
        store.record_run(workflow=history.resolve(), settings=settings)
    code, out, _ = runs(capsys, history, "--runs-dir", history.parent, "--only", 1, 4)
    header, newest, oldest = out.splitlines()
    assert "Dense 100.type" in header
    assert "dropout" in newest.split() and "dense" in oldest.split()


def test_json_is_strict_even_with_nan_values(capsys, history: Path) -> None:
    with open_store(history.parent / "study.runs.sqlite") as store:
        run = store.record_run(workflow=history.resolve())
        store.add_epoch(run, 1, {"loss": float("nan"), "val_accuracy": 0.5})
        store.finish_run(run, stop_reason="completed", scores={"accuracy": 0.5, "macro_auc": float("nan")})
    for args in (("--show", run), ("--compare", 1, run), ()):
        code, out, err = runs(capsys, history, "--runs-dir", history.parent, "--json", *args)
        assert code == 0, err
        json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON output"))
    shown = json.loads(runs(capsys, history, "--runs-dir", history.parent, "--json", "--show", run)[1])
    assert shown["curves"]["loss"] == [[1, None]] and shown["scores"]["macro_auc"] is None
