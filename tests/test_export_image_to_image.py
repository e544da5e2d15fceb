"""`tfgan export` of image-to-image generators (pix2pix / SRGAN / CycleGAN style): SavedModel, PNG
signature, warm-up, TFLite and the local REST server."""

import io
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from PIL import Image
from tensorflow_serving.apis import prediction_log_pb2

from _export_fixtures import export_with_failing_int8
from tfgan_app.errors import UsageError
from tfgan_app.export import export_generator, export_run, read_warmup
from tfgan_app.artifacts.layout import read_metadata
from tfgan_app.artifacts.tflite_runner import TFLiteGenerator
from tfgan_app.export.kinds import TRANSLATOR_SIGNATURES
from tfgan_app.export.savedmodel import write_savedmodel
from tfgan_app.images import to_uint8
from tfgan_app.serving import LocalModelServer, RestClient


def tiny_translator(seed: int = 0) -> keras.Model:
    """8x8x1 -> Conv2D(same) -> LeakyReLU -> Conv2D(same, tanh) -> 8x8x1, like a minimal U-Net."""
    keras.utils.set_random_seed(seed)
    x = keras.Input((8, 8, 1), name="x")
    h = keras.layers.LeakyReLU(0.2)(keras.layers.Conv2D(4, 3, padding="same")(x))
    return keras.Model(x, keras.layers.Conv2D(1, 3, padding="same", activation="tanh")(h), name="tiny_translator")


def tiny_upscaler(seed: int = 0) -> keras.Model:
    """8x8x1 -> UpSampling2D -> Conv2D(same) -> tanh: 16x16x1, like an x2 SRGAN generator."""
    keras.utils.set_random_seed(seed)
    x = keras.Input((8, 8, 1), name="low_res")
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    h = keras.layers.UpSampling2D(2)(h)
    return keras.Model(x, keras.layers.Conv2D(1, 3, padding="same", activation="tanh")(h), name="tiny_upscaler")


INPUTS = np.random.default_rng(0).uniform(-1.0, 1.0, size=(3, 8, 8, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Both tiny models exported with every TFLite file under one base folder."""
    base = str(tmp_path_factory.mktemp("export"))
    models = {"translator": tiny_translator(), "upscaler": tiny_upscaler()}
    results = {name: export_generator(model, name, base) for name, model in models.items()}
    return {"base": base, "models": models, "results": results}


@pytest.mark.parametrize("name", ["translator", "upscaler"])
def test_savedmodel_matches_keras_and_records_metadata(exports, name):
    model, result = exports["models"][name], exports["results"][name]
    loaded = tf.saved_model.load(result.version_dir)
    assert set(loaded.signatures) == set(TRANSLATOR_SIGNATURES)
    images = loaded.signatures["serving_default"](images=tf.constant(INPUTS))["images"].numpy()
    np.testing.assert_allclose(images, np.asarray(model(INPUTS, training=False)), atol=1e-5)
    metadata = read_metadata(result.version_dir)
    out_shape = [8, 8, 1] if name == "translator" else [16, 16, 1]
    assert metadata["kind"] == "image_to_image" and metadata["input_shape"] == [8, 8, 1]
    assert metadata["image_shape"] == out_shape and metadata["signatures"] == list(TRANSLATOR_SIGNATURES)


@pytest.mark.parametrize("name", ["translator", "upscaler"])
def test_translate_png_round_trip(exports, name):
    model, result = exports["models"][name], exports["results"][name]
    pixels = to_uint8(INPUTS)  # the PNGs hold uint8 pixels, so feed Keras the same quantized inputs
    pngs = [tf.io.encode_png(p).numpy() for p in pixels]
    translate = tf.saved_model.load(result.version_dir).signatures["translate_png"]
    out = translate(png_bytes=tf.constant(pngs))["png_bytes"].numpy()
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(b))) for b in out])[..., None]
    expected = to_uint8(np.asarray(model(pixels.astype(np.float32) / 127.5 - 1.0, training=False)))
    np.testing.assert_array_equal(decoded, expected)
    wrong_size = tf.io.encode_png(np.zeros((4, 4, 1), np.uint8)).numpy()
    with pytest.raises(tf.errors.InvalidArgumentError, match="exactly 8x8"):
        translate(png_bytes=tf.constant([wrong_size]))


def test_warmup_has_one_parsable_request_per_signature(exports):
    version_dir = exports["results"]["upscaler"].version_dir
    path = os.path.join(version_dir, "assets.extra", "tf_serving_warmup_requests")
    records = [prediction_log_pb2.PredictionLog.FromString(r.numpy()) for r in tf.data.TFRecordDataset(path)]
    assert [r.predict_log.request.model_spec.signature_name for r in records] == list(TRANSLATOR_SIGNATURES)
    assert len(read_warmup(version_dir)) == 2
    loaded = tf.saved_model.load(version_dir)
    for log in records:
        request = log.predict_log.request
        feed = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        outputs = loaded.signatures[request.model_spec.signature_name](**feed)
        assert next(iter(outputs.values())).shape[0] == 2


@pytest.mark.parametrize("name", ["translator", "upscaler"])
def test_tflite_files_match_the_savedmodel(exports, name):
    model, result = exports["models"][name], exports["results"][name]
    sidecar = result.tflite
    assert sidecar["kind"] == "image_to_image" and not sidecar["skipped"]
    assert set(sidecar["files"]) == {"float32", "float16", "int8"}
    assert all(entry["parity"]["meets_threshold"] for entry in sidecar["files"].values())
    assert sidecar["files"]["int8"]["calibration"]["images"] == "uniform in [-1, 1]"
    tflite_dir = os.path.join(result.version_dir, "tflite")
    with open(os.path.join(tflite_dir, "generator.json")) as f:
        assert json.load(f)["input_shape"] == [8, 8, 1]
    expected = np.asarray(model(INPUTS, training=False))
    interpreter = Interpreter(model_path=os.path.join(tflite_dir, "generator_float32.tflite"))
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], list(INPUTS.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], INPUTS)
    interpreter.invoke()
    np.testing.assert_allclose(interpreter.get_tensor(out["index"]), expected, atol=1e-5)
    runner = TFLiteGenerator(os.path.join(tflite_dir, "generator_int8.tflite"))
    assert runner.kind == "image_to_image" and runner.latent_dim is None
    assert np.max(np.abs(runner(INPUTS) - expected)) < 0.35
    with pytest.raises(UsageError, match=r"images of shape \[N, 8, 8, 1\]"):
        runner(np.zeros((1, 4, 4, 1), np.float32))


def test_rest_predict_through_local_server(exports):
    server = LocalModelServer(exports["base"], rest_port=0, grpc_port=0).start()
    try:
        rest = RestClient(server.rest_url, 20.0)
        for name, model in exports["models"].items():
            images = rest.predict(name, {"images": INPUTS})["images"]
            np.testing.assert_allclose(images, np.asarray(model(INPUTS, training=False)), atol=1e-5)
        pixels = to_uint8(INPUTS)
        pngs = np.array([tf.io.encode_png(p).numpy() for p in pixels], dtype=object)
        out = rest.predict("upscaler", {"png_bytes": pngs}, signature="translate_png")["png_bytes"]
        assert np.asarray(Image.open(io.BytesIO(out[0]))).shape == (16, 16)
    finally:
        server.stop()


def test_run_dir_export_and_errors(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    tiny_upscaler().save(str(run_dir / "generator.keras"))
    # Like `tfgan train --model=srgan_*`: the config carries an unused latent_dim.
    (run_dir / "config.json").write_text(json.dumps({"name": "sr_tiny", "latent_dim": 100, "num_classes": None}))
    result = export_run(str(run_dir), base_dir=str(tmp_path / "export"), quantizations=())
    assert read_metadata(result.version_dir)["image_shape"] == [16, 16, 1] and result.tflite is None
    with pytest.raises(UsageError, match="takes no labels"):
        write_savedmodel(tiny_translator(), str(tmp_path / "sm"), num_classes=3)
    x = keras.Input((None, None, 1))
    with pytest.raises(UsageError, match="fixed H, W, C"):
        write_savedmodel(keras.Model(x, keras.layers.Conv2D(1, 3, padding="same")(x)), str(tmp_path / "sm2"))


def test_failed_quantization_is_skipped_not_fatal(tmp_path, monkeypatch):
    result = export_with_failing_int8(monkeypatch, tiny_translator(), str(tmp_path))
    assert set(result.tflite["files"]) == {"float32"} and "simulated" in result.tflite["skipped"]["int8"]
    assert sorted(os.listdir(os.path.join(result.version_dir, "tflite"))) == ["generator.json",
                                                                               "generator_float32.tflite"]
