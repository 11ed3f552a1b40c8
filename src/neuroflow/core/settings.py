"""Typed setting declarations.

A node type declares its settings as a tuple of these objects. One declaration drives
everything a setting needs: validation (with a message that quotes the bad value), parsing from
the command line (``--set node.setting=value``), JSON round-tripping in ``.workflow`` files, the
``neuroflow nodes`` listing and the editor's generated properties form.

Values come from files, the command line and the editor alike, so validation is also the guard
against hostile ones: numbers are finite and bounded (a declared range, or else
:data:`UNBOUNDED_LIMIT` in size), text holds no NUL character and no lone surrogate (neither can be
printed or saved), and paths are no longer than the operating system accepts (:data:`MAX_PATH_BYTES`,
:data:`MAX_NAME_BYTES` per component) and hold no control characters.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .errors import SettingError

#: Numbers of a setting without a declared range are still at most this large in size (10^15):
#: beyond any count, size or factor a network uses, and exact as a float.
UNBOUNDED_LIMIT = 10**15
#: Longest path (bytes of UTF-8) and longest path component, as Linux and macOS accept them.
MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255


@dataclass(frozen=True)
class Setting:
    """Base declaration. Subclasses implement :meth:`_coerce` for their value type."""

    name: str
    label: str
    default: Any
    help: str = ""
    #: Show this setting only when another setting has one of the given values,
    #: e.g. ``("optimizer", ("sgd",))``. Purely a presentation hint; always validated.
    visible_when: tuple[str, tuple[Any, ...]] | None = None

    kind: ClassVar[str] = "value"

    def validate(self, value: Any) -> Any:
        """Return the normalised value or raise :class:`SettingError` quoting ``value``."""
        return self._coerce(value)

    def _coerce(self, value: Any) -> Any:
        return value

    def _fail(self, expected: str, value: Any) -> SettingError:
        return SettingError(
            f"setting '{self.name}': expected {expected}, got {show_value(value)}", setting=self.name
        )

    def parse(self, text: str) -> Any:
        """Parse a command-line string into a validated value."""
        return self.validate(text)

    def to_json(self, value: Any) -> Any:
        return value

    def describe(self) -> str:
        """A short human description of the accepted values, for listings and tooltips."""
        return self.kind


@dataclass(frozen=True)
class IntSetting(Setting):
    minimum: int | None = None
    maximum: int | None = None
    kind: ClassVar[str] = "integer"

    def _coerce(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail("an integer", value)
        if isinstance(value, float):
            if not value.is_integer():
                raise self._fail("an integer", value)
            value = int(value)
        _check_range(self, value)
        return int(value)

    def parse(self, text: str) -> int:
        cleaned = text.strip()
        if len(cleaned.lstrip("+-")) > 20:  # longer than any allowed value; Python refuses 4,300+
            raise self._fail("an integer", text)
        try:
            number = int(cleaned)
        except ValueError:
            raise self._fail("an integer", text) from None
        return self.validate(number)

    def describe(self) -> str:
        return f"integer{_range_text(self)}"


@dataclass(frozen=True)
class FloatSetting(Setting):
    minimum: float | None = None
    maximum: float | None = None
    #: When true the minimum itself is not allowed (e.g. a learning rate must be > 0).
    exclusive_minimum: bool = False
    kind: ClassVar[str] = "number"

    def _coerce(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail("a number", value)
        try:
            value = float(value)
        except OverflowError:  # an integer beyond any float
            raise self._fail("a finite number", value) from None
        if not math.isfinite(value):
            raise self._fail("a finite number", value)
        _check_range(self, value)
        if self.exclusive_minimum and self.minimum is not None and value <= self.minimum:
            raise SettingError(
                f"setting '{self.name}': {value!r} must be greater than {_number(self.minimum)}",
                setting=self.name,
            )
        return value

    def parse(self, text: str) -> float:
        if len(text) > 1000:
            raise self._fail("a number", text)
        try:
            number = float(text.strip())
        except ValueError:
            raise self._fail("a number", text) from None
        return self.validate(number)

    def describe(self) -> str:
        return f"number{_range_text(self)}"


@dataclass(frozen=True)
class BoolSetting(Setting):
    kind: ClassVar[str] = "boolean"
    _TRUE: ClassVar[frozenset[str]] = frozenset({"true", "yes", "on", "1"})
    _FALSE: ClassVar[frozenset[str]] = frozenset({"false", "no", "off", "0"})

    def _coerce(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self._fail("true or false", value)
        return value

    def parse(self, text: str) -> bool:
        word = text.strip().lower()
        if word in self._TRUE:
            return True
        if word in self._FALSE:
            return False
        raise self._fail("true or false", text)


@dataclass(frozen=True)
class ChoiceSetting(Setting):
    choices: tuple[str, ...] = ()
    #: Optional display names, same order as ``choices``.
    choice_labels: tuple[str, ...] = ()
    kind: ClassVar[str] = "choice"

    def _coerce(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise SettingError(
                f"setting '{self.name}': {show_value(value)} is not one of {', '.join(self.choices)}",
                setting=self.name,
            )
        return value

    def parse(self, text: str) -> str:
        return self.validate(text.strip())

    def label_of(self, choice: str) -> str:
        if self.choice_labels and choice in self.choices:
            return self.choice_labels[self.choices.index(choice)]
        return choice

    def describe(self) -> str:
        return "one of " + " | ".join(self.choices)


@dataclass(frozen=True)
class StringSetting(Setting):
    kind: ClassVar[str] = "text"

    def _coerce(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self._fail("text", value)
        _check_text(self, value)
        return value


@dataclass(frozen=True)
class PathSetting(Setting):
    """A file or folder path; empty means "use the default" where the node allows it."""

    mode: str = "file"  # "file", "folder" or "save"
    #: File dialog filter such as ``"Keras models (*.keras *.h5)"``.
    file_filter: str = ""
    kind: ClassVar[str] = "path"

    def _coerce(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self._fail("a path", value)
        _check_text(self, value)
        if _CONTROL.search(value):
            raise SettingError(
                f"setting '{self.name}': the path {show_value(value)} contains a control character",
                setting=self.name,
            )
        size = len(value.encode("utf-8"))
        if size > MAX_PATH_BYTES:
            raise SettingError(
                f"setting '{self.name}': the path is {size:,} bytes long; "
                f"the most a path may have is {MAX_PATH_BYTES:,}",
                setting=self.name,
            )
        longest = max(value.replace("\\", "/").split("/"), key=lambda part: len(part.encode("utf-8")))
        if len(longest.encode("utf-8")) > MAX_NAME_BYTES:
            raise SettingError(
                f"setting '{self.name}': the name {show_value(longest)} in the path is "
                f"{len(longest.encode('utf-8')):,} bytes long; the most a file or folder name may have is "
                f"{MAX_NAME_BYTES}",
                setting=self.name,
            )
        return value

    def describe(self) -> str:
        return {"folder": "folder path", "save": "output file path"}.get(self.mode, "file path")


@dataclass(frozen=True)
class IntTupleSetting(Setting):
    """A fixed- or variable-length tuple of integers, e.g. a kernel size or an input shape."""

    min_length: int = 1
    max_length: int = 3
    minimum: int | None = 1
    maximum: int | None = None
    element_names: tuple[str, ...] = field(default=())
    kind: ClassVar[str] = "integers"

    def _coerce(self, value: Any) -> tuple[int, ...]:
        length_text = (
            f"{self.min_length}"
            if self.min_length == self.max_length
            else f"{self.min_length} to {self.max_length}"
        )
        expected = f"a list of {length_text} integers"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise self._fail(expected, value)
        if not self.min_length <= len(value) <= self.max_length:
            raise self._fail(expected, value)
        items = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise self._fail(expected, value)
            if isinstance(item, float) and not item.is_integer():
                raise self._fail(expected, value)
            items.append(int(item))
        for item in items:
            low, high = _bounds(self)
            if item < low or item > high:
                open_side = (self.minimum is None and item < low) or (self.maximum is None and item > high)
                outside = (_range_text_of(low, high) if open_side else _range_text(self)).strip(" ()")
                raise SettingError(
                    f"setting '{self.name}': {show_value(list(value))} has a value outside {outside}",
                    setting=self.name,
                )
        return tuple(items)

    def parse(self, text: str) -> tuple[int, ...]:
        cleaned = text.strip().strip("()[]")
        parts = [p for p in cleaned.replace("x", ",").split(",") if p.strip()]
        if len(parts) > self.max_length or any(len(p.strip().lstrip("+-")) > 20 for p in parts):
            raise self._fail("integers such as 3,3", text)
        try:
            numbers = [int(p.strip()) for p in parts]
        except ValueError:
            raise self._fail("integers such as 3,3", text) from None
        return self.validate(numbers)

    def to_json(self, value: Any) -> Any:
        return list(value)

    def describe(self) -> str:
        count = (
            f"{self.min_length}"
            if self.min_length == self.max_length
            else f"{self.min_length}-{self.max_length}"
        )
        return f"{count} integers{_range_text(self)}"


def _check_range(setting: Any, value: float) -> None:
    low, high = _bounds(setting)
    if value < low or value > high:
        shown = _range_text(setting)
        if (setting.minimum is None and value < low) or (setting.maximum is None and value > high):
            shown = _range_text_of(low, high)
        raise SettingError(
            f"setting '{setting.name}': {show_value(value)} is out of range{shown}",
            setting=setting.name,
        )


def _bounds(setting: Any) -> tuple[float, float]:
    """The declared range, or :data:`UNBOUNDED_LIMIT` in size on a side declared open."""
    low = setting.minimum if setting.minimum is not None else -UNBOUNDED_LIMIT
    high = setting.maximum if setting.maximum is not None else UNBOUNDED_LIMIT
    return low, high


def _check_text(setting: Setting, value: str) -> None:
    """Text must be savable and printable: no NUL, no lone surrogate (not Unicode)."""
    if "\0" in value:
        raise SettingError(f"setting '{setting.name}': the text {show_value(value)} contains a NUL character",
                           setting=setting.name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SettingError(
            f"setting '{setting.name}': the text {show_value(value)} is not valid Unicode "
            f"(it holds the lone surrogate {ascii(exc.object[exc.start])})",
            setting=setting.name,
        ) from None


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def show_value(value: Any) -> str:
    """``repr`` of a received value for a message, cut to a readable length (and safe for
    integers of thousands of digits, which Python refuses to turn into text)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    try:
        text = repr(value)
    except ValueError:
        return "a value with a number too long to show"
    return text if len(text) <= 80 else text[:60] + f"... ({len(text):,} characters)"


def _range_text_of(low: float, high: float) -> str:
    return f" ({_number(low)} to {_number(high)})"


def _range_text(setting: Any) -> str:
    low, high = setting.minimum, setting.maximum
    if low is None and high is None:
        return ""
    if high is None:
        return f" (>= {_number(low)})"
    if low is None:
        return f" (<= {_number(high)})"
    return f" ({_number(low)} to {_number(high)})"


def _number(value: float) -> str:
    """Whole numbers in full (a seed's 4294967295), others in short form (1e-07)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}"


def format_value(value: Any) -> str:
    """Render a setting value compactly for listings (tuples as ``3x3``)."""
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value)
