"""Emitters of the data nodes: readers, Normalizer and Partitioning.

Each reads the node's settings as NeuroFlow resolves them (a relative folder from the
workflow's folder, the bundled MNIST copy, the Fashion-MNIST download place) and writes the
calls of ``script_support`` that read and transform the images the same way. ``--limit N``
caps every reader at its first N images (per class for an image folder), like the readers'
own limit settings.
"""

from __future__ import annotations

from neuroflow.core.ports import DatasetSpec
from neuroflow.core.workflow import WorkflowNode
from neuroflow.nodes.data.mnist_reader import MnistReaderNode

from .emit import Export, emitter
from .network import call


@emitter("neuroflow.data.mnist_reader")
def mnist_reader(export: Export, item: WorkflowNode) -> None:
    from neuroflow.datasets.mnist import NPZ_KEYS, PendingDownload

    node = item.node
    assert isinstance(node, MnistReaderNode)
    plan = node._plan()  # the files NeuroFlow reads: data folder, bundled copy or download place
    limit = int(node["limit"])
    classes = plan.collection.class_names
    if isinstance(plan, PendingDownload):
        names = {remote.name for remote in plan.collection.remote_files}
        prefix = "train" if plan.split == "train" else "t10k"
        images = str(plan.folder / next(n for n in names if n.startswith(f"{prefix}-images")))
        labels = str(plan.folder / next(n for n in names if n.startswith(f"{prefix}-labels")))
        export.line(f"# {plan.collection.title} is not downloaded yet: 'neuroflow run' fetches it into "
                    f"{plan.folder}")
        keys = None
    else:
        images, labels = str(plan.images), str(plan.labels)
        keys = NPZ_KEYS[plan.split] if plan.is_npz else None
    export.line(f"# {item.label}: {plan.collection.title} {plan.split} split"
                + (f", the first {limit:,} images" if limit else ""))
    keywords: list[tuple[str, object]] = [("classes", classes), ("limit", _Raw(f"capped({limit}, args.limit)"))]
    if keys:
        keywords.append(("npz_keys", keys))
    export.line(f"{export.var(item.id, 'data')} = " + call("read_mnist", [repr(images), repr(labels)], keywords, "    "))


class _Raw(str):
    """An expression written as it is (its repr is itself)."""

    def __repr__(self) -> str:
        return str(self)


@emitter("neuroflow.data.image_folder_reader")
def image_folder_reader(export: Export, item: WorkflowNode) -> None:
    node = item.node
    folder = str(node.resolve_path(node["folder"].strip()))
    spec = item.specs.get("data")
    height, width = node["size"]
    if isinstance(spec, DatasetSpec):
        channels = int(spec.shape[2])
    elif node["color_mode"] in ("grayscale", "rgb"):
        channels = 1 if node["color_mode"] == "grayscale" else 3
    else:  # "auto" on a folder that is not there now: NeuroFlow would look at the images
        channels = 3
        export.notes.append(f"{item.label}: colour 'auto' taken as RGB (the folder was not readable at export)")
    name = export.var(item.id, "data")
    limit = int(node["limit_per_class"])
    export.line(f"# {item.label}: one sub-folder per class, {height}x{width}x{channels}, {node['resize_mode']}")
    export.line(f"classes, paths, labels = list_image_folder({folder!r}, capped({limit}, args.limit))")
    export.line(f"{name} = Images(labels, classes, (0.0, 255.0), paths=paths, shape={(height, width, channels)!r},")
    export.line(f"    resize_mode={node['resize_mode']!r}, cache={node['cache'] != 'none'!r})")


@emitter("neuroflow.data.image_list_reader")
def image_list_reader(export: Export, item: WorkflowNode) -> None:
    node = item.node
    spec = item.specs["data"]  # configured: the class list of the whole file, the channels
    assert isinstance(spec, DatasetSpec)
    csv_file = str(node.resolve_path(node["csv_file"].strip()))
    split = node["split_column"].strip()
    name = export.var(item.id, "data")
    export.line(f"# {item.label}: {spec.shape[0]}x{spec.shape[1]}x{spec.shape[2]}, {node['resize_mode']}"
                + (f", rows with {split} = {node['split_value'].strip()}" if split else ""))
    arguments: list[tuple[str, object]] = [("classes", tuple(spec.class_names))]
    if split:
        arguments += [("split_column", split), ("split_value", node["split_value"].strip())]
    listed = call("read_image_list", [repr(csv_file), repr(node["path_column"].strip()),
                                      repr(node["label_column"].strip())], arguments, "    ")
    export.line(f"paths, labels = {listed}")
    export.line(f"{name} = Images(labels, {tuple(spec.class_names)!r}, (0.0, 255.0), paths=paths, "
                f"shape={tuple(spec.shape)!r},")
    export.line(f"    resize_mode={node['resize_mode']!r}, cache={node['cache'] != 'none'!r})")
    export.line("if args.limit:")
    export.line(f"    {name} = {name}.subset(np.arange(min(args.limit, len({name}))))")


@emitter("neuroflow.data.normalizer")
def normalizer(export: Export, item: WorkflowNode) -> None:
    from neuroflow.nodes.data.normalizer import RANGES

    target = RANGES[item.node["range"]]
    export.line(f"{export.var(item.id, 'data')} = {export.source(item.id, 'data')}.rescaled({target!r})"
                f"  # {item.label}")


@emitter("neuroflow.data.partitioning")
def partitioning(export: Export, item: WorkflowNode) -> None:
    node = item.node
    data = export.source(item.id, "data")
    seed = node["seed"] if node["sampling"] == "random" else None
    if node["mode"] == "fraction":
        size = f"math.floor({node['fraction']!r} * len({data}) + 0.5)"
    else:
        size = repr(int(node["count"]))
    first, second = export.var(item.id, "first"), export.var(item.id, "second")
    export.line(f"# {item.label}: {'stratified' if node['stratified'] else 'not stratified'}, "
                f"{'seed ' + str(seed) if seed is not None else 'taken from the top'}")
    export.line(f"{first}, {second} = partition({data}, {size}, stratified={node['stratified']!r}, seed={seed!r})")
