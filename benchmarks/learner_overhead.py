"""How much does training through NeuroFlow cost compared with a plain Keras script?

Trains the same small CNN on the same MNIST images twice per repetition, alternating

* A: through NeuroFlow - a real :class:`~neuroflow.core.workflow.Workflow` (layer nodes ->
  Network Learner) run by the :class:`~neuroflow.core.executor.Executor`, with a listener
  receiving every training event, and
* B: a plain Keras script - the same architecture, optimizer, loss, batch size, epochs and
  seed, ``model.fit`` on the same numpy arrays with ``verbose=0``,

and prints each time, the medians and minimums and the ratios A / B (the target is at most
1.05). Wall-clock time is what the user waits for; process CPU time (all threads) is printed
too because it is far less disturbed by other programs competing for the same cores. On a busy
machine, trust the CPU-time ratio and the minimums more than the wall-clock medians.

What is timed, equally on both sides: building the model, compiling it, one-hot encoding the
labels and ``fit``. For NeuroFlow that is ``Executor.run()`` on the workflow, which executes
only the Network Learner (its upstream nodes are cached from the first run) - so it covers the
node's checks, the event stream to a listener and the executor's bookkeeping; for Keras the
same steps in a script. Loading MNIST is done once, before any timing, and both sides get the same
float32 arrays (the workflow's data comes from a small in-memory source node). One untimed
warm-up run of each side comes first, so TensorFlow's one-off start-up costs count for neither.

Run from the repository root::

    python benchmarks/learner_overhead.py --samples 10000 --epochs 2 --repeats 3
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import time
from importlib import resources
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from neuroflow.core.data import ImageDataset  # noqa: E402
from neuroflow.core.executor import Executor  # noqa: E402
from neuroflow.core.memory import InMemorySource  # noqa: E402
from neuroflow.core.workflow import Workflow  # noqa: E402

SEED = 1
LEARNING_RATE = 0.001


def load_mnist(count: int) -> ImageDataset:
    """The first ``count`` bundled MNIST training images as float32 in [0, 1]."""
    folder = resources.files("neuroflow.assets") / "mnist"
    with gzip.open(str(folder / "train-images-idx3-ubyte.gz")) as handle:
        raw = handle.read(16 + count * 784)
    with gzip.open(str(folder / "train-labels-idx1-ubyte.gz")) as handle:
        labels = np.frombuffer(handle.read(8 + count), np.uint8, offset=8).astype(np.int64)
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28, 1).astype(np.float32) / 255.0
    if len(images) < count:
        raise SystemExit(f"the bundled MNIST training set has only {len(images)} images")
    return ImageDataset(images, labels, tuple(str(d) for d in range(10)), (0.0, 1.0), "mnist")


LAYERS: list[tuple[str, dict[str, Any]]] = [
    ("neuroflow.layers.input", {"shape": [28, 28, 1]}),
    ("neuroflow.layers.conv2d", {"filters": 32, "kernel_size": [3, 3], "activation": "relu"}),
    ("neuroflow.layers.max_pooling2d", {"pool_size": [2, 2]}),
    ("neuroflow.layers.flatten", {}),
    ("neuroflow.layers.dense", {"units": 100, "activation": "relu"}),
    ("neuroflow.layers.dense", {"units": 10, "activation": "softmax"}),
]


def neuroflow_workflow(dataset: ImageDataset, epochs: int, batch_size: int) -> Workflow:
    workflow = Workflow()
    workflow.add_node(InMemorySource(dataset), node_id="data")
    previous = None
    for index, (type_id, settings) in enumerate(LAYERS):
        node_id = f"layer{index}"
        workflow.add_node(type_id, settings=settings, node_id=node_id)
        if previous:
            workflow.connect(previous, "network", node_id, "network")
        previous = node_id
    workflow.add_node(
        "neuroflow.learning.learner",
        node_id="learn",
        settings={
            "loss": "categorical_crossentropy", "optimizer": "adam", "learning_rate": LEARNING_RATE,
            "epochs": epochs, "batch_size": batch_size, "shuffle": True, "seed": SEED,
        },
    )
    workflow.connect(str(previous), "network", "learn", "network")
    workflow.connect("data", "data", "learn", "training")
    problem = workflow.first_problem()
    if problem:
        raise SystemExit(problem)
    Executor(workflow).run(targets=["data", str(previous)])  # upstream nodes, cached from now on
    return workflow


Timing = tuple[float, float, float]  # wall seconds, CPU seconds, final training accuracy


def run_neuroflow(workflow: Workflow) -> Timing:
    """Train through the workflow's Network Learner (upstream nodes stay cached)."""
    workflow.reset("learn")
    events: list[Any] = []
    wall, cpu = time.perf_counter(), time.process_time()
    result = Executor(workflow, listener=events.append).run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if not result.ok or result.executed != ["learn"]:
        raise SystemExit(f"NeuroFlow run failed or ran more than the learner: {result}")
    accuracy = workflow.nodes["learn"].outputs["model"].history["accuracy"][-1]  # type: ignore[index]
    return wall, cpu, accuracy


def run_keras(dataset: ImageDataset, epochs: int, batch_size: int) -> Timing:
    """Build, compile, one-hot encode and fit in a plain Keras script."""
    import keras

    wall, cpu = time.perf_counter(), time.process_time()
    keras.utils.set_random_seed(SEED)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(100, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    targets = keras.utils.to_categorical(dataset.labels, 10)
    history = model.fit(dataset.images, targets, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, float(history.history["accuracy"][-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=10_000, help="MNIST training images (default 10000)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per training run (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="A/B pairs to time (default 3)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default 32)")
    args = parser.parse_args(argv)

    dataset = load_mnist(args.samples)
    workflow = neuroflow_workflow(dataset, args.epochs, args.batch_size)
    print(
        f"MNIST {args.samples} images, {args.epochs} epochs, batch size {args.batch_size}, "
        f"{args.repeats} alternating repetitions; CNN Conv2D 32 3x3 -> MaxPooling 2x2 -> Dense 100 -> Dense 10"
    )
    warm = dataset.subset(np.arange(min(512, args.samples)))
    run_neuroflow(neuroflow_workflow(warm, 1, args.batch_size))
    run_keras(warm, 1, args.batch_size)

    runs: dict[str, list[Timing]] = {"NeuroFlow": [], "Keras": []}
    for repeat in range(1, args.repeats + 1):
        for side in ("NeuroFlow", "Keras"):
            timing = run_neuroflow(workflow) if side == "NeuroFlow" else run_keras(dataset, args.epochs, args.batch_size)
            runs[side].append(timing)
            wall, cpu, accuracy = timing
            print(f"  run {repeat}  {side:<9}  wall {wall:7.2f} s  cpu {cpu:7.2f} s  train accuracy {accuracy:.4f}")

    for index, what in ((0, "wall"), (1, "cpu")):
        ours = [timing[index] for timing in runs["NeuroFlow"]]
        plain = [timing[index] for timing in runs["Keras"]]
        for name, pick in (("median", statistics.median), ("min", min)):
            a, b = pick(ours), pick(plain)
            print(
                f"{what:>4} {name:<6} NeuroFlow {a:7.2f} s  Keras {b:7.2f} s  "
                f"ratio {a / b:.3f} (overhead {100 * (a / b - 1):+.1f} %, target <= +5 %)"
            )


if __name__ == "__main__":
    main()
