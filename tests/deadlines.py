"""A test helper: fail instead of hanging where a blocking call could wait forever."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Raise TimeoutError after ``seconds``: the alarm interrupts e.g. a blocked ``open`` of a
    named pipe, so a test that would hang fails with a reason."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
