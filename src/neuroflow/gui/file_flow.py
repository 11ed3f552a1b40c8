"""The file flow of the editor: new, open, save, save as, recent files and dropped files.

Every way of replacing or writing the open workflow goes through :class:`FileFlow`, so that each
asks about unsaved changes the same way, refuses while the workflow executes, reports a file it
cannot read in one line (the open workflow stays as it was) and keeps the recent-files list.
The main window only connects its actions and menu to it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMenu, QMessageBox

from neuroflow.core.errors import NeuroFlowError
from neuroflow.core.node import MissingNode

from .document import Document
from .messages import MessagesPanel

FILE_FILTER = "NeuroFlow workflows (*.workflow);;All files (*)"
MAX_RECENT = 8


class FileFlow(QObject):
    """Opens and saves the window's document (see the module docstring).

    ``ask_unsaved`` and ``alert`` are the two questions it puts to the user in dialogs; tests,
    benchmarks and tools replace them with fixed answers.
    """

    def __init__(self, window: QMainWindow, document: Document, settings: QSettings,
                 messages: MessagesPanel, messages_dock: QDockWidget) -> None:
        super().__init__(window)
        self.window = window
        self.document = document
        self.settings = settings
        self.messages = messages
        self.messages_dock = messages_dock
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        window.setAcceptDrops(True)
        window.installEventFilter(self)  # workflow files dropped anywhere on the window

    def _status(self, text: str, msecs: int) -> None:
        self.window.statusBar().showMessage(text, msecs)

    # -- questions ------------------------------------------------------------------------------
    def ask_unsaved(self) -> str:
        """Ask what to do with unsaved changes: ``"save"``, ``"discard"`` or ``"cancel"``."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"Save the changes to {self.document.title} before closing it?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.window)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return "save"
        if answer == QMessageBox.StandardButton.Discard:
            return "discard"
        return "cancel"

    def alert(self, title: str, text: str) -> None:
        """A modal warning, when the window is on screen."""
        if self.window.isVisible():
            QMessageBox.warning(self.window, title, text)

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current workflow (saved, discarded or unchanged)."""
        if not self.document.modified:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save()
        return answer == "discard"

    # -- new and open ---------------------------------------------------------------------------
    def new_file(self) -> None:
        if self.document.locked or not self.maybe_save():
            return
        self.document.new()
        self._status("New workflow", 4_000)

    def open_dialog(self) -> None:
        if self.document.locked or not self.maybe_save():
            return
        start = str(self.document.path.parent) if self.document.path else str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self.window, "Open workflow", start, FILE_FILTER)
        if path:
            self.open_file(path)

    def open_file_checked(self, path: str) -> None:
        """Open ``path`` after asking about unsaved changes (drops, recent files)."""
        if self.document.locked:
            self._status("Cancel the execution before opening another workflow", 8_000)
            return
        if self.maybe_save():
            self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        """Open a workflow without asking; errors are shown, never raised, and the current
        workflow stays as it was (the file is read whole before anything is replaced)."""
        try:
            self.document.open(path)
        except Exception as exc:  # noqa: BLE001 - whatever a file holds, the editor stays up
            text = str(exc) if isinstance(exc, NeuroFlowError) else f"{path}: cannot open: {type(exc).__name__}: {exc}"
            text = " ".join(text.split())[:1_000]  # one line, whatever the exception said
            self.messages.add("error", text)
            self._status(text, 12_000)
            self.alert("Cannot open workflow", text)
            return False
        self._remember(Path(path))
        missing = [item for item in self.document.workflow.nodes.values() if isinstance(item.node, MissingNode)]
        note = f" — {len(missing)} missing node type(s), see Messages" if missing else ""
        if missing:
            self.messages_dock.raise_()
        self._status(f"Opened {Path(path).name}{note}", 8_000)
        return True

    # -- save -----------------------------------------------------------------------------------
    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self.save_to(self.document.path)

    def save_as(self) -> bool:
        start = str(self.document.path) if self.document.path else str(Path.cwd() / "untitled.workflow")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save workflow as", start, FILE_FILTER)
        if not path:
            return False
        if not path.endswith(".workflow"):
            path += ".workflow"
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        """Save to ``path`` without asking; False (and said where) when it cannot be written."""
        try:
            self.document.save(path)
        except (NeuroFlowError, OSError) as exc:
            text = str(exc) if str(exc).startswith("cannot save") else f"cannot save {path}: {exc}"
            self.messages.add("error", text)
            self._status(text[:1].upper() + text[1:], 12_000)
            return False
        self._remember(path)
        self._status(f"Saved {path.name}", 5_000)
        return True

    # -- recent files ---------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember(self, path: Path) -> None:
        text = str(path.resolve())
        recent = [text] + [p for p in self.recent_files() if p != text]
        self.settings.setValue("recent_files", recent[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for index, path in enumerate(recent, start=1):
            action = self.recent_menu.addAction(f"&{index} {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.setEnabled(Path(path).exists())
            action.triggered.connect(lambda _checked=False, p=path: self.open_file_checked(p))
        if not recent:
            self.recent_menu.addAction("(no recent files)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", lambda: self.settings.setValue("recent_files", []))

    # -- files dropped on the window ------------------------------------------------------------
    @staticmethod
    def _workflow_urls(urls: list[QUrl]) -> list[str]:
        return [u.toLocalFile() for u in urls if u.isLocalFile() and u.toLocalFile().endswith(".workflow")]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        """A ``.workflow`` file dragged over the window is accepted and opened when dropped;
        anything else goes on to the window as before."""
        if watched is not self.window:
            return super().eventFilter(watched, event)
        if event.type() == QEvent.Type.DragEnter and isinstance(event, QDragEnterEvent):
            if event.mimeData().hasUrls() and self._workflow_urls(event.mimeData().urls()):
                event.acceptProposedAction()
                return True
        elif event.type() == QEvent.Type.Drop and isinstance(event, QDropEvent):
            paths = self._workflow_urls(event.mimeData().urls()) if event.mimeData().hasUrls() else []
            if paths:
                event.acceptProposedAction()
                QTimer.singleShot(0, lambda: self.open_file_checked(paths[0]))
                return True
        return super().eventFilter(watched, event)
