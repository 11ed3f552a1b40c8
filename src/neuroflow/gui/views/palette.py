"""Colours and small style helpers shared by the result views (aligned with the monitor's)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from .. import theme
from ..chart_style import (
    ACCENT_COLOR,
    CHART_BACKGROUND,
    CHART_FOREGROUND,
    MUTED_TEXT_COLOR,
    PANEL_BACKGROUND,
    PANEL_BORDER,
    TEXT_COLOR,
    TRAIN_COLOR,
    VALIDATION_COLOR,
)

CORRECT_COLOR = theme.SUCCESS
WRONG_COLOR = theme.ERROR
WRONG_BACKGROUND = "#fef2f2"
WARNING_COLOR = theme.WARNING
BAR_COLOR = ACCENT_COLOR
SELECTION_COLOR = "#f59e0b"  # amber: distinct from both the blue diagonal and the red errors
#: Confusion-matrix cells: the diagonal shades towards DIAGONAL_COLOR, errors towards WRONG_COLOR.
DIAGONAL_COLOR = "#2563eb"

__all__ = [
    "ACCENT_COLOR",
    "BAR_COLOR",
    "CHART_BACKGROUND",
    "CHART_FOREGROUND",
    "CORRECT_COLOR",
    "DIAGONAL_COLOR",
    "MUTED_TEXT_COLOR",
    "PANEL_BACKGROUND",
    "PANEL_BORDER",
    "SELECTION_COLOR",
    "TEXT_COLOR",
    "TRAIN_COLOR",
    "VALIDATION_COLOR",
    "WARNING_COLOR",
    "WRONG_BACKGROUND",
    "WRONG_COLOR",
    "blend",
    "heading_style",
    "muted_style",
]


def blend(color: str, amount: float, base: str = CHART_BACKGROUND) -> QColor:
    """``color`` mixed into ``base``: ``amount`` 0 gives ``base``, 1 gives ``color``."""
    amount = min(1.0, max(0.0, amount))
    a, b = QColor(base), QColor(color)
    return QColor(
        round(a.red() + (b.red() - a.red()) * amount),
        round(a.green() + (b.green() - a.green()) * amount),
        round(a.blue() + (b.blue() - a.blue()) * amount),
    )


def heading_style(size_pt: int = 12) -> str:
    return f"color: {TEXT_COLOR}; font-size: {size_pt}pt; font-weight: 600;"


def muted_style(size_pt: int = 9) -> str:
    return f"color: {MUTED_TEXT_COLOR}; font-size: {size_pt}pt;"
