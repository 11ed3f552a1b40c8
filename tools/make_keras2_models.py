"""Write the Keras 2 model files the Network Reader tests read (``tests/data/keras2_*.h5``).

Keras 2 ``.h5`` files record no layer shapes in their config (Keras 3 files do), so the Network
Reader computes them for common layer types; these small files, made by real Keras 2, test that.
NeuroFlow itself runs Keras 3, so Keras 2 comes from the ``tf-keras`` package, installed beside
it only for this script (it matches the TensorFlow version and needs nothing else)::

    pip install --target build/tf-keras --no-deps "tf-keras==$(python -c 'import tensorflow as tf; print(tf.__version__)')"
    PYTHONPATH=build/tf-keras python tools/make_keras2_models.py

The weights are seeded, so the files change only when Keras 2's format does.
"""

from __future__ import annotations

import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"


def main() -> None:
    import tf_keras as keras  # Keras 2

    keras.utils.set_random_seed(1)
    inputs = keras.Input((12, 12, 1), name="image")
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", strides=2, name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dense(8, activation="relu", name="fc")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(x)
    functional = keras.Model(inputs, outputs, name="keras2_cnn")
    sequential = keras.Sequential(
        [keras.layers.Flatten(input_shape=(6, 6, 1)), keras.layers.Dense(5, activation="relu"),
         keras.layers.Dense(3, activation="softmax")],
        name="keras2_sequential",
    )
    DATA.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # "HDF5 is a legacy format": that is the point here
        warnings.simplefilter("ignore")
        functional.save(DATA / "keras2_cnn.h5")
        sequential.save(DATA / "keras2_sequential.h5")
    print(f"wrote keras2_cnn.h5 and keras2_sequential.h5 to {DATA} with Keras {keras.__version__}")


if __name__ == "__main__":
    main()
