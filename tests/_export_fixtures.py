"""Tiny generators and run directories for the export / serving / generate tests."""

import json
import os

import keras
import numpy as np

from tfgan_app.architectures.stackgan import stackgan_generator
from tfgan_app.architectures.text import text_generator
from tfgan_app.data.captions import caption_vocabulary

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


SEQUENCE_LENGTH = 6
TEXT_IMAGE_SHAPE = (8, 8, 1)


def text_vocabulary() -> list:
    """The MNIST caption words ("a", "digit", ..., "zero"), as `TextConditionedGAN` gets them."""
    return caption_vocabulary("mnist")


def tiny_text_generator(seed: int = 0, weight_std: float = 0.5) -> keras.Model:
    """A small `text_generator`: [latents [None, 8], tokens int32 [None, 6]] -> 8x8x1 tanh images.

    Its trainable weights are redrawn with std `weight_std`: freshly initialised, the images are ~1e-4
    and barely depend on the caption, so no test could tell right token ids from wrong ones.
    """
    keras.utils.set_random_seed(seed)
    generator = text_generator(LATENT_DIM, TEXT_IMAGE_SHAPE, len(text_vocabulary()) + 2, SEQUENCE_LENGTH,
                               embedding_dim=4, cond_dim=2, base_filters=4)
    rng = np.random.default_rng(seed)
    for weight in generator.trainable_weights:
        weight.assign(rng.normal(0.0, weight_std, tuple(weight.shape)).astype(np.float32))
    return generator


def tiny_stackgan_generator(seed: int = 0, weight_std: float = 0.5) -> keras.Model:
    """A small two-stage `stackgan_generator`: [latents [None, 8], tokens int32 [None, 6]] -> stage I 4x4x1 ->
    stage II 8x8x1 (nested models `stage1`, `stage2`), its trainable weights redrawn as `tiny_text_generator`'s."""
    keras.utils.set_random_seed(seed)
    generator = stackgan_generator(LATENT_DIM, TEXT_IMAGE_SHAPE, len(text_vocabulary()) + 2, SEQUENCE_LENGTH,
                                   embedding_dim=4, cond_dim=2, base_filters=4, stage2_filters=4, residual_blocks=1)
    rng = np.random.default_rng(seed)
    for weight in generator.trainable_weights:
        weight.assign(rng.normal(0.0, weight_std, tuple(weight.shape)).astype(np.float32))
    return generator


def write_text_run_dir(path: str, name: str = "text_tiny", vocabulary: bool = True) -> str:
    """A text-conditioned run directory as `tfgan train` writes it (config with vocabulary and sequence_length,
    unless `vocabulary=False`, as in runs trained before it was recorded); returns `path`."""
    os.makedirs(path, exist_ok=True)
    tiny_text_generator().save(os.path.join(path, "generator.keras"))
    config = {"name": name, "latent_dim": LATENT_DIM, "num_classes": None, "image_shape": list(TEXT_IMAGE_SHAPE)}
    if vocabulary:
        config.update(vocabulary=text_vocabulary(), sequence_length=SEQUENCE_LENGTH)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    return path


def export_with_failing_int8(monkeypatch, generator: keras.Model, base_dir: str, **kwargs):
    """`export_generator(float32 + int8)` with int8 conversion made to fail, as an unconvertible model does."""
    from tfgan_app.errors import UsageError
    from tfgan_app.export import export_generator, tflite

    convert = tflite.convert

    def failing_int8(model, quantization, *args, **convert_kwargs):
        if quantization == "int8":
            raise UsageError("TFLite int8 conversion failed: simulated")
        return convert(model, quantization, *args, **convert_kwargs)
    monkeypatch.setattr(tflite, "convert", failing_int8)
    return export_generator(generator, "skip", base_dir, quantizations=("float32", "int8"), **kwargs)
