"""Shared machinery of the learning nodes (learner, executor, scorer, model writer and reader).

The node files in ``neuroflow.nodes.learning`` stay short declarations; what they share lives
here: the shape rule between a dataset and a network input (:mod:`.shapes`), turning labels into
training targets (:mod:`.targets`), optimizers and losses (:mod:`.compile`), the Keras callback
that streams training events and honours stop and cancel (:mod:`.bridge`), the model file format
(:mod:`.model_files`) and the classification scores (:mod:`.scoring`).

Importing this package, or any module in it, never imports TensorFlow or Keras: the modules that
need Keras import it inside their functions, so configure-time code stays light.
"""
