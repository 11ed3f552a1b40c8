"""Network Reader: loads a trained model from a .keras or .h5 file, to apply or to continue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuroflow.core.errors import ConfigureError, NeuroFlowError
from neuroflow.core.node import ExecutionContext, Node
from neuroflow.core.ports import Port, PortType, Spec, Unavailable
from neuroflow.core.settings import ChoiceSetting, IntSetting, PathSetting, StringSetting
from neuroflow.training.model_files import FILE_FILTER, file_format, read_model_info
from neuroflow.training.model_graph import read_model_graph
from neuroflow.training.reused_model import FREEZE_LABELS, FREEZE_MODES, plan_reuse, reused_network


class NetworkReaderNode(Node):
    type_id = "neuroflow.learning.reader"
    category = "Learning"
    name = "Network Reader"
    description = (
        "Loads a trained model from a .keras or .h5 file, such as one saved by the Network "
        "Writer, to classify new images without training again. Class names saved by NeuroFlow "
        "come back with the model; models from elsewhere get the class names 0, 1, 2, ... "
        "The network output continues the model into layer nodes, to fine-tune it with a new "
        "head: remove its last layers (the old classifier), choose which of its layers stay "
        "frozen, add layers and train with the Network Learner on images scaled as the model "
        "was trained on. Before Keras reads a file, NeuroFlow checks it: a model containing "
        "Python code (a Lambda layer) or custom classes from outside Keras is refused rather than "
        "run, and so is anything that is not a regular file."
    )
    keywords = ("load", "open", "import", "keras", "h5", "hdf5", "model file", "pretrained",
                "fine-tune", "transfer learning", "freeze", "head")
    #: 2 added the network output and its settings (remove_last, freeze, freeze_count,
    #: freeze_pattern); older files get their defaults: the whole model, nothing frozen.
    version = 2
    inputs = ()
    outputs = (
        Port("model", PortType.MODEL, "trained model", help="The model read from the file."),
        Port("network", PortType.NETWORK, "network",
             help="The model as the start of a network, to continue with layer nodes."),
    )
    settings_spec = (
        PathSetting("path", "File", "", mode="file", file_filter=FILE_FILTER,
                    help="A model file ending in .keras or .h5."),
        IntSetting("remove_last", "Remove the last N layers", 0, minimum=0, maximum=100_000,
                   help="Network output only: cut this many layers off the end of the model, "
                        "such as its classifier head, to put new layers in their place. 0 keeps "
                        "the whole model. The cut must fall where the model is a single path."),
        ChoiceSetting("freeze", "Freeze", "none", choices=FREEZE_MODES, choice_labels=FREEZE_LABELS,
                      help="Network output only: which layers read from the file keep their "
                           "weights while the Network Learner trains - nothing, all of them (only "
                           "the new layers train), the first N, or those whose name matches a "
                           "pattern. Frozen BatchNormalization layers also keep their moving "
                           "averages (inference mode)."),
        IntSetting("freeze_count", "Layers to freeze", 1, minimum=1, maximum=100_000,
                   visible_when=("freeze", ("first",)),
                   help="Freeze this many layers from the input on, counting every layer after "
                        "the input in the file's order (also those without weights)."),
        StringSetting("freeze_pattern", "Layer name pattern", "", visible_when=("freeze", ("pattern",)),
                      help="Freeze the layers whose name matches: * stands for any text, ? for one "
                           "character; several patterns are separated by commas (conv*, bn_1)."),
    )

    def configure(self, specs: Mapping[str, Spec | None]) -> dict[str, Spec]:
        """Both outputs; when one is impossible it is :class:`Unavailable` and the node stays
        usable through the other - unless the network settings are in use (then the user means
        to continue the model, and a problem with it is the node's own)."""
        if not self["path"].strip():
            raise ConfigureError("no file set: choose a model file (setting 'path')")
        path = self._path()
        file_format(path)
        model: Spec
        network: Spec
        try:
            model = read_model_info(path).spec
        except NeuroFlowError as exc:
            model = Unavailable("trained model", f"cannot use '{path}' as a trained model: {exc}")
            model_error: NeuroFlowError | None = exc
        else:
            model_error = None
        try:
            network = self._network(path)
        except NeuroFlowError as exc:
            if model_error is not None:
                raise model_error from None
            if self._continues():
                raise
            network = Unavailable("network", f"cannot continue '{path}' into layers: {exc}")
        return {"model": model, "network": network}

    def _path(self) -> str:
        """The model file; a relative path is taken from the workflow file's folder."""
        return str(self.resolve_path(self["path"]))

    def _continues(self) -> bool:
        """True when a network setting differs from its default."""
        return self["remove_last"] > 0 or self["freeze"] != "none"

    def _network(self, path: str) -> Spec:
        plan = plan_reuse(
            read_model_graph(path), remove_last=self["remove_last"], freeze=self["freeze"],
            freeze_count=self["freeze_count"], freeze_pattern=self["freeze_pattern"],
        )
        return reused_network(self.node_id or "reader", path, plan, label=self.name)

    def execute(self, inputs: Mapping[str, Any], ctx: ExecutionContext) -> dict[str, Any]:
        from neuroflow.training.model_files import load_trained_model

        specs = self.configure({})
        path = self._path()
        model: Any = specs["model"]
        if not isinstance(model, Unavailable):
            ctx.progress(None, f"loading {path}")
            model = load_trained_model(path)
        # The network output is its description: the Network Learner loads the file when it
        # builds the model.
        return {"model": model, "network": specs["network"]}
