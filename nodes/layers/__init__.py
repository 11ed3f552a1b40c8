"""Layer nodes: each appends one Keras layer to the network description."""
