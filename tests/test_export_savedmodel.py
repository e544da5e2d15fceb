"""SavedModel export: signatures match the Keras generator, TF Serving layout, warm-up and models.config."""

import io
import os
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow.python.saved_model import loader_impl
from tensorflow.python.tools import saved_model_cli
from tensorflow_serving.apis import prediction_log_pb2
from tensorflow_serving.config import model_server_config_pb2

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import (LATENT_DIM, NUM_CLASSES, keras_images, tiny_conditional_generator,  # noqa: E402
                              tiny_generator, write_run_dir)

from tfgan_app.errors import MissingResourceError, UsageError  # noqa: E402
from tfgan_app.export import export_generator, export_run, read_models_config, read_warmup  # noqa: E402
from tfgan_app.images import to_uint8  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Both tiny generators exported (SavedModel only) into one base folder."""
    base = str(tmp_path_factory.mktemp("export"))
    generator, conditional = tiny_generator(), tiny_conditional_generator()
    plain = export_generator(generator, "plain", base, quantizations=())
    cond = export_generator(conditional, "cond", base, num_classes=NUM_CLASSES, quantizations=())
    return {"base": base, "plain": (generator, plain), "cond": (conditional, cond)}


def test_serving_default_matches_keras(exported):
    generator, result = exported["plain"]
    latents = np.random.default_rng(0).normal(size=(5, LATENT_DIM)).astype(np.float32)
    images = tf.saved_model.load(result.version_dir).signatures["serving_default"](latents=latents)["images"]
    np.testing.assert_allclose(images.numpy(), keras_images(generator, latents), atol=1e-6)
    assert images.dtype == tf.float32 and np.all(np.abs(images.numpy()) <= 1.0)


def test_conditional_serving_default_matches_keras_and_checks_labels(exported):
    generator, result = exported["cond"]
    latents = np.random.default_rng(1).normal(size=(4, LATENT_DIM)).astype(np.float32)
    labels = np.array([0, 1, 2, 1], np.int32)
    serving = tf.saved_model.load(result.version_dir).signatures["serving_default"]
    np.testing.assert_allclose(serving(latents=latents, labels=labels)["images"].numpy(),
                               keras_images(generator, latents, labels), atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes"):
        serving(latents=latents, labels=np.array([0, 1, 2, 3], np.int32))


def test_generate_signatures_are_seeded_uint8_and_png(exported):
    generator, result = exported["plain"]
    loaded = tf.saved_model.load(result.version_dir)
    seed, n = np.int64(7), np.int32(3)
    expected = to_uint8(keras_images(generator, sample_latents(3, LATENT_DIM, 7).numpy()))
    images = loaded.signatures["generate"](seed=seed, num_images=n)["images"].numpy()
    assert images.dtype == np.uint8
    np.testing.assert_array_equal(images, expected)
    np.testing.assert_array_equal(loaded.signatures["generate"](seed=seed, num_images=n)["images"].numpy(), images)
    assert not np.array_equal(loaded.signatures["generate"](seed=np.int64(8), num_images=n)["images"].numpy(), images)
    pngs = loaded.signatures["generate_png"](seed=seed, num_images=n)["png_bytes"].numpy()
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(png))) for png in pngs])
    np.testing.assert_array_equal(decoded, expected[..., 0])


def test_conditional_generate_uses_labels(exported):
    generator, result = exported["cond"]
    generate = tf.saved_model.load(result.version_dir).signatures["generate"]
    labels = np.array([2, 0], np.int32)
    expected = to_uint8(keras_images(generator, sample_latents(2, LATENT_DIM, 3).numpy(), labels))
    np.testing.assert_array_equal(generate(seed=np.int64(3), num_images=np.int32(2), labels=labels)["images"], expected)


def test_signature_defs_as_saved_model_cli_shows_them(exported):
    _, result = exported["cond"]
    signatures = loader_impl.parse_saved_model(result.version_dir).meta_graphs[0].signature_def

    def info(sig, key, outputs=False):
        tensor = (signatures[sig].outputs if outputs else signatures[sig].inputs)[key]
        return tf.dtypes.as_dtype(tensor.dtype).name, [d.size for d in tensor.tensor_shape.dim]

    assert info("serving_default", "latents") == ("float32", [-1, LATENT_DIM])
    assert info("serving_default", "labels") == ("int32", [-1])
    assert info("serving_default", "images", True) == ("float32", [-1, 8, 8, 1])
    assert info("generate", "seed") == ("int64", []) and info("generate", "num_images") == ("int32", [])
    assert info("generate", "images", True) == ("uint8", [-1, 8, 8, 1])
    assert info("generate_png", "png_bytes", True) == ("string", [-1])


def test_saved_model_cli_show_all(exported, capsys):
    _, result = exported["plain"]
    saved_model_cli._show_all(result.version_dir)  # pylint: disable=protected-access  # what `show --all` runs
    out = capsys.readouterr().out
    for expected in ("signature_def['serving_default']", "signature_def['generate']",
                     "signature_def['generate_png']", "dtype: DT_UINT8", "dtype: DT_STRING"):
        assert expected in out


def test_warmup_records_are_real_prediction_logs(exported):
    _, result = exported["cond"]
    raw = [r.numpy() for r in tf.data.TFRecordDataset(
        os.path.join(result.version_dir, "assets.extra", "tf_serving_warmup_requests"))]
    logs = [prediction_log_pb2.PredictionLog.FromString(r) for r in raw]
    assert [log.predict_log.request.model_spec.signature_name for log in logs] == [
        "serving_default", "generate", "generate_png", "generate_truncated", "generate_truncated_png", "class_ids"]
    assert all(log.predict_log.request.model_spec.name == "cond" for log in logs)
    loaded = tf.saved_model.load(result.version_dir)
    for log in read_warmup(result.version_dir):  # each replays against the model
        request = log.predict_log.request
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        assert set(inputs) == set(loaded.signatures[request.model_spec.signature_name].structured_input_signature[1])
        loaded.signatures[request.model_spec.signature_name](**inputs)


def test_models_config_lists_every_model(exported):
    config = read_models_config(os.path.join(exported["base"], "models.config"))
    assert isinstance(config, model_server_config_pb2.ModelServerConfig)
    entries = {c.name: c for c in config.model_config_list.config}
    assert sorted(entries) == ["cond", "plain"]
    assert entries["plain"].base_path == os.path.join(os.path.abspath(exported["base"]), "plain")
    assert entries["plain"].model_platform == "tensorflow"
    assert entries["plain"].model_version_policy.HasField("all")
    docker = read_models_config(os.path.join(exported["base"], "models.docker.config"))
    assert [c.base_path for c in docker.model_config_list.config] == ["/models/cond", "/models/plain"]


def test_versions_increment_and_are_never_overwritten(tmp_path):
    generator = tiny_generator()
    first = export_generator(generator, "m", str(tmp_path), quantizations=())
    second = export_generator(tiny_generator(seed=1), "m", str(tmp_path), quantizations=())
    assert (first.version, second.version) == (1, 2)
    mtime = os.path.getmtime(os.path.join(first.version_dir, "saved_model.pb"))
    with pytest.raises(UsageError, match="never overwritten"):
        export_generator(generator, "m", str(tmp_path), version=2, quantizations=())
    assert os.path.getmtime(os.path.join(first.version_dir, "saved_model.pb")) == mtime
    assert export_generator(generator, "m", str(tmp_path), version=5, quantizations=()).version == 5
    assert sorted(os.listdir(tmp_path / "m")) == ["1", "2", "5"]  # no staging folders left behind
    with pytest.raises(UsageError):
        export_generator(generator, "m", str(tmp_path), version="zero", quantizations=())
    with pytest.raises(UsageError):
        export_generator(generator, "bad/name", str(tmp_path), quantizations=())


def test_export_run_reads_the_run_directory(tmp_path):
    run_dir = write_run_dir(str(tmp_path / "run"), conditional=True, name="cgan_tiny")
    result = export_run(run_dir, base_dir=str(tmp_path / "export"), quantizations=())
    assert result.version_dir == os.path.join(str(tmp_path / "export"), "cgan_tiny", "1")
    serving = tf.saved_model.load(result.version_dir).signatures["serving_default"]
    assert "labels" in serving.structured_input_signature[1]
    with pytest.raises(MissingResourceError, match="config.json"):
        export_run(str(tmp_path / "missing"), base_dir=str(tmp_path / "export"))
    os.remove(os.path.join(run_dir, "generator.keras"))
    with pytest.raises(MissingResourceError, match="generator.keras"):
        export_run(run_dir, base_dir=str(tmp_path / "export"))


def test_inconsistent_config_is_rejected(tmp_path):
    run_dir = write_run_dir(str(tmp_path / "run"))
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        f.write('{"name": "x", "latent_dim": 99, "num_classes": null}')
    with pytest.raises(UsageError, match="latent_dim=99"):
        export_run(run_dir, base_dir=str(tmp_path / "export"))
