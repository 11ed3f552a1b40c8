"""An integer spin box that keeps what the user types until editing finishes.

Qt's ``QSpinBox`` validates every keystroke against its range: ``-`` cannot be typed when the
minimum is positive (so "-5" became 5), letters are swallowed, and a value below the minimum
is silently replaced by the minimum when the field loses focus. A user never learns what was
wrong. :class:`IntSpinBox` accepts any text; its owner parses the text when editing finishes
(Enter, leaving the field) and shows the setting's own error under the field, the text kept as
typed. The arrow buttons, the Up/Down keys and the mouse wheel step from the number shown (or
from :attr:`IntSpinBox.fallback` when the text is not a number), within the range, and each step
counts as finished editing (:attr:`IntSpinBox.stepped`).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QStyle, QStyleOptionSpinBox, QWidget

#: Characters people type to group digits ("60,000", "60 000", "60_000"), ignored when reading.
GROUPING = (",", "_", " ", "\u00a0", "\u202f", "'")


def read_int(text: str) -> int | None:
    """The integer ``text`` shows (digit grouping allowed), or None."""
    cleaned = text.strip()
    for mark in GROUPING:
        cleaned = cleaned.replace(mark, "")
    if not cleaned or len(cleaned.lstrip("+-")) > 20:
        return None
    try:
        return int(cleaned)
    except ValueError:
        return None


def show_int(value: int) -> str:
    return f"{value:,}"


class IntSpinBox(QAbstractSpinBox):
    """See the module docstring. ``text()`` is what is typed; ``value()`` the number it reads as."""

    #: An arrow, key or wheel step changed the text: apply it now.
    stepped = Signal()

    def __init__(self, minimum: int, maximum: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._minimum, self._maximum = minimum, maximum
        #: The value to step from when the text is not a number (the owner's applied value).
        self.fallback: Callable[[], int] = lambda: max(minimum, min(0, maximum))
        self.lineEdit().setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.lineEdit().textChanged.connect(lambda _text: self.update())  # arrows enable as text changes

    # -- range and value ----------------------------------------------------------------------------
    def minimum(self) -> int:
        return self._minimum

    def maximum(self) -> int:
        return self._maximum

    def text(self) -> str:
        return self.lineEdit().text()

    def value(self) -> int | None:
        return read_int(self.text())

    def setValue(self, value: int) -> None:  # noqa: N802 (Qt naming)
        """Show ``value`` (clamped to the range) without reporting an edit."""
        text = show_int(max(self._minimum, min(int(value), self._maximum)))
        if self.text() != text:
            self.lineEdit().setText(text)

    # -- QAbstractSpinBox -------------------------------------------------------------------------
    def validate(self, text: str, pos: int) -> object:
        return QValidator.State.Acceptable, text, pos  # anything may be typed; checked when finished

    def fixup(self, text: str) -> str:
        return text

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt API)
        current = self.value()
        if current is None:
            current = self.fallback()
        wanted = max(self._minimum, min(current + steps, self._maximum))
        self.lineEdit().setText(show_int(wanted))
        self.selectAll()
        self.stepped.emit()

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:  # noqa: N802 (Qt API)
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.isReadOnly():
            return flags
        current = self.value()
        if current is None or current < self._maximum:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        if current is None or current > self._minimum:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        return flags

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        """Wide enough for the longest number of the range, as QSpinBox sizes itself."""
        metrics = self.fontMetrics()
        widest = max(metrics.horizontalAdvance(show_int(v) + " ") for v in (self._minimum, self._maximum))
        option = QStyleOptionSpinBox()
        self.initStyleOption(option)
        hint = QSize(widest + 6, max(self.lineEdit().sizeHint().height(), metrics.height() + 4))
        return self.style().sizeFromContents(QStyle.ContentsType.CT_SpinBox, option, hint, self)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        hint = self.sizeHint()
        return QSize(min(hint.width(), 72), hint.height())
