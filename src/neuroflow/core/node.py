"""The node API: one class per node type, declared in one place.

A node type declares its identity (``type_id``, ``version``, ``category``, ``name``,
``description``), typed ``inputs`` and ``outputs`` and typed ``settings``; it implements

* ``configure(specs) -> specs`` - plain Python, no TensorFlow: output specs (and tensor shapes)
  from input specs and settings, raising :class:`ConfigureError` when the combination is invalid;
* ``execute(inputs, ctx) -> outputs`` - the real work, reporting progress through ``ctx`` and
  honouring its cancel token.

Instances hold one workflow node's settings; the workflow owns ids, labels and wiring.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .errors import Cancelled, ConfigureError, SettingError
from .events import NodeProgress, NodeWarning
from .ports import Port, Spec, Unavailable
from .settings import Setting


class CancelToken:
    """Thread-safe flags set by the user: ``cancel`` aborts, ``stop`` ends training gracefully."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def request_stop(self) -> None:
        """Ask a training node to stop after the current batch and keep what it has learnt."""
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set() or self._cancel.is_set()

    def raise_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()


@dataclass
class ExecutionContext:
    """What a node sees of the executor while it runs."""

    node_id: str
    node_label: str
    token: CancelToken = field(default_factory=CancelToken)
    emit: Callable[[Any], None] = lambda event: None
    #: A one-line result the node leaves for its status line once it has executed (e.g. the
    #: size of the file a writer wrote); set with :meth:`done`.
    result: str = ""

    def progress(self, fraction: float | None, message: str = "") -> None:
        self.token.raise_if_cancelled()
        self.emit(NodeProgress(self.node_id, fraction, message))

    def check_cancelled(self) -> None:
        self.token.raise_if_cancelled()

    def warn(self, message: str) -> None:
        self.emit(NodeWarning(self.node_id, message))

    def done(self, message: str) -> None:
        """Say in one line what the node produced; shown beside its executed state."""
        self.result = message


class Node:
    """Base class of every node type. Subclasses set the class attributes below."""

    type_id: ClassVar[str] = ""
    version: ClassVar[int] = 1
    category: ClassVar[str] = "Other"
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    settings_spec: ClassVar[tuple[Setting, ...]] = ()
    #: Keywords that help the repository search find the node.
    keywords: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        #: The stable id of the workflow node this instance belongs to (set by the workflow).
        self.node_id = ""
        #: The folder of the workflow file, against which relative paths in settings resolve
        #: (set by the workflow; ``None`` for an unsaved workflow: the current folder).
        self.base_folder: Path | None = None
        #: A one-line remark from the last ``configure`` that is not a problem but worth knowing
        #: before running, e.g. that running will download a dataset. ``neuroflow validate`` and
        #: the editor's tooltip show it; ``configure`` sets it (or clears it) every time.
        self.note = ""
        self.settings: dict[str, Any] = {s.name: s.default for s in self.settings_spec}
        for key, value in (settings or {}).items():
            self.set(key, value)

    # -- settings -------------------------------------------------------------------------
    @classmethod
    def setting(cls, name: str) -> Setting:
        for declared in cls.settings_spec:
            if declared.name == name:
                return declared
        known = ", ".join(s.name for s in cls.settings_spec) or "none"
        raise SettingError(
            f"{cls.name} has no setting '{name}' (settings: {known})", setting=name
        )

    def set(self, name: str, value: Any) -> None:
        """Validate and store one setting value."""
        self.settings[name] = self.setting(name).validate(value)

    def __getitem__(self, name: str) -> Any:
        return self.settings[name]

    def settings_json(self) -> dict[str, Any]:
        return {s.name: s.to_json(self.settings[s.name]) for s in self.settings_spec}

    @classmethod
    def migrate_settings(cls, from_version: int, settings: dict[str, Any]) -> dict[str, Any]:
        """Upgrade settings saved by an older ``version`` of this node type.

        The default keeps known settings as they are; node types that rename or re-scale a
        setting override this and bump ``version``.
        """
        return settings

    def resolve_path(self, text: str) -> Path:
        """A path setting's value as a path: ``~`` expanded, and a relative path taken from the
        workflow file's folder, so that a workflow and its data can move together."""
        path = Path(os.path.expanduser(text.strip()))
        if not path.is_absolute() and self.base_folder is not None:
            return self.base_folder / path
        return path

    # -- ports ----------------------------------------------------------------------------
    @classmethod
    def input_port(cls, name: str) -> Port:
        for port in cls.inputs:
            if port.name == name:
                return port
        raise KeyError(name)

    @classmethod
    def output_port(cls, name: str) -> Port:
        for port in cls.outputs:
            if port.name == name:
                return port
        raise KeyError(name)

    # -- the two steps --------------------------------------------------------------------
    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        """Compute output specs from input specs (``None`` for an unconnected optional input)."""
        raise ConfigureError(f"{self.name} does not implement configure")

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        """Do the work; ``inputs`` holds upstream data (``None`` for unconnected optional ports)."""
        raise ConfigureError(f"{self.name} does not implement execute")

    # -- helpers for subclasses -----------------------------------------------------------
    @staticmethod
    def require(specs: Mapping[str, Any], port: str, expected: type) -> Any:
        spec = specs.get(port)
        if spec is None:
            raise ConfigureError(f"input '{port}' is not connected")
        if isinstance(spec, Unavailable):
            raise ConfigureError(f"input '{port}': {spec.reason}")
        if not isinstance(spec, expected):
            raise ConfigureError(f"input '{port}' carries {type(spec).__name__}, not {expected.__name__}")
        return spec


class MissingNode(Node):
    """Stands in for a node whose type is not installed; keeps its settings for saving."""

    category = "Missing"
    name = "Missing node"
    description = "This node's type is not installed. Its settings are kept so that saving loses nothing."

    def __init__(self, missing_type: str, version: int, raw_settings: dict[str, Any]) -> None:
        super().__init__()
        self.missing_type = missing_type
        self.missing_version = version
        self.raw_settings = raw_settings

    def settings_json(self) -> dict[str, Any]:
        return dict(self.raw_settings)

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        raise ConfigureError(f"unknown node type '{self.missing_type}' (is its plugin installed?)")
