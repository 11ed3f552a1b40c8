"""Network Learner: builds the Keras model from a network description and trains it."""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Mapping
from typing import Any

from neuroflow.core.data import ImageData, TrainedModel
from neuroflow.core.errors import Cancelled, ConfigureError, NeuroFlowError
from neuroflow.core.events import TrainingEnded
from neuroflow.core.network import NetworkSpec, format_shape
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, ModelSpec, Port, PortType, Spec
from neuroflow.core.settings import (
    BoolSetting,
    ChoiceSetting,
    FloatSetting,
    IntSetting,
    PathSetting,
    StringSetting,
)
from neuroflow.training.compile import LOSS_LABELS, LOSSES, MONITORS, OPTIMIZER_LABELS, OPTIMIZERS
from neuroflow.training.distribution import DEVICE_LABELS, DEVICE_MODES, PRECISION_LABELS, PRECISIONS
from neuroflow.training.feeding import CLASS_WEIGHT_LABELS, CLASS_WEIGHTS, Feeding
from neuroflow.training.schedules import SCHEDULE_LABELS, SCHEDULES, Schedule
from neuroflow.training.shapes import needs_reshape


class NetworkLearnerNode(Node):
    type_id = "neuroflow.learning.learner"
    category = "Learning"
    name = "Network Learner"
    description = (
        "Trains a network on labelled images. It builds the Keras model from the layers wired "
        "into it, compiles it with the chosen loss and optimizer and fits it for a number of "
        "epochs, streaming loss and accuracy to the training monitor. Validation data can come "
        "from a second dataset or from a share of the training data; early stopping ends "
        "training when the monitored metric stops improving, and the best epoch's weights can "
        "be kept. Class weights balance rare classes. Images read from files are decoded in "
        "parallel while training. The same seed gives the same trained weights. Stop keeps the "
        "model trained so far; Cancel discards it. A TensorBoard log folder makes every training "
        "also write TensorBoard logs, one sub-folder per run."
    )
    keywords = ("train", "fit", "keras", "optimizer", "loss", "epochs", "early stopping",
                "learning rate", "schedule", "decay", "cosine", "plateau", "class weights",
                "imbalanced", "best epoch", "top-k", "tensorboard", "logs")
    #: 2 added the learning-rate schedule; older files get the constant schedule.
    #: 3 added class weights and top-k accuracy, and made "keep the best epoch" work without
    #: early stopping (off unless early stopping with restore was on).
    #: 4 added devices and precision (older files: auto and float32, as they trained before).
    #: 5 added the TensorBoard log folder (older files: none, no logs).
    #: 6 added the initial weights file (older files: none, fresh weights) and allows 0 epochs.
    version = 6
    inputs = (
        Port("network", PortType.NETWORK, "network", help="The network's output layer."),
        Port("training", PortType.IMAGES, "training data", help="Labelled images to learn from."),
        Port("validation", PortType.IMAGES, "validation data", optional=True,
             help="Optional images to measure generalisation after every epoch."),
    )
    outputs = (Port("model", PortType.MODEL, "trained model", help="The network with its trained weights."),)
    settings_spec = (
        ChoiceSetting("loss", "Loss", "categorical_crossentropy", choices=LOSSES, choice_labels=LOSS_LABELS,
                      help="What training minimises. Categorical cross-entropy suits a softmax output "
                           "with one unit per class; labels are one-hot encoded for you."),
        ChoiceSetting("optimizer", "Optimizer", "adam", choices=OPTIMIZERS, choice_labels=OPTIMIZER_LABELS,
                      help="How weights are updated from the gradients. Adam is a robust default."),
        FloatSetting("learning_rate", "Learning rate", 0.001, minimum=0.0, maximum=10.0,
                     exclusive_minimum=True, help="Step size of each weight update."),
        FloatSetting("momentum", "Momentum", 0.0, minimum=0.0, maximum=0.999,
                     visible_when=("optimizer", ("sgd",)),
                     help="SGD only: how much of the previous update carries over (0.9 is common)."),
        ChoiceSetting("lr_schedule", "Learning-rate schedule", "constant", choices=SCHEDULES,
                      choice_labels=SCHEDULE_LABELS,
                      help="How the learning rate changes during training. Step decay multiplies it "
                           "by the decay factor every few epochs; cosine decay lowers it smoothly to "
                           "the minimum over all epochs; reduce on plateau multiplies it by the factor "
                           "when the loss stops improving. Lowering the rate as training converges "
                           "usually gains accuracy: cosine decay suits a known number of epochs, "
                           "reduce on plateau an open-ended run."),
        FloatSetting("lr_factor", "Decay factor", 0.5, minimum=0.0, maximum=1.0, exclusive_minimum=True,
                     visible_when=("lr_schedule", ("step", "plateau")),
                     help="The learning rate is multiplied by this at each decay (0.5 halves it)."),
        IntSetting("lr_every", "Decay every (epochs)", 5, minimum=1, maximum=100_000,
                   visible_when=("lr_schedule", ("step",)),
                   help="Step decay: epochs between two decays."),
        IntSetting("lr_patience", "Plateau patience (epochs)", 2, minimum=0, maximum=10_000,
                   visible_when=("lr_schedule", ("plateau",)),
                   help="Reduce on plateau: epochs without improvement of the loss (the validation "
                        "loss when there is validation data) before the learning rate is reduced."),
        FloatSetting("min_learning_rate", "Minimum learning rate", 0.0, minimum=0.0, maximum=10.0,
                     visible_when=("lr_schedule", ("step", "cosine", "plateau")),
                     help="The schedule never goes below this; cosine decay ends exactly here."),
        IntSetting("epochs", "Epochs", 5, minimum=0, maximum=100_000,
                   help="How many times training goes through all training images. 0 trains not "
                        "at all: the model keeps its initial weights (useful with an initial "
                        "weights file, to apply an imported model as it is)."),
        PathSetting("initial_weights", "Initial weights file", "", mode="file",
                    file_filter="Keras models (*.keras *.h5 *.hdf5)",
                    help="Empty = fresh weights. Otherwise a .keras or .h5 model file whose layers' "
                         "weights the network starts from, matched by layer name (as 'neuroflow "
                         "import --weights' sets it up); layers the file lacks start fresh. A "
                         "relative path is taken from the workflow file's folder."),
        IntSetting("batch_size", "Batch size", 32, minimum=1, maximum=65_536,
                   help="Images per weight update."),
        BoolSetting("shuffle", "Shuffle", True, help="Shuffle the training images before every epoch."),
        IntSetting("seed", "Random seed", 42, minimum=0, maximum=2**31 - 1,
                   help="Seeds initial weights, shuffling, dropout and the validation split: the "
                        "same seed and data give the same trained weights."),
        FloatSetting("validation_split", "Validation split", 0.0, minimum=0.0, maximum=0.9,
                     help="Share of the training images held out for validation, drawn per class "
                          "(0 = none). Ignored when validation data is connected."),
        ChoiceSetting("class_weights", "Class weights", "none", choices=CLASS_WEIGHTS,
                      choice_labels=CLASS_WEIGHT_LABELS,
                      help="Balanced weighs each image by how rare its class is (total images / "
                           "(classes x images of the class)), so a class with few images counts as "
                           "much as one with many. Use it when classes are imbalanced."),
        IntSetting("top_k", "Top-k accuracy", 0, minimum=0, maximum=1000,
                   help="Also report top-k accuracy: an image counts as right when its class is "
                        "among the k most probable (0 = off; 5 is common with many classes)."),
        BoolSetting("early_stopping", "Early stopping", False,
                    help="Stop when the monitored metric has not improved for 'patience' epochs."),
        IntSetting("patience", "Patience", 3, minimum=0, maximum=10_000,
                   visible_when=("early_stopping", (True,)),
                   help="Epochs without improvement before training stops."),
        BoolSetting("restore_best", "Keep the best epoch", False,
                    help="When training ends, go back to the weights of the epoch with the best "
                         "monitored metric, not the last epoch's (with or without early stopping)."),
        ChoiceSetting("monitor", "Monitored metric", "val_loss", choices=MONITORS,
                      help="What early stopping and 'keep the best epoch' watch; val_ metrics need "
                           "validation data."),
        ChoiceSetting("devices", "Devices", "auto", choices=DEVICE_MODES, choice_labels=DEVICE_LABELS,
                      help="Auto trains on every GPU when there are several (each takes a share of "
                           "every batch), on the one GPU when there is one, else on the CPU. The batch "
                           "size stays the whole batch, shared among the devices. A cluster started "
                           "with --cluster or TF_CONFIG trains on all its workers whatever this says."),
        StringSetting("device_list", "Device list", "", visible_when=("devices", ("list",)),
                      help="The devices to train on, e.g. 0,1 (GPU numbers) or GPU:0, GPU:2; several "
                           "train mirrored."),
        ChoiceSetting("precision", "Precision", "float32", choices=PRECISIONS, choice_labels=PRECISION_LABELS,
                      help="Mixed precision computes in 16 bits and keeps float32 weights: float16 is "
                           "up to several times faster on GPUs with Tensor Cores, bfloat16 suits recent "
                           "CPUs and TPUs. The last layer stays float32."),
        PathSetting("tensorboard_folder", "TensorBoard log folder", "", mode="folder",
                    help="Empty = no logs. Otherwise every training writes TensorBoard logs (loss, "
                         "metrics and learning rate per epoch, by Keras's own TensorBoard callback) to a "
                         "new sub-folder named after its start time, so runs do not overwrite each other: "
                         "view them with 'tensorboard --logdir FOLDER'. A relative path is taken from the "
                         "workflow file's folder."),
    )

    @classmethod
    def migrate_settings(cls, from_version: int, settings: dict[str, Any]) -> dict[str, Any]:
        if from_version < 3:
            # Version 2 restored the best weights only as part of early stopping (default on).
            settings["restore_best"] = bool(settings.get("early_stopping", False)) and bool(
                settings.get("restore_best", True))
        if from_version < 5:
            settings.setdefault("tensorboard_folder", "")  # older learners wrote no logs
        if from_version < 6:
            settings.setdefault("initial_weights", "")  # older learners started from fresh weights
        return settings

    # -- configure ------------------------------------------------------------------------
    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        network: NetworkSpec = self.require(specs, "network", NetworkSpec)
        training: DatasetSpec = self.require(specs, "training", DatasetSpec)
        validation = specs.get("validation")
        input_shape = self._input_shape(network)
        input_name = _input_name(network)
        needs_reshape(training.shape, input_shape, data_what="the training data", input_name=input_name,
                      reader_resizes=training.from_files)
        if len(training.class_names) < 2:  # before the output check, whose advice would not help
            only = f" ('{training.class_names[0]}')" if training.class_names else ""
            raise ConfigureError(
                f"the training data has only one class{only}; a classifier needs at least two to tell "
                "apart: give the reader images of another class too (an image folder needs one "
                "sub-folder per class, at least two)"
            )
        self._check_output(network, len(training.class_names))
        if validation is not None:
            if not isinstance(validation, DatasetSpec):
                raise ConfigureError(f"input 'validation' carries {type(validation).__name__}, not DatasetSpec")
            needs_reshape(validation.shape, input_shape, data_what="the validation data", input_name=input_name,
                          reader_resizes=validation.from_files)
            if validation.class_names != training.class_names:
                raise ConfigureError(
                    f"the validation data has classes {_names(validation.class_names)} but the "
                    f"training data has {_names(training.class_names)}"
                )
        split = self["validation_split"] if validation is None else 0.0
        watching = self["early_stopping"] or self["restore_best"]
        if watching and self["monitor"].startswith("val_") and validation is None and split == 0:
            what = "early stopping" if self["early_stopping"] else "keeping the best epoch"
            raise ConfigureError(
                f"{what} on '{self['monitor']}' needs validation data: connect a validation "
                "dataset, set a validation split, or monitor 'loss' or 'accuracy'"
            )
        classes = len(training.class_names)
        if self["devices"] == "list":
            from neuroflow.training.distribution import parse_device_list

            parse_device_list(self["device_list"])
        if self["top_k"] and (self["top_k"] >= classes or network.shape[0] == 1):
            raise ConfigureError(
                f"setting 'top_k': top-{self['top_k']} accuracy needs more than {self['top_k']} classes "
                f"and one output per class (the data has {classes} classes); set it below {classes} or to 0"
            )
        if self["lr_schedule"] != "constant" and self["min_learning_rate"] > self["learning_rate"]:
            raise ConfigureError(
                f"the minimum learning rate ({self['min_learning_rate']:g}) is above the learning rate "
                f"({self['learning_rate']:g}): the schedule could only raise it"
            )
        if training.count is not None and training.count == 0:
            raise ConfigureError("the training data is empty")
        if self["initial_weights"].strip():
            self._check_initial_weights()
        if self["tensorboard_folder"].strip():
            from neuroflow.training import tensorboard

            problem = tensorboard.missing()
            if problem:
                raise ConfigureError(f"setting 'tensorboard_folder': {problem}")
        return {"model": ModelSpec(input_shape, network.shape, training.class_names)}

    @staticmethod
    def _input_shape(network: NetworkSpec) -> tuple[int, ...]:
        inputs = network.inputs
        if len(inputs) != 1:
            raise ConfigureError(
                f"the network has {len(inputs)} Input layers; the Network Learner trains networks "
                "with exactly one Input"
            )
        return inputs[0].output_shape

    def _check_output(self, network: NetworkSpec, classes: int) -> None:
        shape = network.shape
        if len(shape) != 1:
            raise ConfigureError(
                f"the network ends in shape {format_shape(shape)}; a classifier ends in a flat "
                f"vector: add Flatten and a Dense layer with {classes} units and softmax"
            )
        units = shape[0]
        if units == classes:
            return
        if units == 1 and classes == 2:
            if self["loss"] == "binary_crossentropy":
                return
            raise ConfigureError(
                "the network ends in 1 unit for 2 classes, which needs the loss 'binary_crossentropy' "
                "(and a sigmoid activation); or end in 2 units with softmax"
            )
        raise ConfigureError(
            f"the network ends in {units} units but the training data has {classes} classes; "
            f"set the last Dense layer to {classes} units"
        )

    # -- execute --------------------------------------------------------------------------
    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        import keras

        from neuroflow.core.network import build_keras_model, prepare_network
        from neuroflow.training.best_epoch import best_epoch_callback
        from neuroflow.training.bridge import training_callback
        from neuroflow.training.compile import make_accuracy, make_optimizer, make_top_k
        from neuroflow.training.distribution import (
            cluster_failure,
            is_cluster_error,
            placement,
            precision_note,
            precision_policy,
            unused_gpu_note,
        )
        from neuroflow.training.feeding import fit_data
        from neuroflow.training.schedules import learning_rate, schedule_callbacks

        network: NetworkSpec = inputs["network"]
        training: ImageData = inputs["training"]
        validation: ImageData | None = inputs.get("validation")
        configured = self.configure(
            {"network": network, "training": training.spec,
             "validation": validation.spec if validation is not None else None}
        )["model"]
        assert isinstance(configured, ModelSpec)
        self._warn_about_output(network, ctx)
        units = network.shape[0]
        data = fit_data(training, validation, self.feeding(configured.input_shape, units), ctx.warn, ctx.progress)
        ctx.check_cancelled()

        epochs, precision = self["epochs"], self["precision"]
        schedule, base = self.schedule(), self["learning_rate"]
        place = placement(self["devices"], self["device_list"])
        for note in (precision_note(precision, place), unused_gpu_note() if self["devices"] == "auto" else ""):
            if note:
                ctx.warn(note)
        devices = "; ".join(part for part in (place.description, place.share(self["batch_size"])) if part)
        keras.utils.set_random_seed(self["seed"])
        prepare_network(network, ctx.progress)  # e.g. download pretrained weights, with progress

        def build() -> Any:
            with precision_policy(precision):
                return build_keras_model(network, value_range=training.value_range,
                                         output_dtype=None if precision == "float32" else "float32")

        with place.strategy.scope() if place.strategy is not None else contextlib.nullcontext():
            model = build()
            self._initial_weights(model, ctx)
            metrics = [make_accuracy(self["loss"], units)]
            if self["top_k"]:
                metrics.append(make_top_k(self["loss"], self["top_k"]))
            model.compile(
                optimizer=make_optimizer(self["optimizer"], learning_rate(schedule, base, max(epochs, 1) * data.batches),
                                         self["momentum"]),
                loss=self["loss"],
                metrics=metrics,
            )
        # The schedule's callbacks add the learning rate to the epoch logs the bridge reports.
        scheduling = schedule_callbacks(schedule, base, "val_loss" if data.validation is not None else "loss")
        bridge = training_callback(ctx, epochs=epochs, batches_per_epoch=data.batches, samples=data.samples,
                                   devices=devices, precision=precision)
        early = self._early_stopping(keras)
        best = best_epoch_callback(self["monitor"], bridge.is_whole_epoch) if self["restore_best"] else None
        # On a cluster only the chief logs, as only it writes the model: the other workers train
        # the same model and would log the same curves again.
        logs = self._tensorboard(keras, ctx) if place.is_chief else None
        extra = [c for c in (early, best, logs) if c is not None]
        ctx.check_cancelled()
        started = time.perf_counter()
        try:
            with warnings.catch_warnings():
                # A file pipeline that skips undecodable images has no known length, which Keras
                # reports once per fit as "ran out of data"; training goes on correctly regardless.
                warnings.filterwarnings("ignore", message="Your input ran out of data")
                history = model.fit(
                    data.x, data.y, batch_size=data.batch_size, epochs=epochs, shuffle=data.shuffle,
                    validation_data=data.validation, class_weight=data.class_weight,
                    callbacks=[*scheduling, bridge, *extra], verbose=0,
                ) if epochs else None
        except BaseException as exc:
            ctx.emit(TrainingEnded(ctx.node_id, bridge.epochs_run, "failed"))
            if is_cluster_error(exc):
                raise NeuroFlowError(cluster_failure(exc)) from None
            if data.files and _is_tf_error(exc):
                raise _data_problem(exc, data.files) from None
            raise
        seconds = time.perf_counter() - started
        # An epoch cut short is described, not recorded: its numbers average a few batches.
        partial = bridge.partial_text()
        if ctx.token.cancelled:
            ctx.emit(TrainingEnded(ctx.node_id, bridge.epochs_run, f"cancelled {partial}".strip()))
            raise Cancelled("training cancelled")
        if bridge.stopped_by_user:
            reason = f"stopped by user {partial} (not counted as an epoch)" if partial else "stopped by user"
        elif early is not None and early.stopped_epoch > 0:
            reason = "early stopping"
        elif not epochs:
            reason = "not trained (0 epochs)"
        else:
            reason = "completed"
        if best is not None and best.best_epoch and (best.best_epoch != bridge.epochs_run or partial):
            reason += f"; kept epoch {best.best_epoch} (best {self['monitor']} {best.best:.4g})"
        ctx.emit(TrainingEnded(ctx.node_id, bridge.epochs_run, reason))
        logged = {key: [float(v) for v in values][: bridge.epochs_run]
                  for key, values in (history.history.items() if history is not None else ())}
        if place.multi_worker:
            # The workers may end as soon as training does: what follows (predicting, saving) must
            # not wait for them, so it gets a copy of the trained network outside the cluster.
            local = build()
            local.set_weights(model.get_weights())
            model = local
        return {"model": TrainedModel(model, training.class_names, logged, reason, seconds, devices, precision)}

    def feeding(self, input_shape: tuple[int, ...], output_units: int) -> Feeding:
        """How these settings shape the data handed to ``fit``."""
        return Feeding(
            input_shape=input_shape, loss=self["loss"], output_units=output_units,
            batch_size=self["batch_size"], shuffle=self["shuffle"], seed=self["seed"],
            validation_split=self["validation_split"], class_weights=self["class_weights"],
        )

    def schedule(self) -> Schedule:
        """The learning-rate schedule these settings describe."""
        return Schedule(self["lr_schedule"], self["lr_factor"], self["lr_every"], self["lr_patience"],
                        self["min_learning_rate"])

    def _tensorboard(self, keras: Any, ctx: ExecutionContext) -> Any:
        """Keras's TensorBoard callback writing to a new sub-folder of the log folder, or None."""
        if not self["tensorboard_folder"].strip():
            return None
        from neuroflow.training import tensorboard

        base = self.resolve_path(self["tensorboard_folder"])
        try:
            folder = tensorboard.make_run_folder(base, ctx.node_id)
        except OSError as exc:
            raise NeuroFlowError(f"TensorBoard log folder {base}: cannot create it ({exc.strerror or exc})") from None
        ctx.progress(None, f"TensorBoard logs in {folder}")
        return tensorboard.callback(keras, folder)

    def _check_initial_weights(self) -> None:
        """The initial weights file is a model file that passes NeuroFlow's checks (no TensorFlow)."""
        from neuroflow.training.model_files import check_model_file

        try:
            check_model_file(str(self.resolve_path(self["initial_weights"])))
        except NeuroFlowError as exc:
            raise ConfigureError(f"setting 'initial_weights': {exc}") from None

    def _initial_weights(self, model: Any, ctx: ExecutionContext) -> None:
        """Start from the weights of the initial weights file, by layer name."""
        if not self["initial_weights"].strip():
            return
        from neuroflow.training.initial_weights import load_initial_weights

        path = str(self.resolve_path(self["initial_weights"]))
        loaded, missing = load_initial_weights(model, path, self["initial_weights"])
        ctx.progress(None, f"started {loaded} layers from the weights in {self['initial_weights']}")
        if missing:
            ctx.warn(f"layers not in the initial weights file start fresh: {', '.join(missing)}")

    def _early_stopping(self, keras: Any) -> Any:
        if not self["early_stopping"]:
            return None
        monitor = self["monitor"]
        # Restoring the best weights is the BestEpoch callback's job, with or without early stopping.
        return keras.callbacks.EarlyStopping(
            monitor=monitor,
            patience=self["patience"],
            mode="max" if monitor.endswith("accuracy") else "min",
            restore_best_weights=False,
        )

    def _warn_about_output(self, network: NetworkSpec, ctx: ExecutionContext) -> None:
        """Cross-entropy on outputs that are not probabilities trains badly: say so."""
        last = network.by_id[network.output]
        activation = dict(last.config).get("activation")
        if activation is None:
            return
        expected = "sigmoid" if network.shape[0] == 1 else "softmax"
        loss = self["loss"]
        if loss == "binary_crossentropy" and activation not in ("sigmoid", "softmax"):
            ctx.warn(f"the last layer's activation is '{activation}'; binary cross-entropy expects sigmoid outputs")
        elif loss.endswith("categorical_crossentropy") and activation != expected:
            ctx.warn(
                f"the last layer's activation is '{activation}'; {loss.replace('_', ' ')} expects "
                f"{expected} probabilities"
            )


def _input_name(network: NetworkSpec) -> str:
    """The setting that decides the network's input shape, as messages name it."""
    first = network.inputs[0] if network.inputs else None
    owner = network.by_id.get(first.id.removesuffix("_input")) if first is not None else None
    if owner is not None and owner.builder:  # an Input a node made itself: a Pretrained Network's
        return f"the {owner.label}'s input size"
    return "the Input layer's shape"


def _is_tf_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("tensorflow")


def _data_problem(exc: BaseException, files: tuple[Any, ...]) -> BaseException:
    """A TensorFlow error while reading files, as one line naming the images it comes from."""
    from neuroflow.training.pipeline import decode_failure, find_undecodable

    culprit = next((d for d in files if len(files) == 1 or find_undecodable(d, limit=1)), files[0])
    return decode_failure(culprit, exc)


def _names(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
    return f"({shown}) [{len(names)}]"
