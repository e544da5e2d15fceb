"""Tiny generators and run directories for the export / serving / generate tests."""

import json
import os

import keras
import numpy as np

LATENT_DIM = 8
NUM_CLASSES = 3


def tiny_generator(latent_dim: int = LATENT_DIM, seed: int = 0) -> keras.Model:
    """Dense -> Reshape -> BatchNorm -> LeakyReLU -> Conv2DTranspose -> tanh, 8x8x1 images."""
    keras.utils.set_random_seed(seed)
    z = keras.Input((latent_dim,), name="z")
    h = keras.layers.Dense(4 * 4 * 8)(z)
    h = keras.layers.Reshape((4, 4, 8))(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.LeakyReLU(0.2)(h)
    out = keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")(h)
    return keras.Model(z, out, name="tiny_generator")


def tiny_conditional_generator(latent_dim: int = LATENT_DIM, num_classes: int = NUM_CLASSES,
                               seed: int = 0) -> keras.Model:
    """[z, labels int32 [None]] -> Embedding + concat -> 8x8x1 tanh images."""
    keras.utils.set_random_seed(seed)
    z = keras.Input((latent_dim,), name="z")
    labels = keras.Input((), dtype="int32", name="labels")
    e = keras.layers.Flatten()(keras.layers.Embedding(num_classes, 4)(labels))
    h = keras.layers.Concatenate()([z, e])
    h = keras.layers.Dense(4 * 4 * 8)(h)
    h = keras.layers.Reshape((4, 4, 8))(h)
    h = keras.layers.LeakyReLU(0.2)(h)
    out = keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")(h)
    return keras.Model([z, labels], out, name="tiny_conditional_generator")


def write_run_dir(path: str, conditional: bool = False, name: str = "tiny") -> str:
    """Writes `path/config.json` + `path/generator.keras` like `tfgan train` does; returns `path`."""
    os.makedirs(path, exist_ok=True)
    generator = tiny_conditional_generator() if conditional else tiny_generator()
    generator.save(os.path.join(path, "generator.keras"))
    config = {"name": name, "latent_dim": LATENT_DIM, "num_classes": NUM_CLASSES if conditional else None,
              "image_shape": [8, 8, 1]}
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    return path


def keras_images(generator: keras.Model, latents: np.ndarray, labels=None) -> np.ndarray:
    """The generator's float images for `latents` (and labels), as numpy."""
    inputs = latents if labels is None else [latents, np.asarray(labels, np.int32)]
    return np.asarray(generator(inputs, training=False))
