"""Import TensorFlow in the background once the editor is on screen.

The editor never imports TensorFlow at start-up (the canvas must be usable at once), but the
first Execute would otherwise wait several seconds for it. A background thread imports Keras a
moment after the window shows, while the user is still placing nodes. It is an ordinary
(non-daemon) thread: the interpreter never shuts down in the middle of that import.
"""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger(__name__)

#: Set to any value to skip the warm-up (tests, benchmarks).
DISABLE_ENV = "NEUROFLOW_NO_WARMUP"


class WarmUp(threading.Thread):
    """The warm-up thread; :meth:`skip` before it starts importing makes it end at once."""

    def __init__(self, delay: float) -> None:
        super().__init__(name="tensorflow-warmup")
        self.delay = delay
        self._skip = threading.Event()

    def skip(self) -> None:
        self._skip.set()

    def run(self) -> None:
        if not self._skip.wait(self.delay):
            _import_keras(0.0)


def _import_keras(delay: float) -> None:
    from .runner import lower_thread_priority

    lower_thread_priority()  # TensorFlow's thread pools, created here, inherit it
    time.sleep(delay)
    started = time.perf_counter()
    try:
        import keras  # noqa: F401  (the import is the point)
    except Exception as exc:  # no TensorFlow: execution will report it on the learner node
        log.warning("background TensorFlow import failed: %s", exc)
        return
    log.info("TensorFlow ready after %.1f s in the background", time.perf_counter() - started)


def start(delay: float = 1.5) -> WarmUp | None:
    """Start the warm-up thread, unless disabled by :data:`DISABLE_ENV`."""
    if os.environ.get(DISABLE_ENV):
        return None
    thread = WarmUp(delay)
    thread.start()
    return thread
