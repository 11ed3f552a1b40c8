"""``python -m neuroflow`` is the ``neuroflow`` command."""

import sys

from .cli import main

sys.exit(main())
