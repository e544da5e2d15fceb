"""One interface over every kind of generator artifact, for `tfgan generate` and the benchmark.

`open_source(spec)` accepts:

* a `.keras` generator file, or a training run directory holding `generator.keras`;
* a SavedModel version directory (`export/<name>/<version>`), or a model directory
  (`export/<name>`, highest version wins);
* a `.tflite` file (run with LiteRT; the sidecar JSON gives the class count);
* `http://host:port/<name>[/versions/N]` (TF Serving REST) or
  `grpc://host:port/<name>[/versions/N]` (TF Serving gRPC).

Every source maps float32 latents `[N, latent_dim]` (+ int labels `[N]`) to float32
images `[N, H, W, C]` in [-1, 1], so `generate_images(source, n, seed)` gives the
same pictures (up to quantization) whichever artifact it reads.

Example:
>>> with open_source("export/dcgan_mnist") as source:
...     images = generate_images(source, 16, seed=0)
"""

import json
import os
import re
from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf

from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.export.run_dir import load_keras_generator
from tfgan_app.export.savedmodel import METADATA_FILE
from tfgan_app.export.serving_config import list_versions
from tfgan_app.export.tflite import TFLiteGenerator, read_sidecar
from tfgan_app.latent import interpolate, sample_latents
from tfgan_app.serving.client import DEFAULT_TIMEOUT, GrpcClient, RestClient

_REMOTE = re.compile(r"^(?P<scheme>https?|grpc)://(?P<host>[^/]+)/(?P<name>[^/]+)(?:/versions/(?P<version>\d+))?/?$")
REMOTE_BATCH = 64


class GeneratorSource:
    """Latents (+ labels) -> float images in [-1, 1], whatever the artifact.

    Attributes:
        kind: "keras", "savedmodel", "tflite", "rest" or "grpc".
        latent_dim: size of one latent vector.
        conditional: whether labels are required.
        num_classes: class count when known (None for unconditional or unknown).
    """

    def __init__(self, kind: str, run: Callable, latent_dim: int, conditional: bool,
                 num_classes: Optional[int] = None, close: Optional[Callable] = None, batch: int = 0):
        self.kind, self._run, self.latent_dim = kind, run, latent_dim
        self.conditional, self.num_classes = conditional, num_classes
        self._close, self._batch = close, batch

    def __call__(self, latents: np.ndarray, labels: Optional[np.ndarray] = None) -> np.ndarray:
        latents = np.asarray(latents, np.float32)
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise UsageError(f"Expected latents of shape [N, {self.latent_dim}], received {latents.shape}.")
        if self.conditional and labels is None:
            raise UsageError("This generator is conditional: pass one label per image (--labels=...).")
        if not self.conditional and labels is not None:
            raise UsageError("This generator is unconditional: do not pass labels.")
        labels = None if labels is None else np.asarray(labels, np.int32).reshape([-1])
        step = self._batch or max(len(latents), 1)
        chunks = [self._run(latents[i:i + step], None if labels is None else labels[i:i + step])
                  for i in range(0, len(latents), step)]
        return np.concatenate(chunks).astype(np.float32)

    def close(self) -> None:
        """Releases connections (remote sources)."""
        if self._close:
            self._close()

    def __enter__(self) -> "GeneratorSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _keras_source(path: str, num_classes: Optional[int]) -> GeneratorSource:
    generator = load_keras_generator(path)
    conditional = len(generator.inputs) == 2

    def run(latents, labels):
        return np.asarray(generator(latents if labels is None else [latents, labels], training=False))
    return GeneratorSource("keras", run, int(generator.inputs[0].shape[-1]), conditional,
                           num_classes if conditional else None)


def _savedmodel_source(path: str) -> GeneratorSource:
    serving = tf.saved_model.load(path).signatures.get("serving_default")
    if serving is None:
        raise MissingResourceError(f"SavedModel {path!r} has no serving_default signature; "
                                   "export it with `tfgan export`.")
    specs = serving.structured_input_signature[1]
    if "images" in specs:
        raise UsageError(f"SavedModel {path!r} is an image-to-image generator (input 'images'), which has no "
                         "latents to sample; call its serving_default / translate_png signatures with images.")
    if "latents" not in specs:
        raise MissingResourceError(f"SavedModel {path!r} takes {sorted(specs)}, not 'latents'; "
                                   "it was not written by `tfgan export`.")
    num_classes = None
    if os.path.isfile(os.path.join(path, METADATA_FILE)):
        with open(os.path.join(path, METADATA_FILE)) as f:
            num_classes = json.load(f).get("num_classes")

    def run(latents, labels):
        feed = {"latents": tf.constant(latents)}
        if labels is not None:
            feed["labels"] = tf.constant(labels)
        return serving(**feed)["images"].numpy()
    return GeneratorSource("savedmodel", run, int(specs["latents"].shape[-1]), "labels" in specs, num_classes)


def _tflite_source(path: str) -> GeneratorSource:
    runner = TFLiteGenerator(path)
    if runner.latent_dim is None:
        raise UsageError(f"{path!r} is an image-to-image generator, which has no latents to sample; "
                         "run it on images with tfgan_app.export.TFLiteGenerator.")
    sidecar = read_sidecar(path) or {}
    return GeneratorSource("tflite", runner, runner.latent_dim, runner.conditional, sidecar.get("num_classes"))


def _remote_source(match, timeout: float) -> GeneratorSource:
    name, version = match["name"], int(match["version"]) if match["version"] else None
    if match["scheme"] == "grpc":
        client = GrpcClient(match["host"], timeout)
        kind, close = "grpc", client.close
    else:
        client = RestClient(f"{match['scheme']}://{match['host']}", timeout)
        kind, close = "rest", None
    signatures = client.metadata(name, version)["metadata"]["signature_def"]["signature_def"]
    inputs = signatures.get("serving_default", {}).get("inputs", {})
    if "latents" not in inputs:
        raise MissingResourceError(f"Served model {name} has no serving_default signature with 'latents' "
                                   f"(inputs: {sorted(inputs)}); was it exported with `tfgan export`?")
    latent_dim = int(inputs["latents"]["tensor_shape"]["dim"][-1]["size"])

    def run(latents, labels):
        feed = {"latents": latents} if labels is None else {"latents": latents, "labels": labels}
        return client.predict(name, feed, version)["images"]
    return GeneratorSource(kind, run, latent_dim, "labels" in inputs, None, close, REMOTE_BATCH)


def _run_num_classes(run_dir: str) -> Optional[int]:
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f).get("num_classes")


def open_source(spec: str, num_classes: Optional[int] = None, timeout: float = DEFAULT_TIMEOUT) -> GeneratorSource:
    """Opens a generator artifact or served model (see module doc); `num_classes` overrides what it says."""
    match = _REMOTE.match(spec)
    if match:
        source = _remote_source(match, timeout)
    elif "://" in spec:
        raise UsageError(f"Expected http://host:port/<model>[/versions/N] or grpc://host:port/<model>[/versions/N], "
                         f"received {spec!r}.")
    elif spec.endswith(".tflite"):
        source = _tflite_source(spec)
    elif spec.endswith(".keras"):
        source = _keras_source(spec, num_classes)
    elif os.path.isfile(os.path.join(spec, "saved_model.pb")):
        source = _savedmodel_source(spec)
    elif os.path.isfile(os.path.join(spec, "generator.keras")):
        source = _keras_source(os.path.join(spec, "generator.keras"), num_classes or _run_num_classes(spec))
    elif list_versions(spec):
        source = _savedmodel_source(os.path.join(spec, str(list_versions(spec)[-1])))
    else:
        raise MissingResourceError(
            f"Could not find a generator at {spec!r}. Expected a .keras or .tflite file, a run directory with "
            "generator.keras, an exported SavedModel directory (export/<name>[/<version>]), or a served model "
            "URL http://host:port/<name> / grpc://host:port/<name>.")
    if num_classes:
        source.num_classes = num_classes
    return source


def resolve_labels(source: GeneratorSource, num_images: int, labels: Optional[Sequence[int]]) -> Optional[np.ndarray]:
    """Labels for `num_images` images, as `ConditionalGAN.generate` picks them: None if unconditional,
    `labels` cycled to `num_images` (one value is repeated), or 0, 1, ..., num_classes-1 repeated by default."""
    if not source.conditional:
        if labels:
            raise UsageError(f"--labels was given but the {source.kind} generator is unconditional; drop --labels.")
        return None
    if not labels:
        if not source.num_classes:
            raise UsageError(f"The {source.kind} generator is conditional and its class count is unknown; "
                             "pass --labels=0,1,... (one per image, or one for all).")
        return (np.arange(num_images) % source.num_classes).astype(np.int32)
    values = [int(v) for v in labels]
    if any(v < 0 or (source.num_classes and v >= source.num_classes) for v in values):
        raise UsageError(f"Labels must be in [0, {source.num_classes or 'num_classes'}), received {values}.")
    return np.resize(np.asarray(values, np.int32), num_images)


def generate_images(source: GeneratorSource, num_images: int, seed: int = 0,
                    labels: Optional[Sequence[int]] = None) -> np.ndarray:
    """`num_images` images for latents `sample_latents(num_images, latent_dim, seed)`: the same
    latents `GAN.generate` and the exported `generate` signature use."""
    if num_images < 1:
        raise UsageError(f"Expected a positive number of images, received {num_images}.")
    latents = sample_latents(num_images, source.latent_dim, seed).numpy()
    return source(latents, resolve_labels(source, num_images, labels))


def interpolate_images(source: GeneratorSource, steps: int, seed: int = 0,
                       labels: Optional[Sequence[int]] = None, method: str = "linear") -> np.ndarray:
    """A latent walk: `steps` images between the two latents `sample_latents(2, D, seed)`.

    `method` is "linear" (a straight line) or "slerp" (the great circle, which keeps latents at a typical
    norm for Gaussian z).

    A conditional walk keeps one class (the first of `labels`, default 0).
    """
    if steps < 2:
        raise UsageError(f"Expected at least 2 interpolation steps, received {steps}.")
    ends = sample_latents(2, source.latent_dim, seed).numpy()
    walk = interpolate(ends[0], ends[1], steps, method)
    walk_labels = None
    if source.conditional:
        walk_labels = resolve_labels(source, steps, [int(labels[0])] if labels else [0])
    return source(walk, walk_labels)
