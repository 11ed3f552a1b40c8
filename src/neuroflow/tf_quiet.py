"""TensorFlow's start-up lines, silenced before TensorFlow is imported.

Importing TensorFlow prints lines of its own on stderr - absl's "WARNING: All log messages
before absl::InitializeLog() is called are written to STDERR", the oneDNN notice, "This
TensorFlow binary is optimized to use available CPU instructions ..." - which turn every
one-line error of the command line into three lines and say nothing a NeuroFlow user can act
on. They come from TensorFlow's C++ logging, which reads ``TF_CPP_MIN_LOG_LEVEL`` once, when
TensorFlow is first imported; so :func:`quiet_tensorflow` must run before that, in every
process that may import it (the command line calls it first thing; a worker process that
trains does the same). Errors (level 2) still reach stderr. A level the user chose themselves
is kept.
"""

from __future__ import annotations

import os

#: 0 all, 1 no INFO, 2 no INFO or WARNING, 3 nothing.
LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
QUIET_LEVEL = "2"


_set_here: list[bool] = []


def quiet_tensorflow(level: str = QUIET_LEVEL) -> None:
    """Hide TensorFlow's INFO and WARNING start-up lines unless the user set a level.

    ``level`` "3" also hides TensorFlow's ERROR lines, for when NeuroFlow reports those errors
    itself in one line (a cluster whose worker stopped).
    """
    if _set_here or not os.environ.get(LEVEL_VARIABLE, "").strip().isdigit():
        os.environ[LEVEL_VARIABLE] = level
        _set_here.append(True)
