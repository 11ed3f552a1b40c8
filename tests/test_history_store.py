"""The run history store: round trips, edits, migration, and several processes writing at once."""

from __future__ import annotations

import math
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from neuroflow.history import (
    RUNS_DIR_ENV,
    SCHEMA_VERSION,
    HistoryError,
    default_store_path,
    open_store,
)
from neuroflow.history.filesystem import NETWORK_ENV, is_network_folder
from neuroflow.history.schema import migrate, user_version


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection for checking what the store wrote, bypassing its API."""
    return sqlite3.connect(path, isolation_level=None)


def test_record_list_get_round_trip(tmp_path: Path) -> None:
    settings = {"learner": {"epochs": 3, "optimizer": "adam", "shape": [28, 28, 1]}, "reader": {"limit": 500}}
    with open_store(tmp_path / "study.runs.sqlite") as store:
        first = store.record_run(
            workflow="projects/study.workflow", seed=7, settings=settings, devices=["CPU:0"],
            versions={"keras": "3.14.1"}, data_fingerprint="sha256:abc", label="baseline", started=1000.0,
        )
        for epoch, (loss, accuracy) in enumerate([(0.9, 0.6), (0.5, 0.8), (float("nan"), 0.85)], start=1):
            store.add_epoch(first, epoch, {"loss": loss, "val_accuracy": accuracy})
        store.add_batches(first, 1, [(0, {"loss": 1.2}), (1, {"loss": 1.0}), (2, {"loss": 0.95})])
        store.finish_run(
            first, stop_reason="early stopping", model_path="out/model.keras",
            scores={"accuracy": 0.84, "confusion": [[5, 1], [0, 4]]}, ended=1060.0,
        )
        second = store.record_run(workflow="other/x.workflow", started=2000.0)

        run = store.get_run(first)
        assert (run.workflow, run.workflow_name, run.seed, run.label) == ("projects/study.workflow", "study", 7, "baseline")
        assert (run.started, run.ended, run.duration, run.stop_reason) == (1000.0, 1060.0, 60.0, "early stopping")
        assert run.settings == settings and run.devices == ["CPU:0"] and run.versions == {"keras": "3.14.1"}
        assert run.data_fingerprint == "sha256:abc" and run.model_path == "out/model.keras"
        assert run.scores == {"accuracy": 0.84, "confusion": [[5, 1], [0, 4]]}
        assert run.starred is False and run.state == "finished"
        assert run.curves is not None
        assert run.curves["val_accuracy"] == [(1, 0.6), (2, 0.8), (3, 0.85)]
        losses = run.curves["loss"]
        assert losses[:2] == [(1, 0.9), (2, 0.5)] and losses[2][0] == 3 and math.isnan(losses[2][1])
        assert store.batch_curves(first) == {"loss": [(1, 0, 1.2), (1, 1, 1.0), (1, 2, 0.95)]}

        listed = store.list_runs()
        assert [r.id for r in listed] == [second, first]  # newest first
        assert all(r.curves is None for r in listed)
        assert [r.id for r in store.list_runs("projects/study.workflow")] == [first]
        unfinished = store.get_run(second)
        assert unfinished.ended is None and unfinished.state == "running"  # this very process
        assert unfinished.versions["python"]  # the default versions are the installed ones

    with open_store(tmp_path / "study.runs.sqlite") as again:  # and it is all on disk
        assert again.get_run(first).scores == run.scores


def test_label_star_delete(tmp_path: Path) -> None:
    path = tmp_path / "h.runs.sqlite"
    with open_store(path) as store:
        keep = store.record_run(workflow="a.workflow")
        gone = store.record_run(workflow="a.workflow")
        store.add_epoch(gone, 1, {"loss": 1.0})
        store.add_batches(gone, 1, [(0, {"loss": 1.0})])
        store.set_label(keep, "wide layers")
        store.set_starred(keep)
        assert (store.get_run(keep).label, store.get_run(keep).starred) == ("wide layers", True)
        store.set_starred(keep, False)
        assert store.get_run(keep).starred is False

        assert store.delete_run(gone) is True
        assert store.delete_run(gone) is False
        with pytest.raises(HistoryError, match=f"there is no run {gone}"):
            store.get_run(gone)
        with pytest.raises(HistoryError, match="no run"):
            store.set_label(gone, "x")
        with pytest.raises(HistoryError, match="no run"):
            store.add_epoch(gone, 2, {"loss": 0.5})
        assert store.record_run(workflow="a.workflow") > gone  # a deleted id is never reused
    check = raw(path)
    assert check.execute("SELECT COUNT(*) FROM epochs WHERE run_id = ?", (gone,)).fetchone()[0] == 0
    assert check.execute("SELECT COUNT(*) FROM batches WHERE run_id = ?", (gone,)).fetchone()[0] == 0


def test_bad_values_and_files_are_one_line_errors(tmp_path: Path) -> None:
    path = tmp_path / "h.runs.sqlite"
    with open_store(path) as store:
        with pytest.raises(HistoryError, match="settings cannot be stored as JSON"):
            store.record_run(workflow="a.workflow", settings={"learner": {"callback": object()}})
        assert store.list_runs() == []  # nothing half-written

    not_a_database = tmp_path / "notes.runs.sqlite"
    not_a_database.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(HistoryError, match="notes.runs.sqlite"):
        open_store(not_a_database)

    newer = tmp_path / "newer.runs.sqlite"
    connection = raw(newer)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(HistoryError, match="newer NeuroFlow"):
        open_store(newer)
    assert user_version(raw(newer)) == SCHEMA_VERSION + 1  # refused, not changed


def test_a_version_1_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.runs.sqlite"
    old = raw(path)
    migrate(old, str(path), target=1)  # the database exactly as version 1 wrote it
    assert user_version(old) == 1
    old.execute(
        "INSERT INTO runs (workflow, workflow_name, started, ended, stop_reason, duration, seed, settings) "
        "VALUES ('w.workflow', 'w', 10.0, 70.0, 'completed', 60.0, 3, '{\"learner\": {\"epochs\": 2}}')"
    )
    old.execute("INSERT INTO runs (workflow, workflow_name, started) VALUES ('w.workflow', 'w', 80.0)")
    old.executemany("INSERT INTO epochs VALUES (1, ?, 'loss', ?)", [(1, 0.7), (2, 0.4)])
    with pytest.raises(sqlite3.OperationalError):
        old.execute("SELECT * FROM batches")  # version 1 had no per-batch curves
    old.close()

    with open_store(path) as store:
        assert user_version(raw(path)) == SCHEMA_VERSION == 2
        finished, unfinished = sorted(store.list_runs(), key=lambda r: r.id)
        assert finished.settings == {"learner": {"epochs": 2}} and finished.seed == 3
        assert store.get_run(finished.id).curves == {"loss": [(1, 0.7), (2, 0.4)]}
        assert (finished.host, finished.pid, finished.state) == (None, None, "finished")
        assert unfinished.state == "unfinished"  # recorded before runs knew their process
        store.add_batches(finished.id, 1, [(0, {"loss": 0.9})])  # the new table works
        assert store.batch_curves(finished.id) == {"loss": [(1, 0, 0.9)]}
        fresh = store.record_run(workflow="w.workflow")
        assert store.get_run(fresh).pid == os.getpid()
    assert raw(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_default_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RUNS_DIR_ENV, raising=False)
    workflow = tmp_path / "project" / "mnist_cnn.workflow"
    assert default_store_path(workflow) == tmp_path / "project" / "mnist_cnn.runs.sqlite"
    assert default_store_path(None) == Path.home() / ".neuroflow" / "runs" / "untitled.runs.sqlite"
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path / "all-runs"))
    assert default_store_path(workflow) == tmp_path / "all-runs" / "mnist_cnn.runs.sqlite"
    assert default_store_path(None) == tmp_path / "all-runs" / "untitled.runs.sqlite"
    with open_store(default_store_path(workflow)) as store:  # the folder is created on demand
        store.record_run(workflow=workflow)
    assert (tmp_path / "all-runs" / "mnist_cnn.runs.sqlite").is_file()


#: A writer process: waits for the go file, records RUNS runs with epochs and batches, prints
#: its run ids; and checks on the way that the history needs neither TensorFlow nor Qt. After its
#: first run it waits until the other writer has one too, so the two surely write at once.
WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from neuroflow.history import open_store
    database, folder, runs, name, other = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    store = open_store(database)
    (folder / (name + ".ready")).touch()
    def wait_for(path):
        deadline = time.monotonic() + 60
        while not path.exists():
            assert time.monotonic() < deadline, "waited in vain for " + path.name
            time.sleep(0.005)
    wait_for(folder / "go")
    ids = []
    for k in range(runs):
        run = store.record_run(workflow=name + ".workflow", seed=k, settings={"writer": name, "k": k})
        if k == 0:
            (folder / (name + ".first")).touch()
            wait_for(folder / (other + ".first"))
        for epoch in range(1, 6):
            store.add_batches(run, epoch, [(b, {"loss": 1.0 / (epoch + b)}) for b in range(10)])
            store.add_epoch(run, epoch, {"loss": 1.0 / epoch, "accuracy": 1 - 1.0 / (epoch + 1)})
        store.finish_run(run, stop_reason="completed", scores={"accuracy": k / runs})
        ids.append(run)
    store.close()
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "PySide6"))
    assert not heavy, heavy
    print(" ".join(map(str, ids)))
    """
)


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path, journal: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Both journals: WAL on a local disk, the rollback journal a shared (network) folder gets."""
    database, folder = tmp_path / "shared.runs.sqlite", tmp_path / "signals"
    folder.mkdir()
    monkeypatch.setenv(NETWORK_ENV, "1" if journal == "delete" else "0")  # this process reads it too
    env = dict(os.environ)
    writers = {
        name: subprocess.Popen(
            [sys.executable, "-c", WRITER, str(database), str(folder), "50", name, other],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for name, other in (("alpha", "beta"), ("beta", "alpha"))
    }
    ids: dict[str, list[int]] = {}
    try:
        deadline = time.monotonic() + 60
        while not all((folder / f"{name}.ready").exists() for name in writers):  # both opened it
            for process in writers.values():
                assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the writers did not open the history in a minute"
            time.sleep(0.01)
        (folder / "go").touch()
        for name, process in writers.items():
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            ids[name] = [int(word) for word in out.split()]
    finally:
        for process in writers.values():
            if process.poll() is None:
                process.kill()
                process.communicate()

    assert len(ids["alpha"]) == len(ids["beta"]) == 50
    assert len(set(ids["alpha"]) | set(ids["beta"])) == 100
    with open_store(database) as store:
        runs = store.list_runs()
        assert len(runs) == 100 and all(run.state == "finished" for run in runs)
        for name in ("alpha", "beta"):
            mine = sorted((r for r in runs if r.workflow == f"{name}.workflow"), key=lambda r: r.id)
            assert [r.id for r in mine] == sorted(ids[name])
            assert [r.settings for r in mine] == [{"writer": name, "k": k} for k in range(50)]
        for run in runs:
            curves = store.get_run(run.id).curves
            assert curves is not None and [e for e, _ in curves["loss"]] == [1, 2, 3, 4, 5]
            assert len(store.batch_curves(run.id)["loss"]) == 50
        alpha, beta = ([r.started for r in runs if r.workflow == f"{n}.workflow"] for n in ("alpha", "beta"))
        assert min(alpha) < max(beta) and min(beta) < max(alpha), "the writers did not overlap"
    check = raw(database)
    assert check.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] == 100 * 5 * 2
    assert check.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 100 * 5 * 10
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == journal


MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
server:/export/projects /mnt/projects nfs4 rw,relatime 0 0
//nas/class /mnt/class\\040share cifs rw 0 0
tmpfs /mnt/projects/scratch tmpfs rw 0 0
"""


@pytest.mark.parametrize(("folder", "network"), [
    ("/home/ada/digits", False),
    ("/mnt/projects/digits", True),
    ("/mnt/projects", True),
    ("/mnt/projectsX/digits", False),  # a prefix of the name is not the mount
    ("/mnt/projects/scratch/digits", False),  # the deepest mount decides
    ("/mnt/class share/week 3", True),  # spaces in mount points are escaped in the table
])
def test_network_folders_are_told_from_the_mount_table(folder: str, network: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NETWORK_ENV, raising=False)
    assert is_network_folder(folder, MOUNTS) is network
    monkeypatch.setenv(NETWORK_ENV, "1")
    assert is_network_folder("/home/ada/digits", MOUNTS)


def test_a_killed_recorder_leaves_its_run_marked_interrupted(tmp_path: Path) -> None:
    database = tmp_path / "h.runs.sqlite"
    script = textwrap.dedent(
        """
        import os, signal, sys
        from neuroflow.history import open_store
        store = open_store(sys.argv[1])
        run = store.record_run(workflow="w.workflow")
        store.add_epoch(run, 1, {"loss": 0.5})
        os.kill(os.getpid(), signal.SIGKILL)  # no close, no finish: as a crash would leave it
        """
    )
    if os.name != "posix":
        pytest.skip("tells live from dead processes on POSIX only")
    done = subprocess.run([sys.executable, "-c", script, str(database)], capture_output=True, text=True)
    assert done.returncode != 0
    with open_store(database) as store:
        (run,) = store.list_runs()
        assert run.state == "interrupted" and run.ended is None
        assert store.get_run(run.id).curves == {"loss": [(1, 0.5)]}
    assert raw(database).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


OPENER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from neuroflow.history import open_store
    folder = Path(sys.argv[1])
    while not (folder / "go").exists():
        time.sleep(0.002)
    for k in range(25):
        with open_store(folder / f"new{k}.runs.sqlite") as store:
            store.record_run(workflow="w.workflow")
    """
)


def test_processes_opening_a_new_history_at_once_all_get_in(tmp_path: Path) -> None:
    """The race to create the tables and switch to WAL: every opener must wait, not fail."""
    openers = [
        subprocess.Popen([sys.executable, "-c", OPENER, str(tmp_path)], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    try:
        time.sleep(0.5)  # let them import and wait at the start line
        (tmp_path / "go").touch()
        for process in openers:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
    finally:
        for process in openers:
            if process.poll() is None:
                process.kill()
                process.communicate()
    for k in range(25):
        with open_store(tmp_path / f"new{k}.runs.sqlite") as store:
            assert len(store.list_runs()) == 4
        assert user_version(raw(tmp_path / f"new{k}.runs.sqlite")) == SCHEMA_VERSION
