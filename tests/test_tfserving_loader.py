"""Exports run in TensorFlow's C++ SavedModel loader, the one TF Serving uses (issue #19).

`tests/cpp/savedmodel_runner.cc` is compiled once per TensorFlow version (cached under
`~/.cache/tfgan_app/`): it calls `tensorflow::LoadSavedModel(..., {"serve"})`, replays the export's
warm-up records through the session as TF Serving does at load time, and runs PredictRequests on the
signatures' tensor names. Every signature of every export kind must give Python's outputs (uint8
pixels and PNG pixels identical, floats within 1e-5). Without g++ or the TensorFlow headers the
tests are skipped, except under CI=true, where they fail.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import (NUM_CLASSES, keras_images, text_vocabulary, tiny_conditional_generator,  # noqa: E402
                              tiny_generator, tiny_stackgan_generator, tiny_text_generator)

from tfgan_app.architectures.srgan import srgan_generator  # noqa: E402
from tfgan_app.architectures.unet import unet_generator  # noqa: E402
from tfgan_app.export import export_generator, export_run  # noqa: E402
from tfgan_app.export.compat import ServingCompatibilityError, check_session_load  # noqa: E402
from tfgan_app.artifacts.layout import METADATA_FILE, read_metadata  # noqa: E402
from tfgan_app.export.savedmodel import example_inputs, make_module  # noqa: E402
from tfgan_app.export.warmup import WARMUP_FILE  # noqa: E402
from tfgan_app.gans.cyclegan import CycleGAN  # noqa: E402

SOURCE = os.path.join(os.path.dirname(__file__), "cpp", "savedmodel_runner.cc")


def _unavailable(message: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: the C++ loader tests must run; `bash scripts/install.sh test` installs g++)")
    pytest.skip(message)


def _build_command(output: str) -> list:
    """g++ line for the runner: the wheel's headers, libtensorflow_cc/_framework, and the pywrap library plus
    libpython, which carry the DirectSession registration ("No session factory registered" without them)."""
    tf_lib = tf.sysconfig.get_lib()
    python_lib = sysconfig.get_config_var("LIBDIR")
    python_so = sysconfig.get_config_var("LDLIBRARY")  # e.g. libpython3.11.so
    return ["g++", "-O1", "-w", *tf.sysconfig.get_compile_flags(), SOURCE, "-o", output,
            "-Wl,--no-as-needed", f"-L{tf_lib}", "-l:libtensorflow_cc.so.2", "-l:libtensorflow_framework.so.2",
            os.path.join(tf_lib, "python", "lib_pywrap_tensorflow_common.so"),
            os.path.join(python_lib, python_so), f"-Wl,-rpath,{tf_lib}",
            f"-Wl,-rpath,{os.path.join(tf_lib, 'python')}", f"-Wl,-rpath,{python_lib}"]


@pytest.fixture(scope="session")
def runner() -> str:
    """Path of the compiled `savedmodel_runner`, cached per TensorFlow version and source/flags hash."""
    if shutil.which("g++") is None:
        _unavailable("g++ not found")
    header = os.path.join(tf.sysconfig.get_include(), "tensorflow", "cc", "saved_model", "loader.h")
    if not os.path.isfile(header):
        _unavailable(f"TensorFlow C++ headers not found ({header})")
    with open(SOURCE, "rb") as f:
        digest = hashlib.sha256(f.read() + " ".join(_build_command("")).encode()).hexdigest()[:12]
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tfgan_app",
                         f"savedmodel_runner-tf{tf.__version__}-{digest}")
    binary = os.path.join(cache, "savedmodel_runner")
    if not os.path.isfile(binary):
        os.makedirs(cache, exist_ok=True)
        partial = f"{binary}.{os.getpid()}.tmp"
        build = subprocess.run(_build_command(partial), capture_output=True, text=True, timeout=600)
        if build.returncode:
            pytest.fail(f"building the C++ loader failed:\n{build.stderr[-3000:]}")
        os.replace(partial, binary)  # atomic: parallel sessions never run a half-written binary
    return binary


def run_cpp(runner: str, version_dir: str, requests: dict, work_dir: str, warmup: bool = True):
    """Runs `{signature: inputs}` through the C++ loader (after the warm-up replay when `warmup`).

    Returns `(returncode, stdout, stderr, {signature: {alias: numpy}})`.
    """
    args = [runner, version_dir] + (["--warmup"] if warmup else [])
    for signature, inputs in requests.items():
        request = predict_pb2.PredictRequest()
        request.model_spec.signature_name = signature
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        path, out_dir = os.path.join(work_dir, f"{signature}.pb"), os.path.join(work_dir, signature)
        os.makedirs(out_dir, exist_ok=True)
        with open(path, "wb") as f:
            f.write(request.SerializeToString())
        args += [path, out_dir]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    outputs = {}
    if done.returncode == 0:
        for signature in requests:
            out_dir = os.path.join(work_dir, signature)
            outputs[signature] = {}
            for name in os.listdir(out_dir):
                with open(os.path.join(out_dir, name), "rb") as f:
                    proto = tf.make_tensor_proto(0)
                    proto.ParseFromString(f.read())
                outputs[signature][name[:-len(".pb")]] = tf.make_ndarray(proto)
    return done.returncode, done.stdout, done.stderr, outputs


def _images(shape, seed):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape).astype(np.float32)


def _request_inputs(signature: str, metadata: dict) -> dict:
    """Valid inputs other than the warm-up's: 3 images, seed 5, random pictures for image-to-image models,
    captions with upper case, punctuation, an unknown word and an empty caption for text models."""
    inputs = example_inputs(signature, metadata, num_images=3, seed=5)
    if "captions" in inputs:  # case, punctuation and an unknown word go through the in-graph vocabulary table
        inputs["captions"] = np.array(["A Handwritten SEVEN!", "the digit zebra one", ""], dtype=object)
    if metadata["kind"] == "image_to_image":
        images = _images([3, *metadata["input_shape"]], 5)
        if signature == "serving_default":
            inputs = {"images": images}
        else:
            pixels = np.round((images + 1.0) * 127.5).astype(np.uint8)
            inputs = {"png_bytes": np.array([tf.io.encode_png(p).numpy() for p in pixels], dtype=object)}
    return inputs


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """One tiny export of every kind: latent (BatchNorm), conditional, text (one stage, and StackGAN's two nested
    stages), pix2pix U-Net, SRGAN, CycleGAN A->B and B->A (exported from a run directory, as `tfgan export
    --direction` does). Values: (generator, version_dir)."""
    root = tmp_path_factory.mktemp("tfserving_loader")
    base = str(root / "export")
    keras.utils.set_random_seed(0)
    models = {
        "latent": (tiny_generator(), {}),
        "conditional": (tiny_conditional_generator(), {"num_classes": NUM_CLASSES}),
        "text": (tiny_text_generator(), {"vocabulary": text_vocabulary()}),
        "stackgan": (tiny_stackgan_generator(), {"vocabulary": text_vocabulary()}),  # two stages, nested models
        "pix2pix": (unet_generator((8, 8, 1), base_filters=4, max_filters=8, depth=2), {}),
        "srgan": (srgan_generator((4, 4, 1), scale=2, filters=4, num_blocks=1), {}),
    }
    result = {name: (model, export_generator(model, name, base, quantizations=(), **kwargs).version_dir)
              for name, (model, kwargs) in models.items()}
    cyclegan = CycleGAN.from_shapes((8, 8, 3), (8, 8, 1), base_filters=4, num_layers=1, depth=2,
                                   identity_weight=0.0)
    run_dir = root / "cyclegan_run"
    os.makedirs(run_dir)
    cyclegan.generator.save(run_dir / "generator.keras")
    cyclegan.generator_b_to_a.save(run_dir / "generator_b_to_a.keras")
    with open(run_dir / "config.json", "w") as f:
        json.dump({"name": "cyclegan", "latent_dim": None, "num_classes": None, "image_shape": [8, 8, 1]}, f)
    for direction, model in (("a_to_b", cyclegan.generator), ("b_to_a", cyclegan.generator_b_to_a)):
        version_dir = export_run(str(run_dir), base_dir=base, quantizations=(), direction=direction).version_dir
        result[f"cyclegan_{direction}"] = (model, version_dir)
    return result


def _keras_reference(generator, signature_inputs: dict) -> np.ndarray:
    """The Keras generator's float images for the `serving_default` inputs."""
    if "images" in signature_inputs:
        return np.asarray(generator(signature_inputs["images"], training=False))
    if "tokens" in signature_inputs:
        return np.asarray(generator([signature_inputs["latents"], signature_inputs["tokens"]], training=False))
    return keras_images(generator, signature_inputs["latents"], signature_inputs.get("labels"))


def _assert_same(cpp: np.ndarray, python: np.ndarray, where: str):
    assert cpp.dtype == python.dtype and cpp.shape == python.shape, (where, cpp.dtype, cpp.shape, python.shape)
    if cpp.dtype == object:  # PNG bytes: the decoded pixels must be identical
        for a, b in zip(cpp, python):
            np.testing.assert_array_equal(tf.io.decode_png(a).numpy(), tf.io.decode_png(b).numpy(), err_msg=where)
    elif cpp.dtype == np.uint8:
        np.testing.assert_array_equal(cpp, python, err_msg=where)
    else:
        np.testing.assert_allclose(cpp, python, atol=1e-5, rtol=0, err_msg=where)


@pytest.mark.parametrize("name", ["latent", "conditional", "text", "stackgan", "pix2pix", "srgan",
                                  "cyclegan_a_to_b", "cyclegan_b_to_a"])
def test_every_signature_runs_in_the_cpp_loader_like_python(runner, exports, name, tmp_path):
    generator, version_dir = exports[name]
    metadata = read_metadata(version_dir)
    requests = {signature: _request_inputs(signature, metadata) for signature in metadata["signatures"]}
    code, stdout, stderr, outputs = run_cpp(runner, version_dir, requests, str(tmp_path))
    assert code == 0, stderr[-2000:]
    assert f"warmup records: {len(metadata['signatures'])}" in stdout  # TF Serving replays one per signature
    loaded = tf.saved_model.load(version_dir)
    for signature, inputs in requests.items():
        python = loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
        assert set(outputs[signature]) == set(python), signature
        for alias, value in python.items():
            _assert_same(outputs[signature][alias], value.numpy(), f"{name} {signature} {alias}")
    np.testing.assert_allclose(outputs["serving_default"]["images"],
                               _keras_reference(generator, requests["serving_default"]), atol=1e-5, rtol=0)
    # The Python session-semantics check (for `tfgan serve`) accepts what the C++ loader runs.
    assert set(check_session_load(version_dir)) == set(metadata["signatures"])


def test_a_failing_warmup_record_fails_the_load(runner, exports, tmp_path):
    """TF Serving does not serve a version whose warm-up fails: a label out of range must fail the load."""
    version_dir = str(tmp_path / "1")
    shutil.copytree(exports["conditional"][1], version_dir)
    inputs = example_inputs("serving_default", read_metadata(version_dir))
    inputs["labels"] = np.full_like(inputs["labels"], NUM_CLASSES)
    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = "serving_default"
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    with tf.io.TFRecordWriter(os.path.join(version_dir, WARMUP_FILE)) as writer:
        writer.write(prediction_log_pb2.PredictionLog(
            predict_log=prediction_log_pb2.PredictLog(request=request)).SerializeToString())
    code, _, stderr, _ = run_cpp(runner, version_dir, {}, str(tmp_path))
    assert code == 1 and f"labels must be < num_classes={NUM_CLASSES}" in stderr
    code, stdout, _, _ = run_cpp(runner, exports["conditional"][1], {}, str(tmp_path))
    signatures = read_metadata(exports["conditional"][1])["signatures"]  # one warm-up record per signature
    assert code == 0 and f"warmup records: {len(signatures)}" in stdout


def test_tf_module_savedmodel_fails_in_the_cpp_loader_and_in_check_session_load(runner, tmp_path):
    """The control of issue #19: `tf.saved_model.save(tf.Module holding the Keras model)`, the export before the
    fix, loads in Python but neither in the C++ loader nor in `check_session_load` (same error)."""
    version_dir = str(tmp_path / "1")
    generator = tiny_generator()
    module = make_module(generator)
    tf.saved_model.save(module, version_dir, signatures=module.signatures())
    os.makedirs(os.path.join(version_dir, "assets.extra"))
    with open(os.path.join(version_dir, METADATA_FILE), "w") as f:
        json.dump(module.metadata(), f)
    inputs = example_inputs("serving_default", module.metadata())
    python = tf.saved_model.load(version_dir).signatures["serving_default"](latents=tf.constant(inputs["latents"]))
    np.testing.assert_allclose(python["images"].numpy(), keras_images(generator, inputs["latents"]), atol=1e-5)
    code, _, stderr, _ = run_cpp(runner, version_dir, {"serving_default": inputs}, str(tmp_path), warmup=False)
    assert code == 1 and "Could not find variable" in stderr
    with pytest.raises(ServingCompatibilityError, match="Could not find variable"):
        check_session_load(version_dir)
