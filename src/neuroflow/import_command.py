"""``neuroflow import MODEL.keras|MODEL.h5 --out FILE.workflow [--weights]``: a model file as nodes.

The work is :func:`neuroflow.training.model_import.import_model` (no TensorFlow); this module
only parses the command, refuses to overwrite a workflow without ``--force`` and saves.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .core.errors import NeuroFlowError


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("import", help="bring a Keras model file in as layer nodes")
    parser.add_argument("model", help="the model file (.keras, or .h5 from Keras 3 or Keras 2.2 to 2.15)")
    parser.add_argument("--out", required=True, metavar="FILE.workflow", help="the workflow to write")
    parser.add_argument("--weights", action="store_true",
                        help="add a Network Learner that starts from the model's weights (0 epochs: "
                             "the model as it is; raise them to train on)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing workflow file")
    parser.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    from .core import fileformat
    from .training.model_import import import_model

    out = Path(options.out)
    if out.exists() and not options.force:
        raise NeuroFlowError(f"'{options.out}' already exists; add --force to replace it")
    if not out.parent.is_dir():
        raise NeuroFlowError(f"cannot write '{options.out}': the folder '{out.parent}' does not exist")
    result = import_model(options.model, weights=options.weights, folder=out.parent)
    fileformat.save(result.workflow, out)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    layers = len(result.nodes)
    extra = " and a Network Learner starting from its weights" if options.weights else ""
    print(f"imported {layers} layers of {options.model}{extra} into {options.out}")
    return 0
