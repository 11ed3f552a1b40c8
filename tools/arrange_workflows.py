"""Lay out the shipped example workflows with NeuroFlow's layout, changing nothing else.

Each file is loaded and saved through NeuroFlow's own file format, so only the ``layout``
section can change: nodes, settings and wiring come back byte for byte (the format is
canonical). Node sizes are the defaults of :mod:`neuroflow.core.layout`, which match the nodes
the editor draws; the layout starts at (0, 0).

Run from the repository root::

    python tools/arrange_workflows.py                  # every workflows/*.workflow
    python tools/arrange_workflows.py FILE ...         # only these
    python tools/arrange_workflows.py --check          # exit 1 if a file is not laid out so
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neuroflow.core import fileformat
from neuroflow.core.errors import NeuroFlowError
from neuroflow.core.layout import arrange_workflow
from neuroflow.core.workflow import Workflow

REPO = Path(__file__).resolve().parents[1]


#: The node ids of the flagship's convention; workflows that follow it are laid out in rows.
FLAGSHIP_IDS = {"input", "learner", "executor", "scorer", "writer", "train_reader", "test_reader",
                "train_norm", "test_norm"}


def lay_out(workflow: Workflow) -> Workflow:
    """Give every node of ``workflow`` its arranged position, from (0, 0); returns it.

    A workflow with the flagship's node ids gets the reference workflows' rows (the network on
    top, training and scoring below: see ``make_reference_workflows.arrange_in_rows``), which
    read at a larger zoom than one long row; any other gets Arrange as the editor does it."""
    if FLAGSHIP_IDS <= set(workflow.nodes):
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from make_reference_workflows import arrange_in_rows

        positions = arrange_in_rows(workflow)
    else:
        positions = arrange_workflow(workflow, origin=(0.0, 0.0))
    for node_id, position in positions.items():
        workflow.move_node(node_id, position)
    return workflow


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="workflow files (default: workflows/*.workflow)")
    parser.add_argument("--check", action="store_true", help="report files not laid out so, write nothing")
    options = parser.parse_args(argv)
    files = options.files or sorted((REPO / "workflows").glob("*.workflow"))
    differing = []
    for path in files:
        try:
            workflow = fileformat.load(path, strict=False)
            text = fileformat.dumps(lay_out(workflow))
        except NeuroFlowError as exc:
            print(f"arrange_workflows: error: {exc}", file=sys.stderr)
            return 1
        if path.read_text(encoding="utf-8") == text:
            continue
        if options.check:
            differing.append(path.name)
        else:
            fileformat.save(workflow, path)
            print(f"arranged {path}")
    if differing:
        print(f"not arranged: {', '.join(differing)}; run python tools/arrange_workflows.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
