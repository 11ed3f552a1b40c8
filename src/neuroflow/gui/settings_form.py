"""A settings form generated from a node type's ``settings_spec``.

One editor per declaration: integers get a spin box with the declared range, numbers a line
edit, choices a combo box with their labels, booleans a check box, integer tuples a row of spin
boxes, paths a line edit with a browse button, text a line edit. Help texts become tooltips;
``visible_when`` hides a row until the setting it depends on has a matching value.

Typed values apply when editing finishes - Enter, leaving the field, or a spin-box arrow step -
never per keystroke: typing 128 into a batch size must not apply 1 and 12 on the way (each an
undo step that resets a trained model). A value the declaration refuses shows its
:class:`SettingError` text in red under the field and is not applied; the field keeps the text
as typed until it is fixed, or Esc puts the applied value back.

The form never edits a node: it emits :attr:`SettingsForm.edited` and the owner decides.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from neuroflow.core.errors import SettingError
from neuroflow.core.settings import (
    BoolSetting,
    ChoiceSetting,
    FloatSetting,
    IntSetting,
    IntTupleSetting,
    PathSetting,
    Setting,
)

from .spin_box import IntSpinBox, read_int, show_int

INT_LIMIT = 2_147_483_647
#: Labels wrap beyond this width (px), so a long one never widens the form.
LABEL_WIDTH = 160
#: A field whose natural width exceeds this (a combo box of long choices, a path) gets a row of its
#: own under its label, the panel's full width, instead of being cut off beside it.
WIDE_FIELD = 250

Emit = Callable[[Any], None]


def _help_text(setting: Setting) -> str:
    text = setting.help or setting.label
    return f"<qt><b>{setting.label}</b> ({setting.describe()})<br/>{text}</qt>"


def format_float(value: float) -> str:
    """Shortest text that reads back as the same number (``0.001``, ``1e-05``, ``0.5``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


class Field:
    """One setting's editor: builds its widget, shows a value, reports edits."""

    def __init__(self, setting: Setting, emit: Emit, parent: QWidget) -> None:
        self.setting = setting
        self.emit = emit
        self.widget = self._build(parent)
        self.widget.setToolTip(_help_text(setting))

    def _build(self, parent: QWidget) -> QWidget:
        raise NotImplementedError

    def natural_width(self) -> int:
        """The width this editor needs to show its value whole."""
        return self.widget.sizeHint().width()

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def focus_widget(self) -> QWidget:
        return self.widget

    def has_focus(self) -> bool:
        focus = self.widget.focusWidget() if hasattr(self.widget, "focusWidget") else None
        return bool(self.widget.hasFocus() or (focus is not None and focus.hasFocus()))

    # Typed fields (numbers, tuples) keep what is typed until editing finishes:
    def typed_widgets(self) -> tuple[QWidget, ...]:
        """Where the user types (Esc there puts the applied value back)."""
        return ()

    def differs(self) -> bool:
        """The text shown is not the applied value (typed but not applied, or refused)."""
        return False

    def revert(self) -> None:
        """Show the applied value again."""


def _spin_box(setting: IntSetting | IntTupleSetting, parent: QWidget) -> IntSpinBox:
    low = setting.minimum if setting.minimum is not None else -INT_LIMIT
    high = setting.maximum if setting.maximum is not None else INT_LIMIT
    box = IntSpinBox(int(max(low, -INT_LIMIT)), int(min(high, INT_LIMIT)), parent)
    box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return box


class IntField(Field):
    """An :class:`IntSpinBox`: any text may be typed, applied (or refused) when editing finishes."""

    setting: IntSetting

    def _build(self, parent: QWidget) -> QWidget:
        self.applied: int = int(self.setting.default)
        box = _spin_box(self.setting, parent)
        box.fallback = lambda: self.applied
        box.editingFinished.connect(self.finish)
        box.stepped.connect(self.finish)
        self.box = box
        return box

    def finish(self) -> None:
        """Apply what is typed, or report why it cannot be."""
        text = self.box.text()
        number = read_int(text)
        try:
            value = self.setting.parse(text) if number is None else self.setting.validate(number)
        except SettingError as exc:
            self.emit(exc)
            return
        self.box.setValue(value)
        self.emit(value)

    def set_value(self, value: Any) -> None:
        self.applied = int(value)
        self.box.setValue(self.applied)

    def typed_widgets(self) -> tuple[QWidget, ...]:
        return (self.box, self.box.lineEdit())

    def differs(self) -> bool:
        return self.box.text() != show_int(self.applied)

    def revert(self) -> None:
        self.box.setValue(self.applied)

    def setValue(self, value: int) -> None:  # noqa: N802 - reads like the spin box it stands for
        """Type ``value`` and finish editing, as a user (and tests) would."""
        self.box.lineEdit().setText(str(value))
        self.finish()


class FloatField(Field):
    """A line edit, because learning rates span decades (0.1 ... 1e-5) better typed than spun."""

    setting: FloatSetting

    def _build(self, parent: QWidget) -> QWidget:
        self.applied: float = float(self.setting.default)
        edit = QLineEdit(parent)
        edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        edit.editingFinished.connect(self.finish)
        self.edit = edit
        return edit

    def finish(self) -> None:
        try:
            value = self.setting.parse(self.edit.text())
        except SettingError as exc:
            self.emit(exc)
            return
        self.emit(value)

    def set_value(self, value: Any) -> None:
        self.applied = value
        if self._typed() != value:
            self.edit.setText(format_float(value))

    def _typed(self) -> float | None:
        try:
            return float(self.setting.parse(self.edit.text()))
        except SettingError:
            return None

    def typed_widgets(self) -> tuple[QWidget, ...]:
        return (self.edit,)

    def differs(self) -> bool:
        return self._typed() != self.applied

    def revert(self) -> None:
        self.edit.setText(format_float(self.applied))


class ChoiceField(Field):
    setting: ChoiceSetting

    def _build(self, parent: QWidget) -> QWidget:
        combo = QComboBox(parent)
        # Never wider than the panel: a choice too long for it is elided, whole in the tooltip.
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(6)
        combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        for choice in self.setting.choices:
            combo.addItem(self.setting.label_of(choice), choice)
        combo.currentIndexChanged.connect(lambda i: self.emit(combo.itemData(i)))
        self.combo = combo
        return combo

    def natural_width(self) -> int:
        """Room for the longest choice and the arrow."""
        metrics = self.combo.fontMetrics()
        return max(metrics.horizontalAdvance(self.combo.itemText(i)) for i in range(self.combo.count())) + 40

    def set_value(self, value: Any) -> None:
        index = self.combo.findData(value)
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)


class BoolField(Field):
    setting: BoolSetting

    def _build(self, parent: QWidget) -> QWidget:
        box = QCheckBox(parent)
        box.toggled.connect(lambda checked: self.emit(bool(checked)))
        self.box = box
        return box

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class IntTupleField(Field):
    """A row of spin boxes; a length chooser in front when the length may vary. A number applies
    when its box's editing finishes (the tuple as a whole is checked then)."""

    setting: IntTupleSetting

    def _build(self, parent: QWidget) -> QWidget:
        s = self.setting
        row = QWidget(parent)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.length: QComboBox | None = None
        if s.min_length != s.max_length:
            self.length = QComboBox(row)
            self.length.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            for count in range(s.min_length, s.max_length + 1):
                self.length.addItem(f"{count}D", count)
            self.length.setToolTip("How many values")
            self.length.currentIndexChanged.connect(self._length_changed)
            layout.addWidget(self.length)
        self.boxes: list[IntSpinBox] = []
        self.applied: tuple[int, ...] = tuple(s.default)
        for index in range(s.max_length):
            box = _spin_box(s, row)
            box.setMinimumWidth(44)
            box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            box.fallback = self._fallback(index)
            if index < len(s.element_names):
                box.setToolTip(s.element_names[index])
            box.editingFinished.connect(self._changed)
            box.stepped.connect(self._changed)
            layout.addWidget(box, 1)
            self.boxes.append(box)
        return row

    def _fallback(self, index: int) -> Callable[[], int]:
        """What box ``index`` steps from while its text is not a number: its applied value."""
        return lambda: self.applied[index] if index < len(self.applied) else 1

    def _count(self) -> int:
        if self.length is None:
            return self.setting.max_length
        return int(self.length.currentData())

    def _length_changed(self, _index: int) -> None:
        self._show_boxes()
        self._changed()

    def _show_boxes(self) -> None:
        count = self._count()
        for index, box in enumerate(self.boxes):
            box.setVisible(index < count)

    def _changed(self) -> None:
        boxes = self.boxes[: self._count()]
        numbers = [box.value() for box in boxes]
        try:
            if any(number is None for number in numbers):
                value = self.setting.parse(", ".join(box.text() for box in boxes))
            else:
                value = self.setting.validate(numbers)
        except SettingError as exc:
            self.emit(exc)
            return
        self.emit(value)

    def set_value(self, value: Any) -> None:
        values = list(value)
        self.applied = tuple(int(v) for v in values)
        if self.length is not None:
            self.length.blockSignals(True)
            self.length.setCurrentIndex(self.length.findData(len(values)))
            self.length.blockSignals(False)
        for index, box in enumerate(self.boxes):
            if index < len(values):
                box.setValue(int(values[index]))
        self._show_boxes()

    def typed_widgets(self) -> tuple[QWidget, ...]:
        return tuple(w for box in self.boxes for w in (box, box.lineEdit()))

    def differs(self) -> bool:
        shown = [box.text() for box in self.boxes[: len(self.applied)]]
        return shown != [show_int(v) for v in self.applied]

    def revert(self) -> None:
        self.set_value(self.applied)

    def has_focus(self) -> bool:
        return any(box.hasFocus() for box in self.boxes) or bool(self.length and self.length.hasFocus())

    def focus_widget(self) -> QWidget:
        return self.boxes[0]


class TextField(Field):
    """Free text, applied when editing finishes (Enter or leaving the field)."""

    def _build(self, parent: QWidget) -> QWidget:
        edit = QLineEdit(parent)
        edit.editingFinished.connect(lambda: self.emit(edit.text()))
        self.edit = edit
        return edit

    def set_value(self, value: Any) -> None:
        if self.edit.text() != value:
            self.edit.setText(str(value))


class PathField(Field):
    """A path with a browse button. A file chosen inside the workflow's folder is stored relative
    to it, so the workflow and its data can be moved or shared together."""

    setting: PathSetting
    #: The workflow file's folder (``None`` while unsaved); set by the form.
    base_folder: Path | None = None

    def _build(self, parent: QWidget) -> QWidget:
        row = QWidget(parent)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.edit = QLineEdit(row)
        self.edit.setPlaceholderText("(default)")
        self.edit.editingFinished.connect(lambda: self.emit(self.edit.text()))
        browse = QToolButton(row)
        browse.setText("…")
        browse.setToolTip({"folder": "Choose a folder", "save": "Choose where to save"}.get(
            self.setting.mode, "Choose a file"))
        browse.clicked.connect(self._browse)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)
        return row

    def _browse(self) -> None:
        s, start = self.setting, os.path.expanduser(self.edit.text().strip())
        if start and not os.path.isabs(start) and self.base_folder is not None:
            start = str(self.base_folder / start)
        elif not start and self.base_folder is not None:
            start = str(self.base_folder)
        if s.mode == "folder":
            chosen = QFileDialog.getExistingDirectory(self.widget, s.label, start)
        elif s.mode == "save":
            chosen, _ = QFileDialog.getSaveFileName(self.widget, s.label, start, s.file_filter)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self.widget, s.label, start, s.file_filter)
        if chosen:
            chosen = self.stored_form(chosen)
            self.edit.setText(chosen)
            self.emit(chosen)

    def stored_form(self, chosen: str) -> str:
        """``chosen`` relative to the workflow's folder when it lies inside it, else as chosen."""
        if self.base_folder is None:
            return chosen
        try:
            relative = Path(chosen).resolve().relative_to(self.base_folder.resolve())
        except ValueError:
            return chosen
        return relative.as_posix() or "."

    def set_value(self, value: Any) -> None:
        if self.edit.text() != value:
            self.edit.setText(str(value))

    def has_focus(self) -> bool:
        return self.edit.hasFocus()

    def focus_widget(self) -> QWidget:
        return self.edit

    def natural_width(self) -> int:
        return WIDE_FIELD + 1  # paths are long: always the full width


def field_for(setting: Setting, emit: Emit, parent: QWidget) -> Field:
    """The editor for a declaration (text for any kind this form does not know)."""
    kinds: list[tuple[type[Setting], type[Field]]] = [
        (BoolSetting, BoolField),
        (IntTupleSetting, IntTupleField),
        (IntSetting, IntField),
        (FloatSetting, FloatField),
        (ChoiceSetting, ChoiceField),
        (PathSetting, PathField),
    ]
    for declared, field in kinds:
        if isinstance(setting, declared):
            return field(setting, emit, parent)
    return TextField(setting, emit, parent)


class _EscapeReverts(QObject):
    """Esc in a typed field with an unapplied or refused text puts the applied value back.

    Only then: otherwise Esc goes on to the window (where it cancels a run)."""

    def __init__(self, form: SettingsForm, name: str) -> None:
        super().__init__(form)
        self.form, self.name = form, name

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        kind = event.type()
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Escape and self.form.pending(self.name):
            event.accept()
            if kind == QEvent.Type.KeyPress:
                self.form.revert(self.name)
            return True
        return False


class SettingsForm(QWidget):
    """Editors for one node's settings; emits ``edited(name, value)`` for valid values."""

    edited = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(10)
        self._grid.setVerticalSpacing(4)
        self._grid.setColumnStretch(1, 1)
        self.fields: dict[str, Field] = {}
        #: The workflow file's folder: paths chosen inside it are stored relative to it.
        self.base_folder: Path | None = None
        self._labels: dict[str, QLabel] = {}
        self._errors: dict[str, QLabel] = {}
        self._values: dict[str, Any] = {}
        self._spec: tuple[Setting, ...] = ()
        #: Bumped by every build: edits reported by editors of an older build are ignored
        #: (a line edit reports "editing finished" when it is destroyed with the focus).
        self._generation = 0

    # -- building ----------------------------------------------------------------------------
    def build(self, spec: tuple[Setting, ...], values: Mapping[str, Any]) -> None:
        """Replace the editors with ones for ``spec``, showing ``values``."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.fields.clear()
        self._labels.clear()
        self._errors.clear()
        self._spec = spec
        self._values = dict(values)
        self._generation += 1
        row = 0
        label_column = 0
        for setting in spec:
            label = QLabel(setting.label, self)
            label.setToolTip(_help_text(setting))
            label.setWordWrap(True)
            label.setMaximumWidth(LABEL_WIDTH)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            field = field_for(setting, self._emitter(setting.name), self)
            if isinstance(field, PathField):
                field.base_folder = self.base_folder
            label.setBuddy(field.focus_widget())
            error = QLabel(self)
            error.setObjectName("fieldError")
            error.setWordWrap(True)
            error.hide()
            if field.natural_width() > WIDE_FIELD:  # label above, field and message the full width
                label.setMaximumWidth(16_777_215)
                label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
                self._grid.addWidget(label, row, 0, 1, 2)
                self._grid.addWidget(field.widget, row + 1, 0, 1, 2)
                self._grid.addWidget(error, row + 2, 0, 1, 2)
                row += 3
            else:
                self._grid.addWidget(label, row, 0)
                self._grid.addWidget(field.widget, row, 1)
                self._grid.addWidget(error, row + 1, 1)
                label_column = max(label_column, label.fontMetrics().horizontalAdvance(setting.label) + 2)
                row += 2
            self.fields[setting.name] = field
            self._labels[setting.name] = label
            self._errors[setting.name] = error
            field.set_value(values.get(setting.name, setting.default))
            escape = _EscapeReverts(self, setting.name)
            for widget in field.typed_widgets():
                widget.installEventFilter(escape)
        # Labels keep one line up to LABEL_WIDTH (a wrapped label's own size hint is a guess).
        self._grid.setColumnMinimumWidth(0, min(label_column, LABEL_WIDTH))
        self._update_visibility()

    def _emitter(self, name: str) -> Emit:
        generation = self._generation

        def emit(value: Any) -> None:
            if generation != self._generation:
                return
            if isinstance(value, SettingError):
                self.show_error(name, value.bare_message)
                return
            self.clear_error(name)
            self._values[name] = value
            self._update_visibility()
            self.edited.emit(name, value)

        return emit

    # -- showing values and errors -------------------------------------------------------------
    def refresh(self, values: Mapping[str, Any], *, skip_focused: bool = False) -> None:
        """Show new values (after undo, redo or a change elsewhere) without emitting edits."""
        for name, field in self.fields.items():
            if name not in values:
                continue
            if skip_focused and field.has_focus():
                continue
            if self._values.get(name) == values[name] and self.error_text(name):
                continue  # a refused text stays as typed until it is fixed or Esc
            if self._values.get(name) != values[name] or not skip_focused:
                field.set_value(values[name])
                self.clear_error(name)
        self._values.update(values)
        self._update_visibility()

    def show_error(self, name: str, message: str) -> None:
        error = self._errors.get(name)
        if error is None:
            return
        error.setText(message)
        error.show()
        field = self.fields[name]
        field.focus_widget().setProperty("invalid", True)
        self._restyle(field.focus_widget())

    def clear_error(self, name: str) -> None:
        error = self._errors.get(name)
        if error is None or error.isHidden():
            return
        error.hide()
        field = self.fields[name]
        field.focus_widget().setProperty("invalid", False)
        self._restyle(field.focus_widget())

    def pending(self, name: str) -> bool:
        """The field shows a text that is not applied: typed, or refused with an error."""
        field = self.fields.get(name)
        return field is not None and (field.differs() or bool(self.error_text(name)))

    def revert(self, name: str) -> None:
        """Put the applied value back in the field and drop its error (Esc)."""
        field = self.fields.get(name)
        if field is not None:
            field.revert()
            self.clear_error(name)

    def error_text(self, name: str) -> str:
        error = self._errors.get(name)
        return error.text() if error is not None and not error.isHidden() else ""

    @staticmethod
    def _restyle(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)

    def _update_visibility(self) -> None:
        for setting in self._spec:
            visible = True
            if setting.visible_when is not None:
                other, allowed = setting.visible_when
                visible = self._values.get(other) in allowed
            for widget in (self._labels[setting.name], self.fields[setting.name].widget):
                widget.setVisible(visible)
            if not visible:
                self._errors[setting.name].hide()

    def is_shown(self, name: str) -> bool:
        return not self.fields[name].widget.isHidden()
