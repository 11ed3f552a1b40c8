"""Training from a folder of photos: NeuroFlow's pipeline against Keras's own, speed and memory.

A folder of RGB JPEGs (one sub-folder per class, 128x128, written from Fashion-MNIST or MNIST
by ``tools/make_image_folder.py`` and kept for later runs) is trained on for one epoch with the
same small CNN, batch size, optimizer and seed, two ways:

* **NeuroFlow**: a workflow Image Folder Reader -> Normalizer -> layer nodes -> Network
  Learner, run by the Executor - the files are listed and checked, then decoded by NeuroFlow's
  ``tf.data`` pipeline while training;
* **Keras**: a plain script, ``keras.utils.image_dataset_from_directory`` (the standard Keras
  way to train from a folder) with ``x / 255`` mapped in, and ``model.fit``.

Each run is a fresh process, so its peak resident memory (``ru_maxrss``) is its own; the two
sides alternate, ``--repeats`` times. Throughput is images per second of ``fit`` (both sides
time just the epoch; tracing the model happens in it on both). Memory: NeuroFlow's peak RSS
with all 20,000 images against its peak with the first 5,000 (``limit per class``): a pipeline
that streams must not grow with the number of images.

The last line is ``VERDICT pass: ...`` when the median NeuroFlow/Keras throughput ratio is at
least 0.95 and the peak RSS grows by at most 150 MB from 5,000 to 20,000 images, else
``VERDICT fail: ...``, with the figures.

Run from the repository root (``make benchmark-data``)::

    python benchmarks/data_pipeline.py [--per-class 2000] [--repeats 3] [--folder DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
#: The canonical Fashion-MNIST copy beside the clone, used when $NEUROFLOW_DATA is not set.
SIBLING_DATA = REPO.parent / "shared" / "data"
SIZE = 128
BATCH = 64
SEED = 7
LEARNING_RATE = 0.001
#: The network, as NeuroFlow layer nodes and as the Keras layers of the plain script.
LAYERS: list[tuple[str, str, dict[str, Any]]] = [
    ("conv2d", "Conv2D", {"filters": 16, "kernel_size": [3, 3], "strides": [2, 2], "activation": "relu"}),
    ("max_pooling2d", "MaxPooling2D", {"pool_size": [2, 2]}),
    ("conv2d", "Conv2D", {"filters": 32, "kernel_size": [3, 3], "activation": "relu"}),
    ("max_pooling2d", "MaxPooling2D", {"pool_size": [2, 2]}),
    ("conv2d", "Conv2D", {"filters": 32, "kernel_size": [3, 3], "activation": "relu"}),
    ("max_pooling2d", "MaxPooling2D", {"pool_size": [2, 2]}),
    ("flatten", "Flatten", {}),
    ("dense", "Dense", {"units": 64, "activation": "relu"}),
]
RATIO_TARGET = 0.95
MEMORY_TARGET_MB = 150.0


# -- the two sides, each run in a child process -------------------------------------------
def run_neuroflow(folder: Path, per_class: int) -> dict[str, float]:
    from neuroflow.core.executor import Executor
    from neuroflow.core.workflow import Workflow

    workflow = Workflow()
    reader = workflow.add_node("neuroflow.data.image_folder_reader", settings={
        "folder": str(folder), "size": [SIZE, SIZE], "color_mode": "rgb", "limit_per_class": per_class,
    }).id
    norm = workflow.add_node("neuroflow.data.normalizer").id
    workflow.connect(reader, "data", norm, "data")
    previous = workflow.add_node("neuroflow.layers.input", settings={"shape": [SIZE, SIZE, 3]}).id
    classes = len(workflow.nodes[reader].specs["data"].class_names)
    for kind, _, settings in [*LAYERS, ("dense", "Dense", {"units": classes, "activation": "softmax"})]:
        node = workflow.add_node(f"neuroflow.layers.{kind}", settings=settings).id
        workflow.connect(previous, "network", node, "network")
        previous = node
    learner = workflow.add_node("neuroflow.learning.learner", settings={
        "epochs": 1, "batch_size": BATCH, "learning_rate": LEARNING_RATE, "seed": SEED, "shuffle": True,
    }).id
    workflow.connect(previous, "network", learner, "network")
    workflow.connect(norm, "data", learner, "training")
    started = time.perf_counter()
    result = Executor(workflow).run()
    total = time.perf_counter() - started
    if not result.ok:
        raise SystemExit(f"NeuroFlow run failed: {result}")
    trained = workflow.nodes[learner].outputs["model"]
    images = len(workflow.nodes[reader].outputs["data"])
    return {"images": images, "fit_seconds": trained.seconds, "total_seconds": total,
            "accuracy": trained.history["accuracy"][-1]}


def run_keras(folder: Path) -> dict[str, float]:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(SEED)
    started = time.perf_counter()
    data = keras.utils.image_dataset_from_directory(
        str(folder), image_size=(SIZE, SIZE), batch_size=BATCH, label_mode="categorical",
        color_mode="rgb", shuffle=True, seed=SEED, verbose=False,
    )
    classes = len(data.class_names)
    data = data.map(lambda x, y: (x / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    inputs = keras.Input(shape=(SIZE, SIZE, 3))
    x = inputs
    for _, keras_class, settings in LAYERS:
        x = getattr(keras.layers, keras_class)(**settings)(x)
    outputs = keras.layers.Dense(classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    fit_started = time.perf_counter()
    history = model.fit(data, epochs=1, verbose=0)
    fit_seconds = time.perf_counter() - fit_started
    images = int(sum(1 for _, _, files in os.walk(folder) for name in files if name.endswith(".jpg")))
    return {"images": images, "fit_seconds": fit_seconds, "total_seconds": time.perf_counter() - started,
            "accuracy": float(history.history["accuracy"][-1])}


def child(side: str, folder: Path, per_class: int) -> None:
    figures = run_neuroflow(folder, per_class) if side == "neuroflow" else run_keras(folder)
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("RESULT " + json.dumps(figures), flush=True)


# -- the parent: data, alternation, figures ------------------------------------------------
def ensure_folder(folder: Path, dataset: str, per_class: int) -> Path:
    marker = folder / ".complete"
    if marker.is_file() and marker.read_text().strip() == f"{dataset} {per_class}":
        return folder
    print(f"writing {per_class * 10:,} RGB JPEGs at {SIZE}x{SIZE} to {folder} ...", flush=True)
    env = dict(os.environ)
    if "NEUROFLOW_DATA" not in env and (SIBLING_DATA / "fashion-mnist").is_dir():
        env["NEUROFLOW_DATA"] = str(SIBLING_DATA)
    if folder.exists():
        import shutil

        shutil.rmtree(folder)  # an incomplete folder from an interrupted run
    folder.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "make_image_folder.py"), str(folder), "--dataset", dataset,
         "--size", str(SIZE), "--color", "rgb", "--per-class", str(per_class)],
        check=True, env=env,
    )
    marker.write_text(f"{dataset} {per_class}")
    return folder


def measure(side: str, folder: Path, per_class: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", side, "--folder", str(folder), "--per-class", str(per_class)]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{side} run failed:\n{done.stderr[-3000:]}")
    figures = json.loads(lines[-1][len("RESULT "):])
    figures["images_per_second"] = figures["images"] / figures["fit_seconds"]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=None, help="an existing image folder to use")
    parser.add_argument("--dataset", choices=("fashion", "digits"), default="fashion")
    parser.add_argument("--per-class", type=int, default=2000, help="images per class (10 classes)")
    parser.add_argument("--small-per-class", type=int, default=500, help="images per class of the memory baseline")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=("neuroflow", "keras"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.folder, options.per_class)
        return 0
    folder = options.folder or ensure_folder(
        REPO / "out" / "benchmark-data" / f"{options.dataset}-rgb-{SIZE}-{options.per_class}",
        options.dataset, options.per_class,
    )
    rows: dict[str, list[dict[str, float]]] = {"neuroflow": [], "keras": [], "neuroflow_small": []}
    for repeat in range(options.repeats):
        order = ("neuroflow", "keras") if repeat % 2 == 0 else ("keras", "neuroflow")
        for side in order:
            figures = measure(side, folder, options.per_class)
            rows[side].append(figures)
            print(f"  {side:<9} {figures['images']:>6,} images  {figures['images_per_second']:7.1f} img/s  "
                  f"fit {figures['fit_seconds']:6.1f} s  peak RSS {figures['peak_rss_mb']:7.0f} MB  "
                  f"accuracy {figures['accuracy']:.3f}", flush=True)
        small = measure("neuroflow", folder, options.small_per_class)
        rows["neuroflow_small"].append(small)
        print(f"  neuroflow {small['images']:>6,} images  {small['images_per_second']:7.1f} img/s  "
              f"fit {small['fit_seconds']:6.1f} s  peak RSS {small['peak_rss_mb']:7.0f} MB", flush=True)

    def median(side: str, key: str) -> float:
        return statistics.median(row[key] for row in rows[side])

    ratios = [a["images_per_second"] / b["images_per_second"] for a, b in zip(rows["neuroflow"], rows["keras"], strict=True)]
    ratio = statistics.median(ratios)
    big, small_rss = median("neuroflow", "peak_rss_mb"), median("neuroflow_small", "peak_rss_mb")
    growth = big - small_rss
    count, small_count = rows["neuroflow"][0]["images"], rows["neuroflow_small"][0]["images"]
    print()
    print(f"throughput, images/s (median of {options.repeats}): NeuroFlow {median('neuroflow', 'images_per_second'):.1f}, "
          f"Keras image_dataset_from_directory {median('keras', 'images_per_second'):.1f}; "
          f"ratio per pair {', '.join(f'{r:.3f}' for r in ratios)}, median {ratio:.3f}")
    print(f"peak RSS, MB (median): NeuroFlow {small_count:,} images {small_rss:.0f}, {count:,} images {big:.0f} "
          f"(+{growth:.0f}); Keras {count:,} images {median('keras', 'peak_rss_mb'):.0f}")
    verdict = "pass" if ratio >= RATIO_TARGET and growth <= MEMORY_TARGET_MB else "fail"
    print(f"VERDICT {verdict}: throughput ratio {ratio:.3f} (target >= {RATIO_TARGET}), peak RSS "
          f"{small_count:,} -> {count:,} images +{growth:.0f} MB (target <= {MEMORY_TARGET_MB:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
