"""Image lists: a CSV file with a path column and a label column, the way most labelled
datasets ship (``images/0001.jpg,cat,train``).

:func:`read_image_list` parses the file (the delimiter is sniffed: comma, semicolon, tab or
bar; the first row names the columns), resolves paths relative to the CSV's own folder, checks
that every listed file exists and every label is a known class, and keeps the rows of one
split when a split column is chosen. Everything wrong is refused with the file, the line and
the value. The class list is the one the user gives, or else every label in the whole file
(all splits), sorted - numerically when all labels are numbers - so that readers of the
training and the test split of one file agree on it. Parsing is cached until the file changes.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISDIR, S_ISREG

from neuroflow.core.errors import DataError
from neuroflow.core.userfiles import describe_kind, open_regular_file

_CACHE_SIZE = 16
_cache: dict[tuple[object, ...], ImageList] = {}
#: Missing files named in the error (the count says how many more).
_NAMED_MISSING = 3


@dataclass(frozen=True)
class ImageList:
    """The rows a reader keeps: absolute paths and label indices, and the class names."""

    paths: tuple[str, ...]
    labels: tuple[int, ...]
    class_names: tuple[str, ...]
    rows_in_file: int


@dataclass(frozen=True)
class ListColumns:
    path: str
    label: str
    split: str = ""
    split_value: str = ""


def read_image_list(csv_path: Path, columns: ListColumns, classes: Sequence[str] = ()) -> ImageList:
    """The rows of ``csv_path`` to read, checked; see the module docstring."""
    try:
        stat = csv_path.stat()
    except FileNotFoundError:
        raise DataError(f"image list not found: {csv_path}") from None
    except OSError as exc:
        raise DataError(f"cannot read image list {csv_path}: {exc.strerror or exc}") from None
    if S_ISDIR(stat.st_mode):
        raise DataError(f"{csv_path} is a folder; expected a CSV file listing images and labels")
    if not S_ISREG(stat.st_mode):  # a named pipe would block reading, a device never end
        raise DataError(f"{csv_path} is {describe_kind(stat.st_mode)}; expected a CSV file listing images and labels")
    key = (str(csv_path), stat.st_size, stat.st_mtime_ns, columns, tuple(classes))
    cached = _cache.get(key)
    if cached is None:
        cached = _read(csv_path, columns, tuple(classes))
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[key] = cached
    return cached


def _read(csv_path: Path, columns: ListColumns, classes: tuple[str, ...]) -> ImageList:
    name = csv_path.name
    try:
        with open_regular_file(csv_path) as handle:
            text = handle.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text (byte {exc.start:,}); save it as UTF-8 CSV") from None
    except OSError as exc:
        raise DataError(f"cannot read image list {csv_path}: {exc.strerror or exc}") from None
    rows = list(csv.reader(io.StringIO(text), dialect=_dialect(text)))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise DataError(f"image list {name} is empty; expected a header row and one row per image")
    header = [cell.strip() for cell in rows[0]]
    wanted = [(columns.path, "path"), (columns.label, "label")]
    if columns.split:
        wanted.append((columns.split, "split"))
    index = {}
    for column, role in wanted:
        if not column:
            raise DataError(f"setting '{role}_column': no column name given")
        if column not in header:
            shown = ", ".join(h for h in header if h) or "none"
            if len(shown) > 200:  # not a CSV file, most likely: its first line, cut short
                shown = f"{shown[:150]}... ({len(header):,} columns)"
            raise DataError(f"{name} has no {role} column '{column}' (its columns: {shown})")
        index[role] = header.index(column)

    records = []  # (line, path text, label, split)
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [row[i].strip() if i < len(row) else "" for i in range(len(header))]
        path_text, label = cells[index["path"]], cells[index["label"]]
        if not path_text:
            raise DataError(f"{name} line {line}: the path column '{columns.path}' is empty")
        if not label:
            raise DataError(f"{name} line {line}: the label column '{columns.label}' is empty")
        records.append((line, path_text, label, cells[index["split"]] if columns.split else ""))
    if not records:
        raise DataError(f"image list {name} has a header but no rows")

    class_names = classes or _sorted_labels({label for _, _, label, _ in records})
    known = {label: i for i, label in enumerate(class_names)}
    for line, _, label, _ in records:
        if label not in known:
            listed = ", ".join(class_names[:8]) + (", ..." if len(class_names) > 8 else "")
            raise DataError(f"{name} line {line}: label '{label}' is not one of the classes ({listed})")

    if columns.split:
        chosen = [r for r in records if r[3] == columns.split_value]
        if not chosen:
            values = ", ".join(sorted({r[3] for r in records})[:8])
            raise DataError(
                f"{name}: no row has '{columns.split_value}' in the split column '{columns.split}' "
                f"(its values: {values})"
            )
    else:
        chosen = records

    base = csv_path.parent
    paths = []
    missing = []
    for line, path_text, _, _ in chosen:
        path = Path(os.path.expanduser(path_text))
        full = os.path.abspath(path if path.is_absolute() else base / path)
        if not os.path.exists(full):  # a folder or a pipe listed here is found unreadable when checked
            missing.append((line, path_text))
        paths.append(full)
    if missing:
        named = ", ".join(f"line {line}: {text}" for line, text in missing[:_NAMED_MISSING])
        more = f" and {len(missing) - _NAMED_MISSING:,} more" if len(missing) > _NAMED_MISSING else ""
        noun = "file" if len(missing) == 1 else "files"
        raise DataError(
            f"{name} lists {len(missing):,} image {noun} that do not exist ({named}{more}); "
            f"paths are taken from the CSV's folder {base}"
        )
    labels = tuple(known[label] for _, _, label, _ in chosen)
    return ImageList(tuple(paths), labels, tuple(class_names), len(records))


def parse_classes(text: str) -> tuple[str, ...]:
    """The class list setting: names separated by commas; empty for "every label in the file"."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"setting 'classes': {', '.join(twice)} listed twice")
    return names


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _sorted_labels(labels: set[str]) -> tuple[str, ...]:
    if all(_is_number(label) for label in labels):
        return tuple(sorted(labels, key=float))
    return tuple(sorted(labels))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
