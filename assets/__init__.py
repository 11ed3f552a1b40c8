"""Bundled assets: MNIST (the default dataset) and icons."""
