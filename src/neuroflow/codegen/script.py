"""Assemble a standalone Keras script from a configured workflow.

The script has a docstring saying which workflow it came from, when and how to run it; the
helpers of ``script_support`` (copied in, so it needs only numpy, Keras/TensorFlow and the
standard library); ``build_model()``; and ``main()``, which does what running the workflow
does, node by node in the order NeuroFlow runs them. Plain Python: no TensorFlow is imported
here, so the editor can export too.
"""

from __future__ import annotations

import datetime
import importlib
from pathlib import Path

from neuroflow.core.errors import NeuroFlowError
from neuroflow.core.workflow import Workflow

from .emit import Export, find_emitter, is_network_node, title

#: Modules whose import registers emitters for NeuroFlow's own node types.
_EMITTER_MODULES = ("data_nodes", "learning_nodes", "pretrained")


def export_script(workflow: Workflow, source: str, now: datetime.datetime | None = None) -> str:
    """The text of the script for ``workflow`` (configured here), read from file ``source``.

    Raises :class:`NeuroFlowError` naming the first node the script cannot reproduce."""
    for module in _EMITTER_MODULES:
        importlib.import_module(f"{__package__}.{module}")
    workflow.configure()
    problem = workflow.first_problem()
    if problem:  # what 'neuroflow run' would stop at, the script could not do either
        raise NeuroFlowError(f"cannot export: {problem}")
    export = Export(workflow)
    order = workflow.topological_order()
    for node_id in order:
        item = workflow.nodes[node_id]
        if is_network_node(item):
            continue  # written whole by the Learner's emitter
        emit = find_emitter(item)
        if emit is None:
            raise NeuroFlowError(f"cannot export {title(item)}: node type {item.type_id} has no Python emitter")
        emit(export, item)
    if "models" not in export.facts:
        raise NeuroFlowError("cannot export: the workflow has no Network Learner, so there is no model to train")
    return _assemble(export, source, now or datetime.datetime.now(datetime.timezone.utc))


def _assemble(export: Export, source: str, now: datetime.datetime) -> str:
    name = Path(source).name
    notes = "\n" + "".join(f"- {note}\n" for note in export.notes) if export.notes else ""
    support = Path(__file__).with_name("script_support.py").read_text(encoding="utf-8")
    body = support.index("\nIMAGE_SUFFIXES")
    # The helpers' own imports, and what main() needs besides; numpy after the standard library.
    imports = {line for line in support[:body].splitlines() if line.startswith(("import ", "from "))}
    imports = (imports | {"import argparse", "from pathlib import Path"}) - {"from __future__ import annotations"}
    standard = "\n".join(sorted((line for line in imports if "numpy" not in line), key=lambda t: (t[0] == "f", t)))
    support = support[body + 1:]
    header = f'''#!/usr/bin/env python3
"""{name}, exported by NeuroFlow as a standalone Keras script.

Workflow: {source}
Exported: {now:%Y-%m-%d %H:%M} UTC

It reads the same data the same way, builds the same network (one line per layer node, the
node's label as a comment, the layer names NeuroFlow gives them), trains it with the same
settings and seed, and prints the test accuracy.
{notes}
Run it with numpy and Keras 3 (TensorFlow backend) installed:

    python {Path(source).stem}.py                            # as the workflow says
    python {Path(source).stem}.py --epochs 1 --limit 2000    # a quick try
    python {Path(source).stem}.py --build-only               # the network's summary, no data
"""

from __future__ import annotations

{standard}

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import layers  # noqa: E402

'''
    main = [
        "def capped(limit, cap):",
        '    """A reader\'s own limit (0 = all) capped by --limit."""',
        "    return min(n for n in (limit, cap) if n) if (limit or cap) else 0",
        "",
        "",
        "def main(argv=None):",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
        "    parser.add_argument('--epochs', type=int, default=0, help='train this many epochs instead')",
        "    parser.add_argument('--limit', type=int, default=0,",
        "                        help='read at most N images per reader (per class for image folders)')",
        "    parser.add_argument('--build-only', action='store_true',",
        "                        help='build the network without data, print its summary and parameter count')",
        "    args = parser.parse_args(argv)",
        "    if args.build_only:",
        "        model = build_model(pretrained_weights=False)",
        "        model.summary()",
        '        print(f"parameters: {model.count_params()}")',
        "        return",
        *export.main,
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
        "",
    ]
    return header + support.rstrip() + "\n\n\n" + "\n".join(export.definitions) + "\n\n\n" + "\n".join(main)
