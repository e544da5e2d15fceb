"""Versions in the TF Serving layout written with `keras.export.ExportArchive`, for the serving tests.

TensorFlow's C++ `LoadSavedModel` (TF Serving) and the TF1 session loader the
local server uses run these (issue #19: `tf.saved_model.save` of a module that
wraps a Keras model does not yet). Each version has the latent signatures the
exporter writes (`serving_default`: latents -> float images; `generate`: seed,
num_images -> uint8 images) and a TF Serving warm-up file replaying both.
"""

import os
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from _export_fixtures import LATENT_DIM, tiny_generator
from tfgan_app.export.warmup import WARMUP_FILE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_version(base: str, name: str, version: int, seed: int = 0) -> keras.Model:
    """Writes `<base>/<name>/<version>/` (a tiny generator with weights from `seed`); returns the generator."""
    generator = tiny_generator(seed=seed)
    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint("serving_default", lambda latents: {"images": generator(latents, training=False)},
                         input_signature=[tf.TensorSpec([None, LATENT_DIM], tf.float32, name="latents")])

    def generate(seed, num_images):
        latents = tf.random.stateless_normal(tf.stack([num_images, LATENT_DIM]), tf.stack([seed, seed * 0]))
        images = generator(latents, training=False)
        return {"images": tf.cast(tf.round((images + 1.0) * 127.5), tf.uint8)}
    archive.add_endpoint("generate", generate, input_signature=[
        tf.TensorSpec([], tf.int64, name="seed"), tf.TensorSpec([], tf.int32, name="num_images")])
    path = os.path.join(base, name, str(version))
    archive.write_out(path, verbose=False)
    os.makedirs(os.path.join(path, "assets.extra"), exist_ok=True)
    with tf.io.TFRecordWriter(os.path.join(path, WARMUP_FILE)) as writer:
        for signature, inputs in (("serving_default", {"latents": np.zeros([2, LATENT_DIM], np.float32)}),
                                  ("generate", {"seed": np.int64(0), "num_images": np.int32(2)})):
            request = predict_pb2.PredictRequest()
            request.model_spec.name, request.model_spec.signature_name = name, signature
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return generator


def images(generator: keras.Model, latents: np.ndarray) -> np.ndarray:
    """The generator's float images for `latents`."""
    return np.asarray(generator(latents, training=False))


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(base: str, *flags: str, rest_port: int = None, grpc_port: int = None):
    """Starts `tfgan serve --base=base` as a subprocess on loopback; returns (process, rest_port, grpc_port)."""
    rest_port, grpc_port = rest_port or free_port(), grpc_port or free_port()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen(
        [sys.executable, "-m", "tfgan_app.cli.main", "serve", f"--base={base}", f"--rest_port={rest_port}",
         f"--grpc_port={grpc_port}", *flags], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    return process, rest_port, grpc_port


def wait_until(condition, timeout: float = 90.0, process=None, interval: float = 0.2):
    """Polls `condition()` until it returns a truthy value (returned) or `timeout` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"tfgan serve exited with {process.returncode}: {process.communicate()[0][-3000:]}")
        try:
            value = condition()
            if value:
                return value
        except Exception as e:  # pylint: disable=broad-except  # e.g. server not up yet
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last error: {last_error!r})")


def stop(process) -> str:
    """Terminates a `start_serve` process; returns its output."""
    process.terminate()
    try:
        return process.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate(timeout=10)[0]
