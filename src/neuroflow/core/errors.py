"""Errors meant for people.

Every error NeuroFlow raises on purpose derives from :class:`NeuroFlowError` and carries a
one-line message that says *what* is wrong, *where* (node and setting, or JSON path) and the
value received. The command line prints ``str(error)`` and exits non-zero; the editor shows it
on the node and in the messages panel. Tracebacks are for bugs only.

Exception tree::

    NeuroFlowError
    ├── WorkflowFileError      a .workflow file cannot be read (JSON path + reason)
    ├── ConnectionRefused      incompatible ports, second connection into an input, cycle
    ├── SettingError           a setting value is missing, of the wrong type or out of range
    ├── ConfigureError         a node cannot compute its output specs (shapes, missing input)
    ├── DataError              a data file is missing, unreadable or inconsistent
    ├── NodeExecutionError     a node failed while executing
    ├── HistoryError           the run history database cannot be opened, read or written
    └── Cancelled              the user cancelled execution
"""

from __future__ import annotations


class NeuroFlowError(Exception):
    """Base class: ``str(err)`` is a complete one-line message for the user."""


class WorkflowFileError(NeuroFlowError):
    """A ``.workflow`` file is malformed; names the file, the JSON path and the reason."""

    def __init__(self, reason: str, *, file: str | None = None, json_path: str | None = None):
        self.reason = reason
        self.file = file
        self.json_path = json_path
        where = ": ".join(part for part in (file, json_path) if part)
        super().__init__(f"{where}: {reason}" if where else reason)


class ConnectionRefused(NeuroFlowError):
    """A connection between two ports is not allowed; the message names both ends."""


class SettingError(NeuroFlowError):
    """A setting value is invalid; the message names the setting and quotes the value."""

    def __init__(self, message: str, *, setting: str | None = None, node: str | None = None):
        self.setting = setting
        self.node = node
        self.bare_message = message
        super().__init__(message)

    def at_node(self, node: str) -> SettingError:
        """Return the same error, prefixed with the node it belongs to."""
        return SettingError(f"{node}: {self.bare_message}", setting=self.setting, node=node)


class ConfigureError(NeuroFlowError):
    """A node cannot compute its output specs from its inputs and settings."""


class DataError(NeuroFlowError):
    """Input data is missing, unreadable or inconsistent (e.g. labels vs. images)."""


class NodeExecutionError(NeuroFlowError):
    """A node failed while executing; wraps the node's one-line reason."""

    def __init__(self, node: str, reason: str):
        self.node = node
        self.reason = reason
        super().__init__(f"{node}: {reason}")


class HistoryError(NeuroFlowError):
    """The run history (``<workflow>.runs.sqlite``) cannot be used; names the file and the reason."""


class Cancelled(NeuroFlowError):
    """Execution was cancelled by the user."""

    def __init__(self, message: str = "execution cancelled") -> None:
        super().__init__(message)
