"""``python -m neuroflow.worker ADDRESS``: the execution process the editor starts (see
:mod:`neuroflow.worker.client`); the connection key comes in ``$NEUROFLOW_WORKER_KEY``."""

from __future__ import annotations

import os
import sys
from multiprocessing.connection import Client

from .client import KEY_ENV
from .server import main

if __name__ == "__main__":
    if len(sys.argv) != 2 or KEY_ENV not in os.environ:
        print("neuroflow worker: started by the NeuroFlow editor, not by hand", file=sys.stderr)
        sys.exit(2)
    key = bytes.fromhex(os.environ.pop(KEY_ENV))
    try:
        connection = Client(sys.argv[1], authkey=key)
    except (OSError, EOFError) as exc:
        print(f"neuroflow worker: cannot reach the editor: {exc}", file=sys.stderr)
        sys.exit(1)
    main(connection)
