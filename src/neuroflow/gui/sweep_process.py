"""The ``neuroflow sweep`` process seen from the editor: a QProcess whose ``--json`` lines become
Qt signals.

The sweep runs in a process of its own (Optuna and TensorFlow are never imported by the editor,
and a crash of the sweep never takes the editor down). Its stdout carries one JSON object per
line (the sweep contract); this class cuts the byte stream into lines, decodes each and emits
it as :attr:`SweepProcess.received`. However the process ends, :attr:`ended` says so once with a
one-line message: a clean end, a stop the user asked for, an error event, a non-zero exit
(the last ``neuroflow: error:`` line of stderr, or the exception line of a traceback, never the
traceback itself) or a crash.
"""

from __future__ import annotations

import json
import os
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

#: How the editor starts the command: this Python, the installed package.
DEFAULT_COMMAND: tuple[str, ...] = (sys.executable, "-m", "neuroflow")
#: After Stop, how long the process may take to end on SIGTERM before it is killed.
STOP_GRACE_MS = 5_000
#: Lines of stderr kept to explain an unexpected end.
STDERR_LINES = 40
#: A stdout line longer than this is not a contract event (a runaway print): it is dropped.
MAX_LINE_BYTES = 1 << 20
MAX_MESSAGE = 300
ERROR_PREFIX = "neuroflow: error: "

DONE, STOPPED, FAILED = "done", "stopped", "failed"


def one_line(stderr_lines: Sequence[str]) -> str:
    """The line of stderr that says what went wrong: the command's own error line, else the
    last line (a traceback's last line names the exception), cut to a readable length."""
    lines = [line.strip() for line in stderr_lines if line.strip()]
    for line in reversed(lines):
        if line.startswith(ERROR_PREFIX):
            return _cut(line[len(ERROR_PREFIX):])
    return _cut(lines[-1]) if lines else ""


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


class SweepProcess(QObject):
    """Runs one sweep; ``command`` replaces ``python -m neuroflow`` (tests start a fake sweep)."""

    #: Every contract event (a dict with an "event" key), in the order the process wrote them.
    received = Signal(dict)
    #: Once, when the process has ended: (DONE | STOPPED | FAILED, one-line message).
    ended = Signal(str, str)
    started = Signal()

    def __init__(self, command: Sequence[str] | None = None, parent: QObject | None = None,
                 grace_ms: int = STOP_GRACE_MS) -> None:
        super().__init__(parent)
        self.command = tuple(command or DEFAULT_COMMAND)
        self.grace_ms = grace_ms
        self._process: QProcess | None = None
        #: Kills a process that outlives the grace period; owned here, so it dies with this object.
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill)
        self._buffer = b""
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._stopping = False
        self._error = ""
        self._done = False
        self._reported = False

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    @property
    def pid(self) -> int:
        return int(self._process.processId()) if self._process is not None else 0

    def start(self, arguments: Sequence[str], cwd: str | Path | None = None) -> None:
        """Start ``command + arguments``; a process still running is not replaced."""
        if self.running:
            raise RuntimeError("a sweep is running already")
        self._buffer, self._error, self._done, self._stopping, self._reported = b"", "", False, False, False
        self._stderr.clear()
        process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")  # one event per line as it happens
        if not environment.contains("TF_CPP_MIN_LOG_LEVEL"):
            environment.insert("TF_CPP_MIN_LOG_LEVEL", "2")
        process.setProcessEnvironment(environment)
        if cwd is not None:
            process.setWorkingDirectory(os.fspath(cwd))
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error_occurred)
        process.started.connect(self.started)
        self._process = process
        process.start(self.command[0], [*self.command[1:], *arguments])

    def stop(self) -> None:
        """End the sweep: SIGTERM now, SIGKILL if it is still there after the grace period."""
        if not self.running:
            return
        self._stopping = True
        assert self._process is not None
        self._process.terminate()
        self._kill_timer.start(self.grace_ms)

    def _kill(self) -> None:
        if self.running:
            assert self._process is not None
            self._process.kill()

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the process ends (tests, closing the editor)."""
        return self._process is None or self._process.waitForFinished(msecs)

    # -- output -----------------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        assert self._process is not None
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        if len(self._buffer) > MAX_LINE_BYTES:
            self._buffer = b""
        for line in lines:
            self._line(line)

    def _line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").strip()
        if not text or len(raw) > MAX_LINE_BYTES:
            return
        try:
            event = json.loads(text)
        except ValueError:
            self._stderr.append(text)  # not an event: kept like stderr, to explain an end
            return
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            return
        if event["event"] == "error":
            self._error = _cut(str(event.get("message") or "the sweep reported an error"))
        elif event["event"] == "done":
            self._done = True
        self.received.emit(event)

    def _read_stderr(self) -> None:
        assert self._process is not None
        text = bytes(self._process.readAllStandardError().data()).decode("utf-8", errors="replace")
        for line in text.splitlines():
            if line.strip():
                self._stderr.append(line[:2_000])

    # -- the end --------------------------------------------------------------------------------
    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._kill_timer.stop()
        self._read_stdout()
        if self._buffer:
            self._line(self._buffer)
            self._buffer = b""
        self._read_stderr()
        if self._stopping:
            self._report(STOPPED, "Stopped: the sweep process was ended; finished trials stay in the study")
        elif self._error:
            self._report(FAILED, self._error)
        elif status == QProcess.ExitStatus.CrashExit:
            said = one_line(self._stderr)
            self._report(FAILED, f"The sweep process crashed{': ' + said if said else ''}")
        elif code != 0:
            said = one_line(self._stderr)
            self._report(FAILED, said or f"The sweep process ended with exit code {code}")
        elif not self._done:
            self._report(FAILED, "The sweep process ended without reporting the end of the study")
        else:
            self._report(DONE, "")

    def _error_occurred(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._process is not None:
            self._report(FAILED, _cut(f"Cannot start the sweep: {self._process.errorString()}"))

    def _report(self, outcome: str, message: str) -> None:
        if not self._reported:
            self._reported = True
            self.ended.emit(outcome, message)
