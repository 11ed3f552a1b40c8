"""Finding node types: built-ins, a user folder and the ``neuroflow.nodes`` entry-point group.

Built-in nodes live in the ``neuroflow.nodes`` package (the project's top-level ``nodes/``
folder). Every module below it is imported and every :class:`Node` subclass with a
``type_id`` is registered. Plugins come from ``*.py`` files in the user folder
(``$NEUROFLOW_NODES_DIR`` or ``~/.neuroflow/nodes``) and from installed distributions that
declare entry points in the ``neuroflow.nodes`` group (each pointing at a module or a Node
class). A plugin that fails to import, or declares an invalid node, is reported in
:attr:`Registry.problems` and skipped: one broken plugin never takes the application down.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import os
import pkgutil
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from .node import Node

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "neuroflow.nodes"


def user_nodes_dir() -> Path:
    configured = os.environ.get("NEUROFLOW_NODES_DIR")
    return Path(configured) if configured else Path.home() / ".neuroflow" / "nodes"


class Registry:
    """Node types by type id, plus the problems met while looking for them."""

    def __init__(self) -> None:
        self._types: dict[str, type[Node]] = {}
        self.problems: list[str] = []

    # -- registration ---------------------------------------------------------------------
    def register(self, node_type: type[Node], *, origin: str = "") -> None:
        problem = _declaration_problem(node_type)
        if problem:
            self._report(f"{origin or node_type.__module__}: {problem}; skipped")
            return
        existing = self._types.get(node_type.type_id)
        if existing is not None and existing is not node_type:
            self._report(
                f"{origin or node_type.__module__}: node type '{node_type.type_id}' is already "
                f"provided by {existing.__module__}; skipped"
            )
            return
        self._types[node_type.type_id] = node_type

    def register_module(self, module: ModuleType, *, origin: str = "") -> None:
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Node) and obj.__module__ == module.__name__ and obj.type_id:
                self.register(obj, origin=origin or module.__name__)

    def _report(self, message: str) -> None:
        log.warning(message)
        self.problems.append(message)

    # -- discovery ------------------------------------------------------------------------
    def load_builtins(self) -> None:
        import neuroflow.nodes as package

        from .block import BlockNode  # the core's own node type: the file format knows it

        self.register(BlockNode)

        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            if info.ispkg:
                continue
            module = importlib.import_module(info.name)
            self.register_module(module)

    def load_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.py")):
            module_name = f"neuroflow_user_nodes.{path.stem}"
            try:
                spec = importlib.util.spec_from_file_location(module_name, path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            except Exception as exc:  # a broken plugin must not stop the application
                sys.modules.pop(module_name, None)
                self._report(f"plugin {path.name}: {type(exc).__name__}: {exc}; skipped")
                continue
            self.register_module(module, origin=f"plugin {path.name}")

    def load_entry_points(self) -> None:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry.load()
            except Exception as exc:
                self._report(f"plugin '{entry.name}' ({entry.value}): {type(exc).__name__}: {exc}; skipped")
                continue
            origin = f"plugin '{entry.name}'"
            if inspect.ismodule(loaded):
                self.register_module(loaded, origin=origin)
            elif inspect.isclass(loaded) and issubclass(loaded, Node):
                self.register(loaded, origin=origin)
            else:
                self._report(f"{origin}: {entry.value} is neither a module nor a Node class; skipped")

    # -- lookup ---------------------------------------------------------------------------
    def get(self, type_id: str) -> type[Node] | None:
        return self._types.get(type_id)

    def __contains__(self, type_id: str) -> bool:
        return type_id in self._types

    def __iter__(self) -> Iterator[type[Node]]:
        return iter(sorted(self._types.values(), key=lambda t: (t.category, t.name)))

    def __len__(self) -> int:
        return len(self._types)

    def categories(self) -> dict[str, list[type[Node]]]:
        grouped: dict[str, list[type[Node]]] = {}
        for node_type in self:
            grouped.setdefault(node_type.category, []).append(node_type)
        return grouped


def _declaration_problem(node_type: type[Node]) -> str:
    if not node_type.type_id or not node_type.name:
        return f"{node_type.__name__} declares no type_id or name"
    names = [s.name for s in node_type.settings_spec]
    if len(set(names)) != len(names):
        return f"{node_type.type_id} declares a setting twice"
    for setting in node_type.settings_spec:
        try:
            setting.validate(setting.default)
        except Exception as exc:
            return f"{node_type.type_id}: default of '{setting.name}' is invalid ({exc})"
    return ""


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry: built-ins, the user folder and entry points, loaded once."""
    global _default
    if _default is None:
        registry = Registry()
        registry.load_builtins()
        registry.load_folder(user_nodes_dir())
        registry.load_entry_points()
        _default = registry
    return _default
