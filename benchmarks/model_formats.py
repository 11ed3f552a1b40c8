"""Sizes of the flagship in every format the Network Writer writes, and TFLite's agreement.

Trains ``workflows/mnist_cnn.workflow`` (by default on the full training set for one epoch;
``--train-limit`` for a sample), then writes the trained model through the Network Writer node as
``.keras``, ``.h5``, a SavedModel folder and TensorFlow Lite with each quantization, checking
every TFLite file against the Keras model on ``--check`` test images (the writer's own check).
Prints one table: format, size on disk, and for TFLite the top-1 agreement. Run from the
repository root::

    python benchmarks/model_formats.py                      # full data, 1 epoch
    python benchmarks/model_formats.py --train-limit 3000   # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-limit", type=int, default=0, help="training images (0: all 60,000)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--check", type=int, default=1000, help="test images the TFLite files are checked on")
    args = parser.parse_args(argv)

    from neuroflow.nodes.learning.writer import NetworkWriterNode

    from neuroflow.core import fileformat
    from neuroflow.core.events import NodeWarning
    from neuroflow.core.executor import Executor
    from neuroflow.core.node import ExecutionContext
    from neuroflow.training.deploy_formats import human_size

    workflow = fileformat.load(FLAGSHIP)
    workflow.set_setting("train_reader", "limit", args.train_limit)
    workflow.set_setting("test_reader", "limit", args.check)
    workflow.set_setting("learner", "epochs", args.epochs)
    workflow.remove_node("writer")
    started = time.perf_counter()
    result = Executor(workflow).run(targets=["learner", "test_norm"])
    if not result.ok:
        print(f"training failed: {result.failed}", file=sys.stderr)
        return 1
    trained = workflow.nodes["learner"].outputs["model"]
    test = workflow.nodes["test_norm"].outputs["data"]
    history = trained.history.get("val_accuracy") or trained.history.get("accuracy") or [float("nan")]
    print(f"flagship trained on {args.train_limit or 60000:,} images, {args.epochs} epoch(s), "
          f"{time.perf_counter() - started:.0f} s; last accuracy {history[-1]:.4f}\n")

    rows = [("net.keras", {}), ("net.h5", {}), ("net.savedmodel", {}),
            ("net.tflite", {"quantization": "none"}), ("net-f16.tflite", {"quantization": "float16"}),
            ("net-dyn.tflite", {"quantization": "dynamic"})]
    print(f"{'format':<34}{'size':>10}{'bytes':>12}  TFLite top-1 agreement")
    with tempfile.TemporaryDirectory() as folder:
        for name, settings in rows:
            writer = NetworkWriterNode({"path": str(Path(folder) / name), **settings})
            events: list[object] = []
            ctx = ExecutionContext("writer", "Network Writer", emit=events.append)
            tic = time.perf_counter()
            saved = writer.execute({"model": trained, "sample": test}, ctx)["saved"]
            warnings = [e.message for e in events if isinstance(e, NodeWarning)]
            label = saved.format + (f" ({saved.quantization})" if saved.quantization else "")
            agreement = (f"{saved.agreement:.2%} of {saved.agreement_count:,}" if saved.agreement is not None else "")
            print(f"{label:<34}{human_size(saved.size):>10}{saved.size:>12,}  {agreement}"
                  f"  [{time.perf_counter() - tic:.1f} s]" + (f"  warning: {warnings[0]}" if warnings else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
