"""TFLite export: float32/float16/int8 files run with LiteRT match the SavedModel within stated bounds."""

import json
import math
import os
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import (LATENT_DIM, NUM_CLASSES, keras_images, tiny_conditional_generator,  # noqa: E402
                              tiny_generator)

from tfgan_app.errors import MissingResourceError, UsageError  # noqa: E402
from tfgan_app.export import export_generator  # noqa: E402
from tfgan_app.artifacts.tflite_runner import TFLiteGenerator  # noqa: E402
from tfgan_app.export.tflite import PARITY_THRESHOLDS, check_quantizations, psnr  # noqa: E402
from tfgan_app.images import to_uint8  # noqa: E402


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("export"))
    generator, conditional = tiny_generator(), tiny_conditional_generator()
    return {"plain": (generator, export_generator(generator, "plain", base)),
            "cond": (conditional, export_generator(conditional, "cond", base, num_classes=NUM_CLASSES))}


def _tflite(result, quantization):
    return os.path.join(result.version_dir, "tflite", f"generator_{quantization}.tflite")


def _independent_psnr(a, b):
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return 20 * math.log10(2.0) - 10 * math.log10(mse)


def test_psnr_formula():
    reference = np.zeros([2, 4, 4, 1], np.float32)
    noisy = reference + 0.1  # MSE 0.01 on a peak-to-peak range of 2 -> 10 log10(4 / 0.01) = 26.02 dB
    assert psnr(reference, noisy) == pytest.approx(26.0206, abs=1e-3)
    assert psnr(reference, reference) == math.inf


@pytest.mark.parametrize("kind", ["plain", "cond"])
def test_files_match_the_savedmodel_within_bounds(exports, kind):
    generator, result = exports[kind]
    rng = np.random.default_rng(3)
    latents = rng.normal(size=(16, LATENT_DIM)).astype(np.float32)
    labels = rng.integers(0, NUM_CLASSES, size=16).astype(np.int32) if kind == "cond" else None
    feed = {"latents": latents, **({"labels": labels} if labels is not None else {})}
    reference = tf.saved_model.load(result.version_dir).signatures["serving_default"](**feed)["images"].numpy()
    np.testing.assert_allclose(reference, keras_images(generator, latents, labels), atol=1e-6)
    for quantization, limits in PARITY_THRESHOLDS.items():
        images = TFLiteGenerator(_tflite(result, quantization))(latents, labels)
        assert images.shape == reference.shape and images.dtype == np.float32
        max_abs = np.max(np.abs(images - reference))
        assert max_abs <= limits["max_abs_error"], quantization
        assert _independent_psnr(reference, images) >= limits["min_psnr_db"], quantization
    int8 = to_uint8(TFLiteGenerator(_tflite(result, "int8"))(latents, labels))
    # Visually equivalent: on average within one grey level of the SavedModel's uint8 pixels.
    assert np.mean(np.abs(int8.astype(int) - to_uint8(reference).astype(int))) <= 1.0


def test_float32_file_with_raw_litert_interpreter(exports):
    generator, result = exports["plain"]
    interpreter = Interpreter(model_path=_tflite(result, "float32"))
    latents = np.random.default_rng(4).normal(size=(1, LATENT_DIM)).astype(np.float32)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], latents)
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, keras_images(generator, latents), atol=1e-5)


def test_int8_file_is_fully_integer(exports):
    _, result = exports["cond"]
    interpreter = Interpreter(model_path=_tflite(result, "int8"))
    inputs = {d["name"]: d for d in interpreter.get_input_details()}
    assert inputs["latents"]["dtype"] == np.int8 and inputs["labels"]["dtype"] == np.int32
    assert interpreter.get_output_details()[0]["dtype"] == np.int8
    assert inputs["latents"]["quantization"][0] > 0
    float_ops = [t for t in interpreter.get_tensor_details()
                 if t["dtype"] == np.float32 and "latents" not in t["name"]]
    assert not float_ops, [t["name"] for t in float_ops]


def test_sidecar_describes_files_and_parity(exports):
    _, result = exports["cond"]
    with open(os.path.join(result.version_dir, "tflite", "generator.json")) as f:
        sidecar = json.load(f)
    assert sidecar["latent_dim"] == LATENT_DIM and sidecar["num_classes"] == NUM_CLASSES
    assert sidecar["output_range"] == [-1.0, 1.0] and sidecar["image_shape"] == [8, 8, 1]
    assert set(sidecar["files"]) == {"float32", "float16", "int8"}
    for quantization, entry in sidecar["files"].items():
        assert entry["size_bytes"] == os.path.getsize(_tflite(result, quantization))
        assert entry["parity"]["meets_threshold"] is True
    assert sidecar["files"]["int8"]["calibration"]["num_latents"] > 0
    assert sidecar["files"]["int8"]["tensor_quantization"]["latents"][0] > 0
    assert result.tflite == sidecar


def test_runner_handles_any_batch_and_checks_inputs(exports):
    _, result = exports["cond"]
    runner = TFLiteGenerator(_tflite(result, "int8"))
    for n in (1, 5, 2):
        assert runner(np.zeros([n, LATENT_DIM], np.float32), np.zeros([n], np.int32)).shape == (n, 8, 8, 1)
    with pytest.raises(UsageError, match="conditional"):
        runner(np.zeros([2, LATENT_DIM], np.float32))
    with pytest.raises(UsageError, match="shape"):
        runner(np.zeros([2, 3], np.float32), np.zeros([2], np.int32))
    with pytest.raises(MissingResourceError):
        TFLiteGenerator(os.path.join(result.version_dir, "missing.tflite"))


def test_only_requested_quantizations(tmp_path):
    result = export_generator(tiny_generator(), "m", str(tmp_path), quantizations=["int8"])
    assert sorted(os.listdir(os.path.join(result.version_dir, "tflite"))) == ["generator.json", "generator_int8.tflite"]
    with pytest.raises(UsageError, match="int4"):
        check_quantizations(["int4"])


def test_unsupported_op_is_a_clear_error_and_leaves_nothing(tmp_path):
    z = keras.Input((LATENT_DIM,))
    h = keras.layers.Reshape((8, 8, 1))(keras.layers.Dense(64)(z))
    erf_generator = keras.Model(z, keras.layers.Activation(lambda x: keras.ops.tanh(keras.ops.erf(x)))(h))
    with pytest.raises(UsageError, match="Erf.*--tflite="):
        export_generator(erf_generator, "erf", str(tmp_path), quantizations=["float32"])
    assert os.listdir(tmp_path) == []
    assert export_generator(erf_generator, "erf", str(tmp_path), quantizations=()).version == 1
