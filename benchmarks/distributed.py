"""Training on several devices and machines: seconds per epoch and accuracy against one device.

Default (any machine)::

    python benchmarks/distributed.py [--train 10000] [--test 2000] [--epochs 3]

trains the flagship workflow (MNIST CNN, batch 128) on a sample three ways, each in fresh
processes, in one run:

* **one device** - the learner's "auto" on this machine (the CPU here);
* **two mirrored devices** - ``MirroredStrategy`` over two devices: two logical CPU devices on a
  machine without GPUs (so that the mechanism is exercised), else two GPUs;
* **two workers** - two processes on 127.0.0.1 joined by ``--cluster``
  (``MultiWorkerMirroredStrategy``), each training on its share of every batch.

It prints seconds per epoch (the mean of the epochs after the first, which also traces the
model) and test accuracy, each as a ratio against one device. On a CPU-only machine no
speed-up is expected: two logical devices and two workers share the same cores, and pay for
splitting and re-joining every batch - the figures show that cost, and that accuracy holds.

On a GPU machine::

    python benchmarks/distributed.py --gpu [--precision float32,mixed_float16]

times NeuroFlow against a plain Keras script of the same network on the Keras example CNN on
full MNIST (``workflows/keras_example_cnn.workflow``), in float32 and mixed precision,
alternating the two sides.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FLAGSHIP = REPO / "workflows" / "mnist_cnn.workflow"
EXAMPLE = REPO / "workflows" / "keras_example_cnn.workflow"


# -- one run, in a child process -----------------------------------------------------------------
def child(options: argparse.Namespace) -> dict[str, Any]:
    """Train in this process as ``options.mode`` says; seconds per epoch and accuracy."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if options.mode == "mirrored":
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    if options.mode == "workers":
        from neuroflow.training.distribution import cluster_config, start_cluster

        cluster = ",".join(f"127.0.0.1:{port}" for port in options.ports.split(","))
        start_cluster(cluster_config(cluster, options.task))
    from neuroflow.core import fileformat
    from neuroflow.core.events import EpochEnded
    from neuroflow.core.executor import Executor

    workflow = fileformat.load(options.workflow)
    workflow.set_setting("train_reader", "limit", options.train)
    workflow.set_setting("test_reader", "limit", options.test)
    workflow.set_setting("learner", "epochs", options.epochs)
    workflow.set_setting("learner", "precision", options.precision)
    if options.mode == "mirrored":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        names = "GPU:0,GPU:1" if len(gpus) >= 2 else "CPU:0,CPU:1"
        workflow.set_setting("learner", "devices", "list")
        workflow.set_setting("learner", "device_list", names)
    workflow.set_setting("writer", "path", str(Path(options.scratch) / f"{options.mode}-{options.task}.keras"))
    seconds: list[float] = []
    workflow.subscribe(lambda e: seconds.append(e.seconds) if isinstance(e, EpochEnded) else None)
    targets = None if options.task == 0 else ["learner"]
    result = Executor(workflow).run(targets=targets)
    if not result.ok:
        raise SystemExit(f"{options.mode} run failed: {result}")
    trained = workflow.nodes["learner"].outputs["model"]
    scores = workflow.nodes["scorer"].outputs if options.task == 0 else None
    return {
        "mode": options.mode, "task": options.task, "devices": trained.devices,
        "epoch_seconds": seconds,
        "accuracy": scores["scores"].accuracy if scores else None,
    }


def run_child(mode: str, options: argparse.Namespace, scratch: Path, task: int = 0, ports: str = "",
              workflow: Path = FLAGSHIP, precision: str = "float32") -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--child", mode, "--task", str(task), "--ports", ports,
               "--train", str(options.train), "--test", str(options.test), "--epochs", str(options.epochs),
               "--scratch", str(scratch), "--workflow", str(workflow), "--precision", precision]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def collect(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=3600)
    line = next((line for line in out.splitlines() if line.startswith("RESULT ")), None)
    if process.returncode != 0 or line is None:
        raise SystemExit(f"a benchmark run failed:\n{err[-3000:]}")
    return json.loads(line[len("RESULT "):])


def free_ports(count: int) -> str:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [str(s.getsockname()[1]) for s in sockets]
    for s in sockets:
        s.close()
    return ",".join(ports)


def per_epoch(result: dict[str, Any]) -> float:
    """Mean seconds of the epochs after the first (which also builds and traces the model)."""
    seconds = result["epoch_seconds"]
    return statistics.mean(seconds[1:]) if len(seconds) > 1 else seconds[0]


def devices_benchmark(options: argparse.Namespace, scratch: Path) -> None:
    rows = []
    started = time.perf_counter()
    rows.append(("one device", collect(run_child("single", options, scratch))))
    rows.append(("two mirrored devices", collect(run_child("mirrored", options, scratch))))
    ports = free_ports(2)
    workers = [run_child("workers", options, scratch, task, ports) for task in (0, 1)]
    chief, other = (collect(process) for process in workers)
    rows.append(("two workers (127.0.0.1)", chief))
    base = rows[0][1]
    print(f"flagship MNIST CNN, {options.train:,} training and {options.test:,} test images, {options.epochs} epochs, "
          "batch 128 (the global batch)")
    print(f"{'configuration':<24} {'devices':<52} {'s/epoch':>8} {'ratio':>6} {'accuracy':>9} {'difference':>11}")
    shares = []
    for name, result in rows:
        ratio = per_epoch(result) / per_epoch(base)
        difference = (result["accuracy"] - base["accuracy"]) * 100
        devices, _, share = result["devices"].partition("; ")
        print(f"{name:<24} {devices:<52} {per_epoch(result):8.2f} {ratio:6.2f} "
              f"{result['accuracy'] * 100:8.2f}% {difference:+10.2f} pp")
        if share:
            shares.append(f"{name}: {share}")
    print("\n".join(shares))
    print(f"the second worker trained with the chief: {per_epoch(other):.2f} s/epoch; "
          f"{time.perf_counter() - started:.0f} s in all")
    import multiprocessing

    if "GPU" not in base["devices"]:
        print(f"no GPU here: the {multiprocessing.cpu_count()} CPU cores are shared by every configuration, "
              "so several devices or workers cannot be faster; the ratios show the cost of splitting each "
              "batch and joining the gradients, and the accuracies that the results agree")


# -- NeuroFlow against plain Keras on a GPU --------------------------------------------------------
def keras_child(options: argparse.Namespace) -> dict[str, Any]:
    """The Keras example CNN in a plain script, with the workflow's settings, for the --gpu table."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    from neuroflow.datasets.mnist import COLLECTIONS, inspect_split, load_split, locate_split

    keras.utils.set_random_seed(42)
    if options.precision != "float32":
        keras.config.set_dtype_policy(options.precision)
    data = {}
    for split, limit in (("train", options.train), ("test", options.test)):
        x, y = load_split(inspect_split(locate_split(COLLECTIONS["digits"], split)), limit)
        data[split] = (x.astype("float32") / 255.0, keras.utils.to_categorical(y, 10))
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(32, 3, activation="relu")(inputs)
    x = keras.layers.Conv2D(64, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Dropout(0.25)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu")(x)
    x = keras.layers.Dropout(0.5)(x)
    outputs = keras.layers.Dense(10, activation="softmax", dtype="float32")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    seconds = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            seconds.append(time.perf_counter() - self.started)

    model.fit(*data["train"], batch_size=128, epochs=options.epochs, verbose=0, callbacks=[Timer()])
    accuracy = float(np.mean(model.predict(data["test"][0], verbose=0).argmax(1) == data["test"][1].argmax(1)))
    return {"mode": "keras", "task": 0, "devices": "plain Keras", "epoch_seconds": seconds, "accuracy": accuracy}


def gpu_benchmark(options: argparse.Namespace, scratch: Path) -> None:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        print("warning: no GPU found; this comparison is meant for a GPU machine (the figures below are the CPU's)")
    print(f"Keras example CNN, MNIST {options.train or 60_000:,} training images, {options.epochs} epochs, batch 128")
    print(f"{'precision':<16} {'NeuroFlow s/epoch':>18} {'Keras s/epoch':>14} {'ratio':>6} {'NeuroFlow acc':>14} {'Keras acc':>10}")
    for precision in options.precisions.split(","):
        neuroflow = collect(run_child("single", options, scratch, workflow=EXAMPLE, precision=precision))
        keras_side = collect(run_child("keras", options, scratch, precision=precision))
        print(f"{precision:<16} {per_epoch(neuroflow):18.2f} {per_epoch(keras_side):14.2f} "
              f"{per_epoch(neuroflow) / per_epoch(keras_side):6.2f} {neuroflow['accuracy'] * 100:13.2f}% "
              f"{keras_side['accuracy'] * 100:9.2f}%")
    print(f"NeuroFlow trained on: {neuroflow['devices']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=10_000, help="training images (0: all)")
    parser.add_argument("--test", type=int, default=2_000, help="test images (0: all)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--gpu", action="store_true", help="NeuroFlow against plain Keras on a GPU")
    parser.add_argument("--precisions", default="float32,mixed_float16", help="with --gpu")
    parser.add_argument("--child", choices=("single", "mirrored", "workers", "keras"), help=argparse.SUPPRESS)
    parser.add_argument("--task", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--ports", default="", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", default="", help=argparse.SUPPRESS)
    parser.add_argument("--workflow", default=str(FLAGSHIP), help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        options.mode = options.child
        result = keras_child(options) if options.child == "keras" else child(options)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="neuroflow-distributed-"))
    if options.gpu:
        if options.train == 10_000 and options.test == 2_000:  # the defaults: full MNIST for this table
            options.train, options.test = 0, 0
        gpu_benchmark(options, scratch)
    else:
        devices_benchmark(options, scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
