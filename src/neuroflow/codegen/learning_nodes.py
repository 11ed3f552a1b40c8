"""Emitters of the learning nodes: Network Learner, Network Executor, Scorer, Network Writer.

The Learner's lines follow ``NetworkLearnerNode.execute`` in its order: the validation split
(numpy, from the seed), class weights, the inputs, then ``keras.utils.set_random_seed``, the
model, ``compile`` and ``fit`` - the same seed reaching the same random draws in the same
order is what lets the script reproduce NeuroFlow's trained weights. The Executor predicts as
NeuroFlow's does (the same batch size, arg-max of the probabilities) and the Scorer prints
the share of right predictions as ``test accuracy: 0.xxxx``.
"""

from __future__ import annotations

from neuroflow.core.errors import NeuroFlowError
from neuroflow.core.network import NetworkSpec
from neuroflow.core.workflow import WorkflowNode

from .emit import Export, emitter, title
from .network import build_model_text

_OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adadelta": "Adadelta", "adagrad": "Adagrad"}


@emitter("neuroflow.learning.learner")
def learner(export: Export, item: WorkflowNode) -> None:
    node = item.node
    if "model" in export.facts.get("models", {}).values():
        raise NeuroFlowError(f"cannot export {title(item)}: the script trains one Network Learner per workflow")
    network = export.source_spec(item.id, "network")
    if not isinstance(network, NetworkSpec):
        raise NeuroFlowError(f"cannot export {title(item)}: its network is not configured")
    training = export.dataset_spec(item.id, "training")
    validation = export.source(item.id, "validation")
    precision = node["precision"]
    owners = {nid: other for nid, other in export.workflow.nodes.items()}

    def owner(desc: object) -> str:
        found = owners.get(getattr(desc, "id", ""))
        return title(found) if found is not None else f"layer '{getattr(desc, 'label', '')}'"

    labels = {nid: other.label for nid, other in owners.items()}
    text = build_model_text(network, training.value_range, owner=owner, labels=labels,
                            output_dtype=None if precision == "float32" else "float32")
    export.definitions += text.helpers
    export.definitions.append("def build_model(pretrained_weights=True):")
    export.definitions.append(f'    """The network wired into {item.label}, as its Learner builds it.\n\n'
                              '    pretrained_weights=False leaves pretrained backbones random (same layers and\n'
                              '    parameter count, nothing downloaded), for --build-only."""')
    export.definitions += text.lines
    export.facts.setdefault("models", {})[item.id] = "model"
    export.facts["input_shape"] = network.inputs[0].output_shape
    units, loss, seed, batch = network.shape[0], node["loss"], node["seed"], node["batch_size"]
    files = training.from_files
    shape = tuple(network.inputs[0].output_shape)
    export.notes.append(
        f"trains with {node['optimizer']} (learning rate {node['learning_rate']:g}, {node['lr_schedule']}), "
        f"{loss}, batch {batch}, {node['epochs']} epochs, seed {seed}")

    line = export.line
    export.section(item.label, "training")
    line(f"training = {export.source(item.id, 'training')}")
    line(f"validation = {validation or 'None'}")
    line("classes = len(training.classes)")
    if validation is None and node["validation_split"] > 0:
        line(f"kept, held_out = validation_split(training.labels, {node['validation_split']!r}, seed={seed})")
        line("training, validation = training.subset(kept), training.subset(held_out)")
    weights = "balanced_class_weights(training.labels, classes)" if node["class_weights"] == "balanced" else "None"
    line(f"class_weight = {weights}")
    line(f"x, y = model_inputs(training, {shape!r}, {batch}, targets(training.labels, classes, {loss!r}, {units}),")
    line(f"                    shuffle={node['shuffle']!r}, seed={seed})")
    line("validation_data = None")
    line("if validation is not None:")
    line(f"    vx, vy = model_inputs(validation, {shape!r}, {batch}, "
         f"targets(validation.labels, classes, {loss!r}, {units}))")
    line("    validation_data = vx if vy is None else (vx, vy)")
    line("epochs = args.epochs or " + str(node["epochs"]))
    line(f"batches = math.ceil(len(training) / {batch})")
    if precision != "float32":
        line(f"keras.mixed_precision.set_global_policy('mixed_{precision}')")
    line(f"keras.utils.set_random_seed({seed})")
    line("model = build_model()")
    _compile(export, node, units)
    callbacks = _callbacks(node, has_validation=validation is not None or node["validation_split"] > 0)
    line(f"callbacks = [{', '.join(callbacks)}]")
    line("model.fit(")
    line(f"    x, y, batch_size={'None' if files else batch}, epochs=epochs, "
         f"shuffle={False if files else node['shuffle']!r},")
    line("    validation_data=validation_data, class_weight=class_weight, callbacks=callbacks, verbose=2,")
    line(")")


def _compile(export: Export, node: object, units: int) -> None:
    line = export.line
    n = node  # the learner node; typed loosely to read its settings by name
    rate = repr(n["learning_rate"])  # type: ignore[index]
    if n["lr_schedule"] == "cosine":  # type: ignore[index]
        alpha = min(n["min_learning_rate"] / n["learning_rate"], 1.0)  # type: ignore[index]
        line(f"learning_rate = keras.optimizers.schedules.CosineDecay({rate}, decay_steps=max(epochs * batches, 1), "
             f"alpha={alpha!r})")
        rate = "learning_rate"
    optimizer = _OPTIMIZERS[n["optimizer"]]  # type: ignore[index]
    extra = f", momentum={n['momentum']!r}" if n["optimizer"] == "sgd" else ""  # type: ignore[index]
    loss = n["loss"]  # type: ignore[index]
    if loss == "sparse_categorical_crossentropy":
        metric = "keras.metrics.SparseCategoricalAccuracy(name='accuracy')"
    elif units == 1:
        metric = "keras.metrics.BinaryAccuracy(name='accuracy')"
    else:
        metric = "keras.metrics.CategoricalAccuracy(name='accuracy')"
    metrics = [metric]
    k = n["top_k"]  # type: ignore[index]
    if k:
        kind = "SparseTopKCategoricalAccuracy" if loss == "sparse_categorical_crossentropy" else "TopKCategoricalAccuracy"
        metrics.append(f"keras.metrics.{kind}(k={k}, name='top{k}_accuracy')")
    line("model.compile(")
    line(f"    optimizer=keras.optimizers.{optimizer}(learning_rate={rate}{extra}),")
    line(f"    loss={loss!r},")
    line(f"    metrics=[{', '.join(metrics)}],")
    line(")")


def _callbacks(node: object, *, has_validation: bool) -> list[str]:
    n = node
    found = []
    kind = n["lr_schedule"]  # type: ignore[index]
    base, floor = n["learning_rate"], n["min_learning_rate"]  # type: ignore[index]
    if kind == "step":
        factor, every = n["lr_factor"], n["lr_every"]  # type: ignore[index]
        found.append(f"keras.callbacks.LearningRateScheduler(lambda epoch, rate: max({base!r} * {factor!r} ** "
                     f"(epoch // {every}), {floor!r}))")
    elif kind == "plateau":
        found.append(f"keras.callbacks.ReduceLROnPlateau(monitor={'val_loss' if has_validation else 'loss'!r}, "
                     f"factor={n['lr_factor']!r}, patience={n['lr_patience']}, "  # type: ignore[index]
                     f"min_lr={floor!r}, mode='min')")
    monitor = n["monitor"]  # type: ignore[index]
    if n["early_stopping"]:  # type: ignore[index]
        mode = "max" if monitor.endswith("accuracy") else "min"
        found.append(f"keras.callbacks.EarlyStopping(monitor={monitor!r}, patience={n['patience']}, "  # type: ignore[index]
                     f"mode={mode!r})")
    if n["restore_best"]:  # type: ignore[index]
        found.append(f"best_epoch_callback({monitor!r})")
    return found


@emitter("neuroflow.learning.executor")
def executor(export: Export, item: WorkflowNode) -> None:
    model = _model_of(export, item, "model")
    images = export.source(item.id, "images")
    batch = item.node["batch_size"]
    spec = export.dataset_spec(item.id, "images")
    shape = export.facts["input_shape"]
    name = export.var(item.id, "predictions")
    line = export.line
    export.section(item.label, "predictions")
    line(f"tx, _ = model_inputs({images}, {tuple(shape)!r}, {batch}, skip_errors=False)")
    line(f"outputs = {model}.predict(tx, batch_size={'None' if spec.from_files else batch}, verbose=0)")
    line("if outputs.shape[1] == 1:  # one sigmoid unit p: probabilities (1 - p, p)")
    line("    outputs = np.concatenate([1.0 - outputs, outputs], axis=1)")
    line(f"{name} = ({images}.labels, outputs.argmax(axis=1))")


@emitter("neuroflow.learning.scorer")
def scorer(export: Export, item: WorkflowNode) -> None:
    predictions = export.source(item.id, "predictions")
    if predictions is None:
        raise NeuroFlowError(f"cannot export {title(item)}: nothing is connected to it")
    scorers = [n for n in export.workflow.nodes.values() if n.type_id == item.type_id]
    what = "test accuracy" if len(scorers) == 1 else f"test accuracy ({item.label})"
    export.line(f"truth, predicted = {predictions}")
    export.line(f'print(f"{what}: {{float(np.mean(truth == predicted)) if len(truth) else 0.0:.4f}}")'
                f"  # {item.label}")


@emitter("neuroflow.learning.writer")
def writer(export: Export, item: WorkflowNode) -> None:
    from neuroflow.training.model_files import file_format

    node = item.node
    model = _model_of(export, item, "model")
    path = str(node.resolve_path(node["path"]))
    file_format(path, node["format"])  # refuses a format that does not fit the name, as the Writer does
    line = export.line
    line("")
    line(f"path = Path({path!r})  # {item.label}")
    if node["create_folders"]:
        line("path.parent.mkdir(parents=True, exist_ok=True)")
    if not node["overwrite"]:
        line('if path.exists():')
        line('    raise SystemExit(f"{path} exists; the Network Writer is set not to overwrite it")')
    line(f"{model}.save(path)")
    line('print(f"model saved to {path}")')


def _model_of(export: Export, item: WorkflowNode, port: str) -> str:
    connection = export.workflow.incoming(item.id).get(port)
    models = export.facts.get("models", {})
    if connection is None or connection.source not in models:
        source = export.workflow.nodes[connection.source] if connection is not None else None
        why = "nothing is connected to its model input" if source is None else f"its model comes from {title(source)}"
        raise NeuroFlowError(f"cannot export {title(item)}: {why}, which the script cannot produce")
    return str(models[connection.source])
