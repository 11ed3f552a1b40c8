"""A regular (non-editable) install must carry every package of the source tree.

The editable install used for development finds any package on disk, so a package missing
from pyproject's list only shows on a user's machine: the editor would fail to start its
execution process (``neuroflow.worker``) or to show results (``neuroflow.gui.views``).
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = None

import pytest

REPO = Path(__file__).resolve().parents[1]


def source_packages() -> set[str]:
    """Every folder with an ``__init__.py``, named as the installed package will be."""
    roots = {"src/neuroflow": "neuroflow", "nodes": "neuroflow.nodes", "assets": "neuroflow.assets"}
    found = set()
    for folder, name in roots.items():
        for init in (REPO / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(REPO / folder).parts
            found.add(".".join((name, *parts)))
    return found


@pytest.mark.skipif(tomllib is None, reason="tomllib arrived in Python 3.11")
def test_every_source_package_is_listed_for_installation() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert source_packages() - listed == set()
    assert listed - source_packages() == set()
