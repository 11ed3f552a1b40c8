"""Export a workflow as a standalone Keras script (``neuroflow export FILE --python OUT.py``).

Headless and free of TensorFlow: the script is text made from the workflow's nodes and
settings, so the editor writes it in its own process. :func:`export_script` is the API;
``emit.py`` holds the emitter registry, one emitter per node kind in ``data_nodes.py``,
``learning_nodes.py`` and ``pretrained.py``, and ``network.py`` writes ``build_model()``.
"""

from .script import export_script

__all__ = ["export_script"]
