"""Comparing runs, and turning a run back into settings: shared by the command line and the editor.

A run records, for every node its Learner depends on, ``{"type", "version", "settings"}`` in the
settings' JSON form (see :class:`~neuroflow.history.recorder.RunRecorder`). Here those records
become flat ``node.setting`` keys, so that two runs can be compared setting by setting, a table
can show only what differs between the runs listed, and a run's settings can be applied to the
workflow again.

Keys use the node id (stable, unique, what ``--set`` accepts); :func:`key_title` makes a
display name from the node's title when the run recorded one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import NeuroFlowError

if TYPE_CHECKING:
    from ..core.workflow import Workflow
    from .store import Run

#: Stands for "this run has no such setting" (the node did not exist, or had another type).
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "-", "__str__": lambda self: "-"})()

#: Settings that differ between runs without making them different experiments.
NOT_COMPARED = frozenset({"data_folder", "path", "cache_folder", "tensorboard_folder"})


def flat_settings(run: Run) -> dict[str, Any]:
    """``{"node.setting": value}`` for every setting the run recorded, plus ``"node.type"`` when
    a node's type is not the same in every run it is compared with (see :func:`settings_diff`)."""
    flat: dict[str, Any] = {}
    for node_id, record in sorted(run.settings.items()):
        if not isinstance(record, Mapping):
            continue
        for name, value in sorted((record.get("settings") or {}).items()):
            flat[f"{node_id}.{name}"] = _hashable(value)
    return flat


def node_types(run: Run) -> dict[str, str]:
    """Node id -> type id, as the run recorded them."""
    return {nid: str(rec.get("type", "")) for nid, rec in run.settings.items() if isinstance(rec, Mapping)}


@dataclass(frozen=True)
class SettingDifference:
    """One setting whose value is not the same in every compared run."""

    key: str  #: ``node.setting``
    values: tuple[Any, ...]  #: one per run, in the order given; :data:`ABSENT` where missing

    @property
    def node_id(self) -> str:
        return self.key.rpartition(".")[0]

    @property
    def name(self) -> str:
        return self.key.rpartition(".")[2]


def settings_diff(runs: Sequence[Run], *, include_paths: bool = False) -> list[SettingDifference]:
    """The settings that differ between ``runs``, in key order.

    A node that changed type between runs shows as ``node.type``; folder and file settings are
    left out unless ``include_paths`` (moving the data is not a different experiment). The seed
    is a setting of the learner, so a different seed shows like any other setting.
    """
    if len(runs) < 2:
        return []
    flats = [flat_settings(run) for run in runs]
    types = [node_types(run) for run in runs]
    for flat, kinds in zip(flats, types, strict=True):
        for nid, type_id in kinds.items():
            flat[f"{nid}.type"] = type_id
    keys = sorted(set().union(*flats))
    differences = []
    for key in keys:
        if not include_paths and key.rpartition(".")[2] in NOT_COMPARED:
            continue
        values = tuple(flat.get(key, ABSENT) for flat in flats)
        if any(value != values[0] for value in values[1:]):
            differences.append(SettingDifference(key, values))
    # A type that differs says it all about its node: its settings' differences are noise.
    retyped = {d.node_id for d in differences if d.name == "type"}
    return [d for d in differences if d.name == "type" or d.node_id not in retyped]


def differing_keys(runs: Sequence[Run]) -> list[str]:
    """The keys of :func:`settings_diff`: the columns a table of these runs should show."""
    return [difference.key for difference in settings_diff(runs)]


def node_title(run: Run, node_id: str) -> str:
    """The label the run recorded for a node (what the canvas shows on it), else its id."""
    record = run.settings.get(node_id)
    title = record.get("title") if isinstance(record, Mapping) else None
    return str(title) if title else node_id


def key_title(run: Run, key: str) -> str:
    """``key`` with the node id replaced by the title the run recorded, e.g. ``Dense 1.units``."""
    node_id, _, name = key.rpartition(".")
    return f"{node_title(run, node_id)}.{name}"


def headline_scores(run: Run) -> dict[str, float | None]:
    """The numbers a table of runs shows: best validation accuracy and loss, the last training
    accuracy, and the Scorer's test accuracy (``None`` where the run has none)."""
    best = run.best or {}
    test = None
    if run.scores:
        value = run.scores.get("accuracy")
        test = float(value) if isinstance(value, int | float) else None
    return {
        "best_val_accuracy": best.get("val_accuracy"),
        "best_val_loss": best.get("val_loss"),
        "best_accuracy": best.get("accuracy"),
        "test_accuracy": test,
    }


@dataclass(frozen=True)
class Restoration:
    """What applying a run's settings to a workflow would change, and what it cannot."""

    changes: tuple[tuple[str, str, Any], ...]  #: (node id, setting name, value), only real changes
    skipped: tuple[str, ...]  #: one line per node or setting that could not be restored, and why


def restoration(workflow: Workflow, run: Run) -> Restoration:
    """The edits that give ``workflow``'s nodes the settings ``run`` was trained with.

    Nodes are matched by id and type. A node the workflow no longer has, or that has another
    type now, is skipped with a reason; settings recorded by an older version of a node type are
    migrated first, as opening an old workflow file would; a value the setting refuses today is
    skipped with the setting's own message. Paths are restored like any other setting.
    """
    changes: list[tuple[str, str, Any]] = []
    skipped: list[str] = []
    for node_id, record in sorted(run.settings.items()):
        if not isinstance(record, Mapping):
            continue
        item = workflow.nodes.get(node_id)
        if item is None:
            skipped.append(f"{node_title(run, node_id)}: not in the workflow any more")
            continue
        if item.type_id != record.get("type"):
            skipped.append(f"{item.title}: now a {item.node.name}, the run had a {record.get('type')}")
            continue
        settings = dict(record.get("settings") or {})
        version = record.get("version")
        if isinstance(version, int) and version < item.node.version:
            settings = item.node.migrate_settings(version, settings)
        for name, raw in sorted(settings.items()):
            try:
                setting = item.node.setting(name)
                value = setting.validate(raw)
            except NeuroFlowError as exc:
                skipped.append(f"{item.title}: {exc}")
                continue
            if value != item.node.settings.get(name):
                changes.append((node_id, name, value))
    return Restoration(tuple(changes), tuple(skipped))


def _hashable(value: Any) -> Any:
    """JSON lists (kernel sizes, ...) as tuples, so values compare and hash alike."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value
