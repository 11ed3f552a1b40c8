"""What the editor and its execution process say to each other.

Messages are tuples whose first item names them; they travel over a ``multiprocessing`` pipe
between two processes of the same program (the pipe pickles them; nothing pickled ever reaches
a file). From the editor:

* ``("run", request, workflow_json, folder, executed, targets, history)`` - execute ``targets``
  (or everything) of the workflow described by ``fileformat.to_dict``; ``executed`` lists the
  nodes the editor shows as executed, the only ones whose cached results the worker may keep;
  ``history`` is ``{"store": path, "workflow": path or None}`` to record the run's trainings in
  that run history (the worker has the workflow that really ran), or ``None``;
* ``("cancel",)``, ``("stop",)`` - abort the run, or end training keeping the model;
* ``("forget", node_ids)`` - drop those nodes' results (a reset in the editor);
* ``("images", request, key, indices)`` - pixels of an in-memory dataset, for a view;
* ``("infer", request, node_id, what, payload)`` - ask a trained model (:mod:`.inference`);
* ``("shutdown",)``.

From the worker: ``("ready",)`` once it listens; ``("state", event, outputs, seconds)`` for every
node state change, with the node's light outputs when it has just executed; ``("event", event)``
for every other core event; ``("finished", request, result, error)`` at the end of a run;
``("images", request, array_or_error)``; ``("infer", request, answer_or_error)`` (see :mod:`.inference`).

A node keeps its cached results across runs only while its *fingerprint* - its type, version,
settings and the fingerprints of everything upstream, and the workflow's folder (relative paths)
- is unchanged and the editor still shows it executed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroflow.core.data import ImageDataset, Predictions, TrainedModel

log = logging.getLogger(__name__)

#: Path from a node's outputs to an in-memory image array: (node id, port, attribute, ...).
Key = tuple[str, ...]
#: Images fetched per request when a view asks for one: a screenful of thumbnails.
PAGE = 256
#: Pages of images kept by each remote array in the editor.
PAGES_KEPT = 16


def fingerprints(workflow_json: Mapping[str, Any], folder: str | None) -> dict[str, str]:
    """A digest per node of everything that decides its results (see the module docstring)."""
    nodes = {node["id"]: node for node in workflow_json.get("nodes", [])}
    incoming: dict[str, list[tuple[str, str, str]]] = {nid: [] for nid in nodes}
    for connection in workflow_json.get("connections", []):
        source, _, source_port = connection["from"].rpartition(".")
        target, _, target_port = connection["to"].rpartition(".")
        if target in incoming:
            incoming[target].append((target_port, source, source_port))
    found: dict[str, str] = {}

    def digest(nid: str, visiting: frozenset[str]) -> str:
        if nid in found:
            return found[nid]
        if nid in visiting or nid not in nodes:  # a cycle or a dangling wire: never reusable
            return "-"
        node = nodes[nid]
        upstream = sorted(
            (port, digest(source, visiting | {nid}), source_port) for port, source, source_port in incoming[nid]
        )
        # a block's inside is part of what it computes
        text = json.dumps([node.get("type"), node.get("version"), node.get("settings"), node.get("block"), upstream,
                           folder],
                          sort_keys=True, default=str)
        found[nid] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return found[nid]

    for nid in nodes:
        digest(nid, frozenset())
    return found


# -- light results: what crosses to the editor ---------------------------------------------------
@dataclass(frozen=True)
class ModelInfo:
    """What the editor shows of a trained Keras model, without the model (or TensorFlow)."""

    input_shape: tuple[Any, ...]
    output_shape: tuple[Any, ...]
    params: int
    trainable_params: int
    #: (name, Keras class, parameters) per layer.
    layers: tuple[tuple[str, str, int], ...]

    def count_params(self) -> int:
        return self.params

    @staticmethod
    def of(model: Any) -> ModelInfo:
        trainable = sum(int(np.prod(w.shape)) for w in getattr(model, "trainable_weights", []))
        return ModelInfo(
            input_shape=tuple(model.input_shape),
            output_shape=tuple(model.output_shape),
            params=int(model.count_params()),
            trainable_params=trainable,
            layers=tuple((layer.name, type(layer).__name__, int(layer.count_params())) for layer in model.layers),
        )


class RemoteArray:
    """Stands in, in the editor, for the image array of an in-memory dataset in the worker.

    ``shape`` and ``dtype`` are known at once; indexing fetches the pixels from the worker a
    page at a time (kept in a small cache), so a gallery of 60,000 MNIST images costs the editor
    only the screenfuls it shows. When the worker is gone, the pixels read as zeros.
    """

    #: Set by the editor's worker client: ``fetch(key, indices) -> np.ndarray``.
    fetch: Callable[[Key, Sequence[int]], np.ndarray] | None = None

    def __init__(self, key: Key, shape: tuple[int, ...], dtype: str) -> None:
        self.key = key
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self._pages: OrderedDict[int, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return self.shape[0]

    def __getstate__(self) -> dict[str, Any]:
        return {"key": self.key, "shape": self.shape, "dtype": self.dtype.str}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(tuple(state["key"]), tuple(state["shape"]), state["dtype"])  # type: ignore[misc]

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, (int, np.integer)):
            position = int(index) + (self.shape[0] if index < 0 else 0)
            if not 0 <= position < self.shape[0]:
                raise IndexError(index)
            page = self._page(position // PAGE)
            return page[position % PAGE]
        positions = np.arange(self.shape[0])[index]
        return np.stack([self[int(p)] for p in np.atleast_1d(positions)]) if positions.size else \
            np.zeros((0, *self.shape[1:]), self.dtype)

    def _page(self, number: int) -> np.ndarray:
        cached = self._pages.get(number)
        if cached is not None:
            self._pages.move_to_end(number)
            return cached
        start = number * PAGE
        indices = list(range(start, min(start + PAGE, self.shape[0])))
        page = None
        fetch = RemoteArray.fetch
        if fetch is not None:
            try:
                page = np.asarray(fetch(self.key, indices), dtype=self.dtype)
            except Exception as exc:  # the worker is gone or busy: show blanks, never crash a view
                log.warning("cannot fetch images %s from the execution process: %s", self.key, exc)
        if page is None or page.shape != (len(indices), *self.shape[1:]):
            return np.zeros((len(indices), *self.shape[1:]), self.dtype)
        self._pages[number] = page
        if len(self._pages) > PAGES_KEPT:
            self._pages.popitem(last=False)
        return page


def lighten(node_id: str, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """A node's outputs as the editor receives them: heavy parts replaced by stand-ins."""
    return {port: _light(value, (node_id, port)) for port, value in outputs.items()}


def _light(value: Any, key: Key) -> Any:
    if isinstance(value, ImageDataset):
        images = RemoteArray(key, value.images.shape, value.images.dtype.str)
        return ImageDataset(images, value.labels, value.class_names, value.value_range, value.source)
    if isinstance(value, Predictions):
        return Predictions(value.probabilities, value.predicted, _light(value.dataset, (*key, "dataset")))
    if isinstance(value, TrainedModel):
        return TrainedModel(ModelInfo.of(value.model), value.class_names, dict(value.history),
                            value.stop_reason, value.seconds, value.devices, value.precision)
    return value  # scores, file lists, network descriptions: plain data already


def resolve_images(outputs_of: Callable[[str], Mapping[str, Any] | None], key: Key, indices: Sequence[int]) -> np.ndarray:
    """The worker's side of an ``images`` request: follow ``key`` to an in-memory image array."""
    outputs = outputs_of(key[0])
    if outputs is None or key[1] not in outputs:
        raise LookupError(f"no results for {key[0]}.{key[1]} (reset or not executed)")
    value = outputs[key[1]]
    for attribute in key[2:]:
        value = getattr(value, attribute)
    if not isinstance(value, ImageDataset):
        raise LookupError(f"{'.'.join(key)} is not an in-memory image dataset")
    return np.ascontiguousarray(value.images[np.asarray(indices, dtype=np.int64)])
