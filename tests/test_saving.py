"""Saving workflows, reports and models: modes kept, links written through, nothing half-written,
no temporary file left behind, and errors that name the user's file and the reason."""

from __future__ import annotations

import errno
import json
import os
import stat
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from toy_nodes import toy_registry

from neuroflow.core import atomic, fileformat
from neuroflow.core.data import TrainedModel
from neuroflow.core.errors import DataError, NeuroFlowError
from neuroflow.core.workflow import Workflow
from neuroflow.training.model_files import save_model


def sample(count: int = 7) -> Workflow:
    workflow = Workflow(toy_registry())
    workflow.add_node("test.source", node_id="src", label="Reader", position=(10, 20), settings={"count": count})
    workflow.add_node("test.double", node_id="d1", position=(200, 20))
    workflow.connect("src", "data", "d1", "data")
    return workflow


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or ".tmp" in p.name)


@pytest.fixture
def umask():
    """Set the umask for one test and restore it after."""
    saved = os.umask(0o022)
    os.umask(saved)

    def set_umask(value: int) -> None:
        os.umask(value)

    yield set_umask
    os.umask(saved)


# -- modes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kept", [0o644, 0o600, 0o640, 0o664])
def test_saving_keeps_the_existing_files_mode(tmp_path: Path, kept: int, umask) -> None:
    umask(0o077)  # a umask that would give 0600 to a new file must not matter for an existing one
    path = tmp_path / "study.workflow"
    fileformat.save(sample(), path)
    os.chmod(path, kept)
    fileformat.save(sample(9), path)
    assert mode(path) == kept
    assert fileformat.load(path, toy_registry()).nodes["src"].node["count"] == 9


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_follows_the_umask(tmp_path: Path, umask, mask: int, expected: int) -> None:
    umask(mask)
    path = tmp_path / "new.workflow"
    fileformat.save(sample(), path)
    assert mode(path) == expected
    report = tmp_path / "report.json"
    fileformat.atomic_write_text(report, "{}\n")
    assert mode(report) == expected


# -- links -------------------------------------------------------------------------------------
def test_saving_through_a_symlink_updates_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    real_folder = tmp_path / "projects"
    real_folder.mkdir()
    target = real_folder / "study.workflow"
    fileformat.save(sample(), target)
    os.chmod(target, 0o640)
    link = tmp_path / "link.workflow"
    link.symlink_to(target)
    chain = tmp_path / "chain.workflow"  # a link to the link
    chain.symlink_to(link)

    fileformat.save(sample(11), link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert fileformat.load(target, toy_registry()).nodes["src"].node["count"] == 11
    assert mode(target) == 0o640
    fileformat.save(sample(12), chain)
    assert chain.is_symlink() and link.is_symlink()
    assert fileformat.load(target, toy_registry()).nodes["src"].node["count"] == 12
    assert leftovers(tmp_path) == [] and leftovers(real_folder) == []


def test_a_dangling_link_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.workflow"
    link.symlink_to(tmp_path / "later.workflow")
    fileformat.save(sample(), link)
    assert link.is_symlink()
    assert (tmp_path / "later.workflow").is_file()


# -- failures ----------------------------------------------------------------------------------
def _fail_with(code: int) -> Any:
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize(
    ("step", "code", "reason"),
    [
        ("replace", errno.ENOSPC, "the disk is full"),
        ("fsync", errno.EIO, "the disk reported an input/output error"),
        ("fsync", errno.EDQUOT, "the disk quota is used up"),
        ("replace", errno.EROFS, "is on a read-only disk"),
        ("open", errno.EACCES, "permission denied: the folder "),
    ],
)
def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, code: int, reason: str
) -> None:
    path = tmp_path / "study.workflow"
    fileformat.save(sample(), path)
    before = path.read_bytes()
    monkeypatch.setattr(atomic.os, step, _fail_with(code))
    with pytest.raises(NeuroFlowError) as info:
        fileformat.save(sample(99), path)
    monkeypatch.undo()
    message = str(info.value)
    assert message.startswith(f"cannot save {path}: ")
    assert reason in message
    assert ".tmp" not in message and "Errno" not in message and "\n" not in message
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_an_interrupted_save_removes_its_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "study.workflow"
    fileformat.save(sample(), path)
    before = path.read_bytes()

    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        fileformat.save(sample(99), path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    path = folder / "study.workflow"
    fileformat.save(sample(), path)
    before = path.read_bytes()
    folder.chmod(0o555)
    try:
        with pytest.raises(NeuroFlowError, match=f"cannot save {path}: permission denied: the folder {folder}"):
            fileformat.save(sample(99), path)
    finally:
        folder.chmod(0o755)
    assert path.read_bytes() == before
    assert leftovers(folder) == []


def test_unsavable_targets_get_one_line(tmp_path: Path) -> None:
    with pytest.raises(NeuroFlowError, match="cannot save .*nowhere/x.workflow: the folder .*nowhere does not exist"):
        fileformat.save(sample(), tmp_path / "nowhere" / "x.workflow")
    (tmp_path / "dir.workflow").mkdir()
    with pytest.raises(NeuroFlowError, match="cannot save .*dir.workflow: that is a folder"):
        fileformat.save(sample(), tmp_path / "dir.workflow")


def test_names_up_to_the_systems_limit_save_and_longer_ones_are_named(tmp_path: Path) -> None:
    longest = tmp_path / ("s" * 246 + ".workflow")  # 255 bytes: the temporary name must be shorter
    fileformat.save(sample(), longest)
    assert fileformat.load(longest, toy_registry()).nodes["src"].node["count"] == 7
    assert leftovers(tmp_path) == []
    with pytest.raises(NeuroFlowError, match=r"cannot save .*s\.workflow: the file name is too long$"):
        fileformat.save(sample(), tmp_path / ("s" * 247 + ".workflow"))
    with pytest.raises(NeuroFlowError, match="the file name contains a NUL character"):
        fileformat.save(sample(), tmp_path / "a\x00b.workflow")
    assert leftovers(tmp_path) == []


def test_text_that_is_not_unicode_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")
    with pytest.raises(NeuroFlowError, match=r"cannot save .*report.json: the text is not valid Unicode"):
        fileformat.atomic_write_text(path, '{"name": "\ud800"}')
    assert path.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_a_non_finite_position_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "study.workflow"
    fileformat.save(sample(), path)
    before = path.read_bytes()
    workflow = sample()
    workflow.nodes["d1"].position = (float("nan"), 0.0)
    with pytest.raises(NeuroFlowError, match=r"cannot save: the position of 'Double' \(d1\) is not finite \(nan, 0.0\)"):
        fileformat.save(workflow, path)
    workflow.nodes["d1"].position = (0.0, float("inf"))
    with pytest.raises(NeuroFlowError, match="is not finite"):
        fileformat.dumps(workflow)
    assert path.read_bytes() == before


# -- stale temporary files ---------------------------------------------------------------------
def _temp(folder: Path, name: str, age: float) -> Path:
    path = folder / name
    path.write_text("half a save")
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def test_stale_temporary_files_of_the_target_are_removed_by_the_next_save(tmp_path: Path) -> None:
    path = tmp_path / "study.workflow"
    dead_pid = 2**22 + 12345  # above Linux's largest pid: no such process
    stale = _temp(tmp_path, f".study.workflow.{dead_pid}-0badf00d.tmp", age=600)
    stale_old_style = _temp(tmp_path, ".study.workflow.a1b2c3d4.tmp", age=600)
    fresh = _temp(tmp_path, f".study.workflow.{dead_pid}-12345678.tmp", age=5)  # maybe still being written
    alive = _temp(tmp_path, f".study.workflow.{os.getppid()}-abcdef01.tmp", age=600)  # its process still runs
    other = _temp(tmp_path, f".other.workflow.{dead_pid}-0badf00d.tmp", age=600)  # another file's
    longer = _temp(tmp_path, f".study.workflow.bak.{dead_pid}-0badf00d.tmp", age=600)  # study.workflow.bak's

    fileformat.save(sample(), path)
    assert not stale.exists() and not stale_old_style.exists()
    assert fresh.exists() and alive.exists() and other.exists() and longer.exists()
    assert fileformat.load(path, toy_registry()).nodes["src"].node["count"] == 7


# -- model files -------------------------------------------------------------------------------
class _FakeKerasModel:
    """Writes what ``model.save`` writes for a ``.keras`` file, without TensorFlow."""

    input_shape = (None, 4, 4, 1)
    output_shape = (None, 2)

    def __init__(self, fail: BaseException | None = None) -> None:
        self.fail = fail

    def save(self, target: str) -> None:
        with zipfile.ZipFile(target, "w") as archive:
            archive.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": []}}))
            if self.fail is not None:
                raise self.fail


def _trained(fail: BaseException | None = None) -> TrainedModel:
    return TrainedModel(_FakeKerasModel(fail), ("a", "b"), {"loss": [1.0, float("nan")]})


def test_model_saves_keep_mode_and_links_and_leave_nothing_on_failure(tmp_path: Path) -> None:
    real = tmp_path / "models"
    real.mkdir()
    target = real / "net.keras"
    target.write_bytes(b"the previous model")
    os.chmod(target, 0o640)
    link = tmp_path / "net.keras"
    link.symlink_to(target)

    save_model(_trained(), str(link), "keras", overwrite=True)
    assert link.is_symlink()
    assert mode(target) == 0o640
    with zipfile.ZipFile(target) as archive:
        assert json.loads(archive.read("neuroflow.json"))["class_names"] == ["a", "b"]
    before = target.read_bytes()

    with pytest.raises(DataError) as info:
        save_model(_trained(OSError(errno.ENOSPC, "No space left on device")), str(link), "keras", overwrite=True)
    assert str(info.value) == f"could not save the model to '{link}': the disk is full"
    with pytest.raises(DataError) as info:
        save_model(_trained(ValueError("cannot write /x")), str(link), "keras", overwrite=True)
    assert str(info.value) == f"could not save the model to '{link}': ValueError: cannot write /x"
    with pytest.raises(KeyboardInterrupt):
        save_model(_trained(KeyboardInterrupt()), str(link), "keras", overwrite=True)
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == [] and leftovers(real) == []


def test_stale_model_temporaries_are_removed(tmp_path: Path) -> None:
    stale = _temp(tmp_path, f".net.keras.{2**22 + 1}-0badf00d.tmp.keras", age=600)
    save_model(_trained(), str(tmp_path / "net.keras"), "keras", overwrite=True)
    assert not stale.exists()
    assert leftovers(tmp_path) == []
