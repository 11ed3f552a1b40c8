"""The editor's side of the execution process: start it, talk to it, notice when it dies.

:class:`WorkerClient` starts ``python -m neuroflow.worker ADDRESS`` (a fresh interpreter that
inherits no Qt state and no threads, and never re-imports the program that started it - so an
editor started from any script or notebook works) and accepts its connection on a local
socket (a named pipe on Windows) guarded by a random key. A reader thread accepts the
connection, then receives the worker's messages and hands them to ``on_message`` - on that
thread; the editor re-posts them to its GUI thread. Messages sent before the worker has
connected wait for it. When the process ends, ``on_message`` receives ``("died", description)``.

Requests that need an answer (the pixels a view shows) go through :meth:`request`, which waits
for the matching reply with a timeout, whatever else the worker is sending meanwhile.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Listener
from typing import Any

import numpy as np

from .protocol import Key, RemoteArray

log = logging.getLogger(__name__)

#: Seconds to wait for an answer to a request (images for a view).
REQUEST_TIMEOUT = 10.0
#: Seconds a model question may take (the first Grad-CAM traces the model's gradient).
INFER_TIMEOUT = 60.0
#: Seconds a new worker may take to connect before it counts as failed to start.
CONNECT_TIMEOUT = 60.0
#: The environment variable that carries the connection key to the worker (not its argv,
#: which other users of the machine can read).
KEY_ENV = "NEUROFLOW_WORKER_KEY"


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
        key = secrets.token_bytes(32)
        self._listener = Listener(authkey=key)
        env = dict(os.environ, **{KEY_ENV: key.hex()})
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "neuroflow.worker", str(self._listener.address)], env=env,
            stdin=subprocess.DEVNULL,
        )
        self._conn: Any = None
        self._on_message = on_message
        self._send_lock = threading.Lock()
        self._waiting_to_send: list[tuple[Any, ...]] = []
        self._pending: dict[int, tuple[threading.Event, list[Any]]] = {}
        self._ids = itertools.count(1)
        self._closing = False
        self._reader = threading.Thread(target=self._read, name="neuroflow-worker-reader", daemon=True)
        self._reader.start()
        watchdog = threading.Timer(CONNECT_TIMEOUT, self._connect_overdue)
        watchdog.daemon = True
        watchdog.start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None and not self._closing

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def next_id(self) -> int:
        return next(self._ids)

    def send(self, message: tuple[Any, ...]) -> bool:
        """Send a message (kept until the worker connects); False when the worker is gone."""
        with self._send_lock:
            if self._conn is None:
                if self.process.poll() is not None or self._closing:
                    return False
                self._waiting_to_send.append(message)
                return True
            try:
                self._conn.send(message)
                return True
            except (OSError, ValueError):
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

    def infer(self, node_id: str, what: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Ask the model behind ``node_id`` (see :mod:`.inference`); blocks: call it off the GUI thread."""
        reply = self.request("infer", node_id, what, payload, timeout=INFER_TIMEOUT)
        if isinstance(reply, str):
            raise LookupError(reply)
        return reply

    def install_as_image_source(self) -> None:
        """Make :class:`RemoteArray` stand-ins fetch their pixels, and views ask the model, here."""
        from . import inference

        RemoteArray.fetch = self.fetch_images
        inference.ask = self.infer

    def _read(self) -> None:
        try:
            conn = self._listener.accept()
        except (OSError, EOFError, ValueError) as exc:  # it never connected (or the key was wrong)
            log.warning("the execution process did not connect: %s", exc)
            self._ended()
            return
        finally:
            self._listener.close()
        with self._send_lock:
            self._conn = conn
            waiting, self._waiting_to_send = self._waiting_to_send, []
            for message in waiting:
                try:
                    conn.send(message)
                except (OSError, ValueError):
                    break
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError, ValueError):
                break
            except Exception:  # an undecodable message: a bug, never a reason to stop reading
                log.exception("unreadable message from the execution process")
                continue
            if message[0] in ("images", "infer"):
                waiting_reply = self._pending.get(message[1])
                if waiting_reply is not None:
                    waiting_reply[1].append(message[2])
                    waiting_reply[0].set()
                continue
            self._on_message(message)
        self._ended()

    def _ended(self) -> None:
        for done, _box in list(self._pending.values()):
            done.set()  # wake anyone waiting: their answer will not come
        try:
            code = self.process.wait(5.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        if not self._closing:
            self._on_message(("died", describe_exit(code)))

    def _connect_overdue(self) -> None:
        if self._conn is None and not self._closing:
            log.warning("the execution process did not connect within %.0f s", CONNECT_TIMEOUT)
            self.kill()
            self._closing = False  # report it as a death, not as a close
            self._abandon_listener()

    def _abandon_listener(self) -> None:
        """Wake the reader from ``accept``: connect once ourselves and hang up."""
        try:
            from multiprocessing.connection import Client

            Client(self._listener.address, authkey=b"wrong").close()
        except Exception:  # refused, as intended
            pass

    def close(self, timeout: float = 2.0) -> None:
        """End the worker: politely, then by force; its results are gone afterwards."""
        if self._closing:
            return
        self._closing = True
        self.send(("shutdown",))
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        if self._conn is None:
            self._abandon_listener()
        else:
            self._conn.close()

    def kill(self) -> None:
        """End the worker at once (it did not respond, or the editor is closing)."""
        self._closing = True
        if self.process.poll() is None:
            self.process.kill()
            try:
                self.process.wait(5.0)
            except subprocess.TimeoutExpired:
                log.warning("the execution process %s did not end after being killed", self.process.pid)
