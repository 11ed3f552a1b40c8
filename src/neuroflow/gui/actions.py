"""The editor's commands as QActions: text, icon, shortcuts and tooltip declared in one table.

Shortcuts follow platform conventions for files and editing (QKeySequence standard keys) and
simple function keys for running: F5 executes everything, F6 the selection, Esc cancels, F8
resets. The window connects each action's ``triggered`` signal to its handler.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from . import icons

Key = QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str
    icon: str | None
    shortcuts: tuple[QKeySequence | Key | str, ...]
    tip: str


SPECS: tuple[ActionSpec, ...] = (
    ActionSpec("new", "&New", "new", (Key.New,), "Start an empty workflow"),
    ActionSpec("open", "&Open…", "open", (Key.Open,), "Open a .workflow file"),
    ActionSpec("import_model", "&Import Model…", None, (), "Bring a Keras model file (.keras or .h5) in as layer nodes"),
    ActionSpec("save", "&Save", "save", (Key.Save,), "Save the workflow"),
    ActionSpec("save_as", "Save &As…", None, (Key.SaveAs, "Ctrl+Shift+S"), "Save the workflow under a new name"),
    ActionSpec("quit", "&Quit", None, (Key.Quit, "Ctrl+Q"), "Close NeuroFlow"),
    ActionSpec("undo", "&Undo", "undo", (Key.Undo,), "Undo the last edit"),
    ActionSpec("redo", "&Redo", "redo", (Key.Redo, "Ctrl+Y"), "Redo the edit undone last"),
    ActionSpec("cut", "Cu&t", "cut", (Key.Cut,), "Cut the selected nodes"),
    ActionSpec("copy", "&Copy", "copy", (Key.Copy,), "Copy the selected nodes"),
    ActionSpec("paste", "&Paste", "paste", (Key.Paste,), "Paste nodes"),
    ActionSpec("delete", "&Delete", "delete", (Key.Delete, "Backspace"), "Delete the selected nodes"),
    ActionSpec("select_all", "Select &All", "select_all", (Key.SelectAll,), "Select every node"),
    ActionSpec("collapse_block", "Collapse to &Block", None, ("Ctrl+G",),
               "Collapse the selected layer nodes into one block node (Ctrl+G)"),
    ActionSpec("expand_block", "E&xpand Block", None, ("Ctrl+Shift+G",),
               "Put the selected block's layers back on the canvas (Ctrl+Shift+G)"),
    ActionSpec("open_block", "&Open Block…", None, ("Ctrl+Shift+E",),
               "Edit the layers inside the selected block (or double-click it)"),
    ActionSpec("save_block", "Save Block to &Library", None, (),
               "Keep the selected block in your block library (Nodes panel, Blocks)"),
    ActionSpec("execute_all", "Execute All", "execute", ("F5", "Shift+F7"),
               "Execute every node that is not executed yet (F5)"),
    ActionSpec("execute_selected", "Execute Selected", "execute_selected", ("F6", "F7"),
               "Execute the selected nodes and everything they need (F6)"),
    ActionSpec("cancel", "Cancel", "cancel", ("Esc", "F9"), "Cancel the running execution (Esc)"),
    ActionSpec("sweep", "Parameter s&weep…", None, (),
               "Vary settings of the Network Learner's workflow in a parameter sweep and apply the best"),
    ActionSpec("reset", "Reset", "reset", ("F8",),
               "Reset the selected nodes (or all) and everything downstream, dropping their results (F8)"),
    ActionSpec("fit", "Fit to View", "fit", ("Ctrl+0",), "Zoom to show the whole workflow (Ctrl+0)"),
    ActionSpec("arrange", "Arran&ge", "arrange", ("Ctrl+L",),
               "Lay out the workflow, or the selected nodes, left to right along the wires (Ctrl+L)"),
    ActionSpec("open_view", "Open Result View", None, ("Ctrl+Return",), "Show the results of the selected node"),
    ActionSpec("about", "&About NeuroFlow", "app", (), "About NeuroFlow"),
)


def create_actions(parent: QWidget) -> dict[str, QAction]:
    """One QAction per :data:`SPECS` entry, keyed by name."""
    actions: dict[str, QAction] = {}
    for spec in SPECS:
        action = QAction(spec.text, parent)
        if spec.icon:
            action.setIcon(icons.icon(spec.icon))
        sequences: list[QKeySequence] = []
        for key in spec.shortcuts:
            for sequence in QKeySequence.keyBindings(key) if isinstance(key, Key) else [QKeySequence(key)]:
                if not sequence.isEmpty() and sequence not in sequences:
                    sequences.append(sequence)
        action.setShortcuts(sequences)
        shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{spec.tip} ({shortcut})" if shortcut and shortcut not in spec.tip else spec.tip)
        action.setStatusTip(spec.tip)
        action.setObjectName(f"action_{spec.name}")
        actions[spec.name] = action
    return actions
