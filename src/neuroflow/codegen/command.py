"""``neuroflow export FILE --python OUT.py [--set NODE.SETTING=VALUE ...]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    export = commands.add_parser("export", help="write a workflow as a standalone Keras script")
    export.add_argument("file", help="the .workflow file")
    export.add_argument("--python", required=True, metavar="OUT.py", help="the script to write")
    export.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.SETTING=VALUE",
                        help="override a setting before exporting (repeatable)")
    export.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    from neuroflow.cli import _load
    from neuroflow.core.atomic import atomic_write_text

    from .script import export_script

    workflow = _load(options.file, options.overrides)
    text = export_script(workflow, options.file)
    atomic_write_text(Path(options.python), text)
    print(f"{options.python}: written ({len(text.splitlines())} lines); run it with python {options.python}",
          file=sys.stdout)
    return 0
