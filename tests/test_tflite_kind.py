"""`TFLiteGenerator` takes the model's kind from the export's sidecar, not from its input names.

Without a sidecar (a user's own `.tflite`) the input names decide, and names that do not
decide are a one-line error asking for the sidecar instead of a silent guess.
"""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tfgan_app.artifacts.kind import IMAGE_TO_IMAGE, LATENT
from tfgan_app.artifacts.layout import SIDECAR_FILE
from tfgan_app.artifacts.tflite_runner import TFLiteGenerator
from tfgan_app.errors import MissingResourceError


def write_tflite(directory, specs, kind=None) -> str:
    """A `.tflite` of `tanh(first input)` with inputs `specs` ({name: shape}); a sidecar stating `kind` if given."""

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32, name=name) for name, shape in specs.items()])
    def model(*inputs):
        return {"images": tf.tanh(inputs[0]) + 0.0 * tf.reduce_sum(inputs[-1])}

    converter = tf.lite.TFLiteConverter.from_concrete_functions([model.get_concrete_function()], model)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "generator_float32.tflite")
    with open(path, "wb") as f:
        f.write(converter.convert())
    if kind is not None:
        with open(os.path.join(directory, SIDECAR_FILE), "w") as f:
            json.dump({"kind": kind}, f)
    return path


def test_the_sidecar_kind_wins_over_the_input_names(tmp_path):
    # An image-to-image model whose input happens to be called "latents": by names it looked latent.
    path = write_tflite(str(tmp_path), {"latents": [None, 4, 4, 1]}, kind="image_to_image")
    runner = TFLiteGenerator(path)
    assert runner.kind == IMAGE_TO_IMAGE and runner.latent_dim is None and runner.input_shape == [4, 4, 1]
    images = np.linspace(-2, 2, 32, dtype=np.float32).reshape(2, 4, 4, 1)
    np.testing.assert_allclose(runner(images), np.tanh(images), rtol=1e-5)


def test_without_a_sidecar_the_input_names_decide(tmp_path):
    assert TFLiteGenerator(write_tflite(str(tmp_path / "a"), {"latents": [None, 3]})).kind == LATENT
    runner = TFLiteGenerator(write_tflite(str(tmp_path / "b"), {"images": [None, 4, 4, 1]}))
    assert runner.kind == IMAGE_TO_IMAGE and runner.input_shape == [4, 4, 1]


def test_undecided_input_names_without_a_sidecar_are_an_error(tmp_path):
    path = write_tflite(str(tmp_path), {"latents": [None, 3], "images": [None, 3]})
    with pytest.raises(MissingResourceError, match=f"no {SIDECAR_FILE} next to it.*do not say its kind"):
        TFLiteGenerator(path)


def test_an_unknown_sidecar_kind_is_an_error(tmp_path):
    path = write_tflite(str(tmp_path), {"latents": [None, 3]}, kind="video")
    with pytest.raises(MissingResourceError, match=r"generator.json states kind='video'; expected one of latent"):
        TFLiteGenerator(path)


def test_a_sidecar_kind_the_inputs_do_not_fit_is_an_error(tmp_path):
    path = write_tflite(str(tmp_path), {"latents": [None, 3]}, kind="text")
    with pytest.raises(MissingResourceError, match="has no 'tokens' input for its kind 'text'"):
        TFLiteGenerator(path)
