"""The execution process: where workflows run for the editor, so TensorFlow never lives in it.

The editor (``neuroflow.gui``) never imports TensorFlow. It drives one execution process (the
*worker*, as KNIME, Jupyter and Sony's Neural Network Console do) that holds the workflow's
executed state - datasets, trained models - and sends back the events of a run and the light
results the views need: scores, predictions, histories, and the images a view shows, fetched
when it shows them. If the worker dies (killed, out of memory, a native crash in TensorFlow),
the editor stays up: the running nodes turn failed with a message saying so, and the next
Execute starts a fresh worker.

* :mod:`.protocol` - the messages, the node fingerprints that decide which cached results a
  run may keep, and the light stand-ins for heavy results (Qt-free, TensorFlow-free).
* :mod:`.server` - the worker's side: runs the :class:`~neuroflow.core.executor.Executor` on its
  own copy of the workflow and streams events back.
* :mod:`.client` - the editor's side: starts the worker (``python -m neuroflow.worker``), sends
  requests, receives messages on a reader thread, notices when the worker dies.

The command line does not use a worker: it runs the executor in its own process, where a
crash ends only the command that caused it and nothing else is there to protect.
"""
