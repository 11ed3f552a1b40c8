"""Network Learner: builds the Keras model from a network description and trains it."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from neuroflow.core.data import ImageDataset, TrainedModel
from neuroflow.core.errors import Cancelled, ConfigureError
from neuroflow.core.events import TrainingEnded
from neuroflow.core.network import NetworkSpec, format_shape
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import DatasetSpec, ModelSpec, Port, PortType, Spec
from neuroflow.core.settings import BoolSetting, ChoiceSetting, FloatSetting, IntSetting
from neuroflow.training.compile import LOSS_LABELS, LOSSES, MONITORS, OPTIMIZER_LABELS, OPTIMIZERS
from neuroflow.training.schedules import SCHEDULE_LABELS, SCHEDULES, Schedule
from neuroflow.training.shapes import needs_reshape, reshape_note


class NetworkLearnerNode(Node):
    type_id = "neuroflow.learning.learner"
    category = "Learning"
    name = "Network Learner"
    description = (
        "Trains a network on labelled images. It builds the Keras model from the layers wired "
        "into it, compiles it with the chosen loss and optimizer and fits it for a number of "
        "epochs, streaming loss and accuracy to the training monitor. Validation data can come "
        "from a second dataset or from a share of the training data; early stopping ends "
        "training when the monitored metric stops improving. The same seed gives the same "
        "trained weights. Stop keeps the model trained so far; Cancel discards it."
    )
    keywords = ("train", "fit", "keras", "optimizer", "loss", "epochs", "early stopping",
                "learning rate", "schedule", "decay", "cosine", "plateau")
    #: 2 added the learning-rate schedule; older files get the constant schedule.
    version = 2
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
        IntSetting("epochs", "Epochs", 5, minimum=1, maximum=100_000,
                   help="How many times training goes through all training images."),
        IntSetting("batch_size", "Batch size", 32, minimum=1, maximum=65_536,
                   help="Images per weight update."),
        BoolSetting("shuffle", "Shuffle", True, help="Shuffle the training images before every epoch."),
        IntSetting("seed", "Random seed", 42, minimum=0, maximum=2**31 - 1,
                   help="Seeds initial weights, shuffling, dropout and the validation split: the "
                        "same seed and data give the same trained weights."),
        FloatSetting("validation_split", "Validation split", 0.0, minimum=0.0, maximum=0.9,
                     help="Share of the training images held out for validation, drawn per class "
                          "(0 = none). Ignored when validation data is connected."),
        BoolSetting("early_stopping", "Early stopping", False,
                    help="Stop when the monitored metric has not improved for 'patience' epochs."),
        ChoiceSetting("monitor", "Monitored metric", "val_loss", choices=MONITORS,
                      visible_when=("early_stopping", (True,)),
                      help="Metric watched by early stopping; val_ metrics need validation data."),
        IntSetting("patience", "Patience", 3, minimum=0, maximum=10_000,
                   visible_when=("early_stopping", (True,)),
                   help="Epochs without improvement before training stops."),
        BoolSetting("restore_best", "Restore best weights", True, visible_when=("early_stopping", (True,)),
                    help="After early stopping, keep the weights of the best epoch, not the last."),
    )

    # -- configure ------------------------------------------------------------------------
    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        network: NetworkSpec = self.require(specs, "network", NetworkSpec)
        training: DatasetSpec = self.require(specs, "training", DatasetSpec)
        validation = specs.get("validation")
        input_shape = self._input_shape(network)
        needs_reshape(training.shape, input_shape, data_what="the training data")
        self._check_output(network, len(training.class_names))
        if validation is not None:
            if not isinstance(validation, DatasetSpec):
                raise ConfigureError(f"input 'validation' carries {type(validation).__name__}, not DatasetSpec")
            needs_reshape(validation.shape, input_shape, data_what="the validation data")
            if validation.class_names != training.class_names:
                raise ConfigureError(
                    f"the validation data has classes {_names(validation.class_names)} but the "
                    f"training data has {_names(training.class_names)}"
                )
        split = self["validation_split"] if validation is None else 0.0
        if self["early_stopping"] and self["monitor"].startswith("val_") and validation is None and split == 0:
            raise ConfigureError(
                f"early stopping on '{self['monitor']}' needs validation data: connect a validation "
                "dataset, set a validation split, or monitor 'loss' or 'accuracy'"
            )
        if self["lr_schedule"] != "constant" and self["min_learning_rate"] > self["learning_rate"]:
            raise ConfigureError(
                f"the minimum learning rate ({self['min_learning_rate']:g}) is above the learning rate "
                f"({self['learning_rate']:g}): the schedule could only raise it"
            )
        if training.count is not None and training.count == 0:
            raise ConfigureError("the training data is empty")
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
        from neuroflow.training.bridge import training_callback
        from neuroflow.training.compile import make_accuracy, make_optimizer
        from neuroflow.training.schedules import learning_rate, schedule_callbacks

        network: NetworkSpec = inputs["network"]
        training: ImageDataset = inputs["training"]
        validation: ImageDataset | None = inputs.get("validation")
        configured = self.configure(
            {"network": network, "training": training.spec,
             "validation": validation.spec if validation is not None else None}
        )["model"]
        assert isinstance(configured, ModelSpec)
        self._warn_about_output(network, ctx)
        x, y, validation_data = self._arrays(training, validation, configured, network.shape[0], ctx)
        ctx.check_cancelled()

        epochs, batch_size = self["epochs"], self["batch_size"]
        batches = math.ceil(len(x) / batch_size)
        schedule, base = self.schedule(), self["learning_rate"]
        keras.utils.set_random_seed(self["seed"])
        prepare_network(network, ctx.progress)  # e.g. download pretrained weights, with progress
        model = build_keras_model(network, value_range=training.value_range)
        model.compile(
            optimizer=make_optimizer(self["optimizer"], learning_rate(schedule, base, epochs * batches),
                                     self["momentum"]),
            loss=self["loss"],
            metrics=[make_accuracy(self["loss"], network.shape[0])],
        )
        # The schedule's callbacks add the learning rate to the epoch logs the bridge reports.
        scheduling = schedule_callbacks(schedule, base, "val_loss" if validation_data is not None else "loss")
        bridge = training_callback(ctx, epochs=epochs, batches_per_epoch=batches, samples=len(x))
        early = self._early_stopping(keras)
        ctx.check_cancelled()
        started = time.perf_counter()
        try:
            history = model.fit(
                x, y, batch_size=batch_size, epochs=epochs, shuffle=self["shuffle"],
                validation_data=validation_data,
                callbacks=[*scheduling, bridge, *([early] if early else [])], verbose=0,
            )
        except BaseException:
            ctx.emit(TrainingEnded(ctx.node_id, bridge.epochs_run, "failed"))
            raise
        seconds = time.perf_counter() - started
        if ctx.token.cancelled:
            ctx.emit(TrainingEnded(ctx.node_id, bridge.epochs_run, "cancelled"))
            raise Cancelled("training cancelled")
        if bridge.stopped_by_user:
            reason = "stopped by user"
        elif early is not None and early.stopped_epoch > 0:
            reason = "early stopping"
        else:
            reason = "completed"
        ctx.emit(TrainingEnded(ctx.node_id, bridge.epochs_run, reason))
        metrics = {key: [float(v) for v in values] for key, values in history.history.items()}
        return {"model": TrainedModel(model, training.class_names, metrics, reason, seconds)}

    def _arrays(
        self,
        training: ImageDataset,
        validation: ImageDataset | None,
        spec: ModelSpec,
        units: int,
        ctx: ExecutionContext,
    ) -> tuple[Any, Any, tuple[Any, Any] | None]:
        """``x``, ``y`` and the validation pair as ``fit`` wants them; warns about reshapes."""
        from neuroflow.training.shapes import check_labels, model_inputs
        from neuroflow.training.targets import stratified_split, training_targets

        classes, loss = len(training.class_names), self["loss"]
        for data, what in ((training, "the training data"), (validation, "the validation data")):
            if data is None:
                continue
            check_labels(data.labels, classes, data_what=what)
            if needs_reshape(data.spec.shape, spec.input_shape, data_what=what):
                ctx.warn(reshape_note(data.spec.shape, spec.input_shape, data_what=what))
        x = model_inputs(training.images, spec.input_shape)
        y = training_targets(training.labels, classes, loss, units)
        if validation is not None:
            if self["validation_split"] > 0:
                ctx.warn("validation data is connected, so the validation split setting is ignored")
            pair = (
                model_inputs(validation.images, spec.input_shape),
                training_targets(validation.labels, classes, loss, units),
            )
            return x, y, pair
        if self["validation_split"] > 0:
            kept, held_out = stratified_split(training.labels, self["validation_split"], self["seed"])
            return x[kept], y[kept], (x[held_out], y[held_out])
        return x, y, None

    def schedule(self) -> Schedule:
        """The learning-rate schedule these settings describe."""
        return Schedule(self["lr_schedule"], self["lr_factor"], self["lr_every"], self["lr_patience"],
                        self["min_learning_rate"])

    def _early_stopping(self, keras: Any) -> Any:
        if not self["early_stopping"]:
            return None
        monitor = self["monitor"]
        return keras.callbacks.EarlyStopping(
            monitor=monitor,
            patience=self["patience"],
            mode="max" if monitor.endswith("accuracy") else "min",
            restore_best_weights=self["restore_best"],
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


def _names(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
    return f"({shown}) [{len(names)}]"
