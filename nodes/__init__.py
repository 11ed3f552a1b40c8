"""NeuroFlow's built-in node library (installed as ``neuroflow.nodes``): one file per node type."""
