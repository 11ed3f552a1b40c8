"""The editor's side of the execution process: start it, talk to it, notice when it dies.

:class:`WorkerClient` starts :func:`neuroflow.worker.server.main` in a new process with
``multiprocessing``'s *spawn* method (a fresh interpreter on every platform: it inherits no Qt
state and no threads). A reader thread receives the worker's messages and hands them to
``on_message`` - on that thread; the editor re-posts them to its GUI thread. When the pipe
breaks because the process ended, ``on_message`` receives ``("died", description)``.

Requests that need an answer (the pixels a view shows) go through :meth:`request`, which waits
for the matching reply with a timeout, whatever else the worker is sending meanwhile.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .protocol import Key, RemoteArray

log = logging.getLogger(__name__)

#: Seconds to wait for an answer to a request (images for a view).
REQUEST_TIMEOUT = 10.0


def describe_exit(code: int | None) -> str:
    """How a worker process ended, for a message to the user."""
    if code is None:
        return "stopped responding"
    if code < 0:
        number = -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number == getattr(signal, "SIGKILL", 9):
            return f"was killed ({name}; out of memory?)"
        return f"crashed ({name})"
    return f"ended unexpectedly (exit code {code})"


class WorkerClient:
    """One execution process; ``on_message(message)`` is called on the reader thread."""

    def __init__(self, on_message: Callable[[tuple[Any, ...]], None]) -> None:
        from .server import main

        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe(duplex=True)
        self.process = context.Process(target=main, args=(child,), name="neuroflow-worker", daemon=True)
        self.process.start()
        child.close()
        self._on_message = on_message
        self._send_lock = threading.Lock()
        self._pending: dict[int, tuple[threading.Event, list[Any]]] = {}
        self._ids = itertools.count(1)
        self._closing = False
        self._reader = threading.Thread(target=self._read, name="neuroflow-worker-reader", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self.process.is_alive() and not self._closing

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def next_id(self) -> int:
        return next(self._ids)

    def send(self, message: tuple[Any, ...]) -> bool:
        """Send a message; False when the worker is gone (its death is reported separately)."""
        with self._send_lock:
            try:
                self._conn.send(message)
                return True
            except (OSError, ValueError, BrokenPipeError):
                return False

    def request(self, kind: str, *payload: Any, timeout: float = REQUEST_TIMEOUT) -> Any:
        """Send ``(kind, id, *payload)`` and wait for the reply with that id."""
        number = next(self._ids)
        done = threading.Event()
        box: list[Any] = []
        self._pending[number] = (done, box)
        try:
            if not self.send((kind, number, *payload)):
                raise ConnectionError("the execution process is not running")
            if not done.wait(timeout):
                raise TimeoutError(f"the execution process did not answer within {timeout:g} s")
        finally:
            self._pending.pop(number, None)
        if not box:
            raise ConnectionError("the execution process ended before answering")
        return box[0]

    def fetch_images(self, key: Key, indices: Sequence[int]) -> np.ndarray:
        reply = self.request("images", key, list(indices))
        if isinstance(reply, str):
            raise LookupError(reply)
        return np.asarray(reply)

    def install_as_image_source(self) -> None:
        """Make :class:`RemoteArray` stand-ins fetch their pixels from this worker."""
        RemoteArray.fetch = self.fetch_images

    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError, ValueError):
                break
            except Exception:  # an undecodable message: a bug, never a reason to stop reading
                log.exception("unreadable message from the execution process")
                continue
            if message[0] == "images":
                waiting = self._pending.get(message[1])
                if waiting is not None:
                    waiting[1].append(message[2])
                    waiting[0].set()
                continue
            self._on_message(message)
        for done, _box in list(self._pending.values()):
            done.set()  # wake anyone waiting: their answer will not come
        self.process.join(2.0)
        if not self._closing:
            self._on_message(("died", describe_exit(self.process.exitcode)))

    def close(self, timeout: float = 2.0) -> None:
        """End the worker: politely, then by force; its results are gone afterwards."""
        if self._closing:
            return
        self._closing = True
        self.send(("shutdown",))
        self.process.join(timeout)
        if self.process.is_alive():
            self.kill()
        self._conn.close()

    def kill(self) -> None:
        """End the worker at once (it did not respond, or the editor is closing)."""
        self._closing = True
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5.0)
