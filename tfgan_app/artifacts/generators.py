"""`open_generator(spec)`: one loader for every form a trained generator takes, used by `tfgan generate`,
`tfgan evaluate` and the benchmark.

`open_generator(spec)` accepts:

* a `.keras` generator file, or a training run directory holding `generator.keras`;
* a SavedModel version directory (`export/<name>/<version>`), or a model directory
  (`export/<name>`, highest version wins);
* a `.tflite` file (run with LiteRT; the sidecar JSON gives the class count);
* `http://host:port/<name>[/versions/N]` (TF Serving REST) or
  `grpc://host:port/<name>[/versions/N]` (TF Serving gRPC).

It returns a `Generator` with the generator's `kind` (`tfgan_app.artifacts.kind.Kind`, read from the
export's description or detected once from the Keras model), `form` (which artifact it read) and
`describe()`. Latent and text generators are called with latents (`generate_images`); image-to-image
generators translate images with `translate(images)` (float `[N, H, W, C]` in [-1, 1] of `input_shape`).

Every latent source maps float32 latents `[N, latent_dim]` (+ int labels `[N]`) to float32
images `[N, H, W, C]` in [-1, 1], so `generate_images(source, n, seed)` gives the
same pictures (up to quantization) whichever artifact it reads.

Text-conditioned generators (`source.captioned`) take one caption string per
latent instead of labels. Each source turns captions into the training token ids:
`.keras` (through its run directory's config.json vocabulary) and `.tflite`
(through the sidecar's vocabulary) with `tfgan_app.data.captions.make_vectorizer`,
SavedModels and served models in the graph (their `from_captions` signature).
A bare `.keras` text generator carries no vocabulary: pass its run directory.

Example:
>>> with open_generator("export/dcgan_mnist") as source:
...     images = generate_images(source, 16, seed=0)
"""

import json
import os
import re
from typing import Callable, Dict, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.artifacts.kind import (IMAGE_TO_IMAGE, LATENT, TEXT, embedding_classes, is_conditional, model_kind,
                                      read_kind, text_spec, translator_spec)
from tfgan_app.artifacts.layout import METADATA_FILE, list_versions, read_metadata, read_sidecar, served_num_classes
from tfgan_app.artifacts.remote import DEFAULT_TIMEOUT, GrpcClient, RestClient
from tfgan_app.artifacts.savedmodel_loader import SessionSavedModel, load_savedmodel
from tfgan_app.artifacts.run_dir import load_keras_generator, run_generator_path, run_vocabulary
from tfgan_app.artifacts.tflite_runner import TFLiteGenerator
from tfgan_app.data.captions import make_vectorizer
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.latent import interpolate, sample_latents

_REMOTE = re.compile(r"^(?P<scheme>https?|grpc)://(?P<host>[^/]+)/(?P<name>[^/]+)(?:/versions/(?P<version>\d+))?/?$")
REMOTE_BATCH = 64


class Generator:
    """Latents (+ labels, or + captions) -> float images in [-1, 1], or images -> images, whatever the artifact.

    Attributes:
        form: the artifact read: "keras", "savedmodel", "tflite", "rest" or "grpc".
        kind: `Kind.LATENT` (conditional when `conditional`), `Kind.TEXT` or `Kind.IMAGE_TO_IMAGE`.
        latent_dim: size of one latent vector (None for image-to-image generators).
        conditional: whether labels are required.
        num_classes: class count when known (None for unconditional or unknown).
        captioned: whether one caption string per image is required (text-conditioned generators).
        input_shape: `[H, W, C]` of the images an image-to-image generator takes (None otherwise).
        config: the training run's config.json when opened from a run directory (None otherwise).
    """

    def __init__(self, form: str, run: Callable, latent_dim: Optional[int], conditional: bool,
                 num_classes: Optional[int] = None, close: Optional[Callable] = None, batch: int = 0,
                 captioned: bool = False, input_shape: Optional[Sequence[int]] = None):
        self.form, self._run, self.latent_dim = form, run, latent_dim
        self.conditional, self.num_classes, self.captioned = conditional, num_classes, captioned
        self.input_shape = None if input_shape is None else [int(d) for d in input_shape]
        self.kind = IMAGE_TO_IMAGE if input_shape is not None else TEXT if captioned else LATENT
        self._close, self._batch = close, batch
        self.config: Optional[Dict] = None

    def describe(self) -> Dict:
        """What the generator takes: `form`, `kind`, and `latent_dim` / `num_classes` or `input_shape`."""
        if self.kind == IMAGE_TO_IMAGE:
            return {"form": self.form, "kind": str(self.kind), "input_shape": self.input_shape}
        return {"form": self.form, "kind": str(self.kind), "latent_dim": self.latent_dim,
                "conditional": self.conditional, "num_classes": self.num_classes}

    def translate(self, images: np.ndarray) -> np.ndarray:
        """Image-to-image generators: float images `[N, H, W, C]` in [-1, 1] -> translated images in [-1, 1].

        Raises `UsageError` for a latent or text generator, or images not of `input_shape`.
        """
        if self.kind != IMAGE_TO_IMAGE:
            raise UsageError(f"This {self.form} generator is a {self.kind} generator: it samples images from "
                             "latents (--num_images), it does not translate --inputs.")
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or list(images.shape[1:]) != self.input_shape:
            raise UsageError(f"Expected images of shape [N, {', '.join(map(str, self.input_shape))}], "
                             f"received {images.shape}.")
        step = self._batch or max(len(images), 1)
        return np.concatenate([self._run(images[i:i + step], None)
                               for i in range(0, len(images), step)]).astype(np.float32)

    def __call__(self, latents: np.ndarray, labels: Optional[np.ndarray] = None,
                 captions: Optional[Sequence[str]] = None) -> np.ndarray:
        if self.kind == IMAGE_TO_IMAGE:
            raise UsageError(f"This {self.form} generator is an image-to-image generator (input images of shape "
                             f"{tuple(self.input_shape)}, e.g. pix2pix, SRGAN or CycleGAN), which has no latents to "
                             "sample images from; translate images with `tfgan generate --inputs=...` "
                             "(Generator.translate).")
        latents = np.asarray(latents, np.float32)
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise UsageError(f"Expected latents of shape [N, {self.latent_dim}], received {latents.shape}.")
        condition = self._condition(len(latents), labels, captions)
        step = self._batch or max(len(latents), 1)
        chunks = [self._run(latents[i:i + step], None if condition is None else condition[i:i + step])
                  for i in range(0, len(latents), step)]
        return np.concatenate(chunks).astype(np.float32)

    def _condition(self, num: int, labels, captions) -> Optional[np.ndarray]:
        """The int32 labels or the caption strings the generator takes with `num` latents (None if neither)."""
        if self.captioned and captions is None:
            raise UsageError("This generator is text-conditioned: pass one caption per image (--captions=...).")
        if not self.captioned and captions is not None:
            raise UsageError("This generator is not text-conditioned: do not pass captions.")
        if self.conditional and labels is None:
            raise UsageError("This generator is conditional: pass one label per image (--labels=...).")
        if not self.conditional and labels is not None:
            raise UsageError("This generator takes captions, not labels." if self.captioned
                             else "This generator is unconditional: do not pass labels.")
        if captions is None:
            return None if labels is None else np.asarray(labels, np.int32).reshape([-1])
        captions = np.asarray(captions, dtype=object).reshape([-1])
        if len(captions) != num:
            raise UsageError(f"Expected one caption per latent ({num}), received {len(captions)} captions.")
        return captions

    def close(self) -> None:
        """Releases connections (remote sources)."""
        if self._close:
            self._close()

    def __enter__(self) -> "Generator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _caption_tokens(vocabulary: Sequence[str], sequence_length: int) -> Callable[[np.ndarray], np.ndarray]:
    """Caption strings -> int32 token ids `[N, sequence_length]`, as in training (`make_vectorizer`)."""
    vectorizer = make_vectorizer(vocabulary, sequence_length)
    return lambda captions: np.asarray(vectorizer(tf.constant(captions, tf.string)), np.int32)


def _keras_text_source(generator: keras.Model, path: str, config: Optional[Dict]) -> Generator:
    if config is None:
        raise UsageError(f"{path!r} is a text-conditioned generator and its caption vocabulary is in the run's "
                         "config.json: pass the run directory (--model=RUN_DIR) instead of the .keras file.")
    spec = text_spec(generator)
    length = spec["sequence_length"]
    tokens = _caption_tokens(run_vocabulary(config, os.path.join(os.path.dirname(path), "config.json"), length),
                             length)

    def run(latents, captions):
        return np.asarray(generator([latents, tokens(captions)], training=False))
    return Generator("keras", run, spec["latent_dim"], False, captioned=True)


def _keras_source(path: str, num_classes: Optional[int], config: Optional[Dict] = None) -> Generator:
    """A `.keras` generator; `config` is its run directory's config.json (None for a bare file)."""
    generator = load_keras_generator(path)
    kind = model_kind(generator)
    if kind == IMAGE_TO_IMAGE:
        return Generator("keras", lambda images, _: np.asarray(generator(images, training=False)), None, False,
                         input_shape=translator_spec(generator)["input_shape"])
    if kind == TEXT:
        return _keras_text_source(generator, path, config)
    conditional = is_conditional(generator)
    if conditional and not num_classes:
        num_classes = embedding_classes(generator)

    def run(latents, labels):
        return np.asarray(generator(latents if labels is None else [latents, labels], training=False))
    return Generator("keras", run, int(generator.inputs[0].shape[-1]), conditional,
                           num_classes if conditional else None)


def _savedmodel_source(path: str) -> Generator:
    """A SavedModel, loaded with TF Serving's session semantics (`load_savedmodel`): what TF Serving rejects, this
    rejects with the same `ServingCompatibilityError`."""
    model = load_savedmodel(path)
    try:
        return _savedmodel_generator(path, model)
    except BaseException:
        model.close()
        raise


def _savedmodel_generator(path: str, model: SessionSavedModel) -> Generator:
    if "serving_default" not in model.signature_defs:
        raise MissingResourceError(f"SavedModel {path!r} has no serving_default signature; "
                                   "export it with `tfgan export`.")
    specs = model.signature_defs["serving_default"].inputs
    metadata = _savedmodel_metadata(path)
    # The kind the export wrote; a SavedModel without a description (not written by `tfgan export`, or
    # before kinds were recorded) is read by its input names below.
    kind = read_kind(metadata, os.path.join(path, METADATA_FILE)) if metadata else None
    if kind == IMAGE_TO_IMAGE:
        return Generator("savedmodel", lambda images, _: model.run("serving_default", {"images": images})["images"],
                         None, False, input_shape=metadata["input_shape"], close=model.close)
    if "latents" not in specs:
        raise MissingResourceError(f"SavedModel {path!r} takes {sorted(specs)}, not 'latents'; "
                                   "it was not written by `tfgan export`.")
    latent_dim = model.input_shape("serving_default", "latents")[-1]
    if kind == TEXT or (kind is None and "tokens" in specs):
        return _savedmodel_text_source(path, model, latent_dim)
    num_classes = metadata.get("num_classes")

    def run(latents, labels):
        feed = {"latents": latents} if labels is None else {"latents": latents, "labels": labels}
        return model.run("serving_default", feed)["images"]
    return Generator("savedmodel", run, latent_dim, "labels" in specs, num_classes, close=model.close)


def _savedmodel_metadata(path: str) -> Dict:
    """The SavedModel's `tfgan_model.json` (written by `tfgan export`; {} if absent); `MissingResourceError` if
    unreadable."""
    if not os.path.isfile(os.path.join(path, METADATA_FILE)):
        return {}
    try:
        return read_metadata(path)
    except (OSError, ValueError) as e:
        raise MissingResourceError(f"SavedModel {path!r} lacks a readable assets.extra/tfgan_model.json (the model "
                                   f"description `tfgan export` writes: {e}); re-export it with `tfgan export`.") from e


def _savedmodel_text_source(path: str, model: SessionSavedModel, latent_dim: int) -> Generator:
    if "from_captions" not in model.signature_defs:
        raise MissingResourceError(f"SavedModel {path!r} takes caption tokens but has no from_captions signature; "
                                   "re-export it with `tfgan export`.")

    def run(latents, captions):
        return model.run("from_captions", {"latents": latents, "captions": np.asarray(captions, object)})["images"]
    return Generator("savedmodel", run, latent_dim, False, captioned=True, close=model.close)


def _tflite_source(path: str, num_threads=None) -> Generator:
    runner = TFLiteGenerator(path, num_threads)
    sidecar = read_sidecar(path) or {}
    if runner.kind == IMAGE_TO_IMAGE:
        return Generator("tflite", lambda images, _: runner(images), None, False, input_shape=runner.input_shape)
    if runner.kind == TEXT:
        if not sidecar.get("vocabulary"):
            raise MissingResourceError(f"{path!r} is a text-conditioned generator whose caption vocabulary is in the "
                                       "generator.json written next to it by `tfgan export`, which is missing or "
                                       "lacks 'vocabulary'; keep that sidecar beside the .tflite file.")
        tokens = _caption_tokens(sidecar["vocabulary"], runner.sequence_length)
        return Generator("tflite", lambda latents, captions: runner(latents, tokens=tokens(captions)),
                               runner.latent_dim, False, captioned=True)
    return Generator("tflite", runner, runner.latent_dim, runner.conditional, sidecar.get("num_classes"))


def _remote_source(match, timeout: float) -> Generator:
    name, version = match["name"], int(match["version"]) if match["version"] else None
    if match["scheme"] == "grpc":
        client = GrpcClient(match["host"], timeout)
        kind, close = "grpc", client.close
    else:
        client = RestClient(f"{match['scheme']}://{match['host']}", timeout)
        kind, close = "rest", None
    signatures = client.metadata(name, version)["metadata"]["signature_def"]["signature_def"]
    if "serving_default" not in signatures:
        raise MissingResourceError(f"Served model {name} has no serving_default signature (signatures: "
                                   f"{sorted(signatures)}); export it with `tfgan export`.")
    inputs = signatures["serving_default"].get("inputs", {})
    if "images" in inputs and "latents" not in inputs:
        input_shape = [int(d["size"]) for d in inputs["images"]["tensor_shape"]["dim"][1:]]

        def run_images(images, _):
            return client.predict(name, {"images": images}, version)["images"]
        return Generator(kind, run_images, None, False, None, close, REMOTE_BATCH, input_shape=input_shape)
    if "latents" not in inputs:
        raise MissingResourceError(f"Served model {name} has no serving_default signature with 'latents' "
                                   f"(inputs: {sorted(inputs)}); was it exported with `tfgan export`?")
    latent_dim = int(inputs["latents"]["tensor_shape"]["dim"][-1]["size"])
    if "tokens" in inputs:
        if "from_captions" not in signatures:
            raise MissingResourceError(f"Served model {name} takes caption tokens but has no from_captions "
                                       "signature; re-export it with `tfgan export`.")

        def run_captions(latents, captions):
            return client.predict(name, {"latents": latents, "captions": captions}, version,
                                  signature="from_captions")["images"]
        return Generator(kind, run_captions, latent_dim, False, None, close, REMOTE_BATCH, captioned=True)

    def run(latents, labels):
        feed = {"latents": latents} if labels is None else {"latents": latents, "labels": labels}
        return client.predict(name, feed, version)["images"]
    num_classes = served_num_classes(signatures) if "labels" in inputs else None
    return Generator(kind, run, latent_dim, "labels" in inputs, num_classes, close, REMOTE_BATCH)


class NoGeneratorError(MissingResourceError):
    """The spec names no generator (no .keras/.tflite file, run directory, SavedModel or served model)."""


def _run_config(run_dir: str) -> Dict:
    """The run directory's config.json (empty if there is none)."""
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise MissingResourceError(f"Could not read {path!r} as JSON ({e}); the run directory is damaged.") from e


def open_generator(spec: str, num_classes: Optional[int] = None, timeout: float = DEFAULT_TIMEOUT,
                   tflite_threads=None, which: Optional[str] = None) -> Generator:
    """Opens a generator artifact or served model (see module doc): the package's only generator-spec parser.

    Args:
        spec: a `.keras` or `.tflite` file, a run directory, a SavedModel (version or model folder), or a
            served model URL (module doc).
        num_classes: overrides the class count the artifact says.
        timeout: seconds per request to a served model.
        tflite_threads: a positive int or "auto" (None: the default), the `TFLiteGenerator` thread count of a
            `.tflite` file.
        which: for a run directory, "best" or "last" (`run_generator_path`); None reads `generator.keras`.

    Returns:
        A `Generator`; its `config` is the run's config.json for a run directory.

    Raises:
        UsageError: a malformed URL, or `tflite_threads` for another artifact.
        NoGeneratorError: `spec` names no generator.
        ServingCompatibilityError: a SavedModel TF Serving would reject.
    """
    if tflite_threads is not None and not spec.endswith(".tflite"):
        raise UsageError(f"A TFLite thread count applies to .tflite files only, received tflite_threads="
                         f"{tflite_threads!r} for {spec!r}; drop --tflite_threads.")
    match = _REMOTE.match(spec)
    if match:
        source = _remote_source(match, timeout)
    elif "://" in spec:
        raise UsageError(f"Expected http://host:port/<model>[/versions/N] or grpc://host:port/<model>[/versions/N], "
                         f"received {spec!r}.")
    elif spec.endswith(".tflite"):
        source = _tflite_source(spec, tflite_threads)
    elif spec.endswith(".keras"):
        source = _keras_source(spec, num_classes)
    elif os.path.isfile(os.path.join(spec, "saved_model.pb")):
        source = _savedmodel_source(spec)
    elif os.path.isfile(os.path.join(spec, "generator.keras")):
        config = _run_config(spec)
        path = os.path.join(spec, "generator.keras") if which is None else run_generator_path(spec, which)
        source = _keras_source(path, num_classes or config.get("num_classes"), config)
        source.config = config
    elif list_versions(spec):
        source = _savedmodel_source(os.path.join(spec, str(list_versions(spec)[-1])))
    else:
        raise NoGeneratorError(
            f"Could not find a generator at {spec!r}. Expected a .keras or .tflite file, a run directory with "
            "generator.keras, an exported SavedModel directory (export/<name>[/<version>]), or a served model "
            "URL http://host:port/<name> / grpc://host:port/<name>.")
    if num_classes and source.kind == LATENT:
        source.num_classes = num_classes
    return source


def resolve_labels(source: Generator, num_images: int, labels: Optional[Sequence[int]]) -> Optional[np.ndarray]:
    """Labels for `num_images` images, as `ConditionalGAN.generate` picks them: None if unconditional,
    `labels` cycled to `num_images` (one value is repeated), or 0, 1, ..., num_classes-1 repeated by default."""
    if not source.conditional:
        if labels:
            what = "text-conditioned (pass --captions instead)" if source.captioned else "unconditional"
            raise UsageError(f"--labels was given but the {source.form} generator is {what}; drop --labels.")
        return None
    if not labels:
        if not source.num_classes:
            raise UsageError(f"The {source.form} generator is conditional and its class count is unknown; "
                             "pass --labels=0,1,... (one per image, or one for all).")
        return (np.arange(num_images) % source.num_classes).astype(np.int32)
    values = [int(v) for v in labels]
    if any(v < 0 or (source.num_classes and v >= source.num_classes) for v in values):
        raise UsageError(f"Labels must be in [0, {source.num_classes or 'num_classes'}), received {values}.")
    return np.resize(np.asarray(values, np.int32), num_images)


def resolve_captions(source: Generator, num_images: int,
                     captions: Optional[Sequence[str]]) -> Optional[np.ndarray]:
    """Captions for `num_images` images, cycled like `TextConditionedGAN.generate` cycles them; None for
    generators that are not text-conditioned. `UsageError` if captions are missing or not applicable."""
    if not source.captioned:
        if captions:
            raise UsageError(f"--captions was given but the {source.form} generator is not text-conditioned; "
                             "drop --captions (class-conditional models take --labels).")
        return None
    if not captions:
        raise UsageError(f"The {source.form} generator is text-conditioned: pass --captions=\"a handwritten seven;"
                         "the digit one\" (';'-separated, cycled over the images).")
    return np.resize(np.asarray(list(captions), dtype=object), num_images)


def generate_images(source: Generator, num_images: int, seed: int = 0,
                    labels: Optional[Sequence[int]] = None, captions: Optional[Sequence[str]] = None,
                    truncation: float = 1.0) -> np.ndarray:
    """`num_images` images for latents `sample_latents(num_images, latent_dim, seed)`: the same
    latents `GAN.generate` and the exported `generate` / `generate_from_captions` signatures use.

    `truncation` ψ scales the latents (ψ·z, the truncation trick towards the mean latent 0), as
    `GAN.generate(truncation=ψ)` and the SavedModel `generate_truncated` signature do.
    """
    if num_images < 1:
        raise UsageError(f"Expected a positive number of images, received {num_images}.")
    if isinstance(truncation, bool) or not 0.0 <= float(truncation) <= 1.0:
        raise UsageError(f"Expected truncation (psi) in [0, 1] (1: none, 0: the mean latent), received {truncation!r}.")
    latents = sample_latents(num_images, source.latent_dim, seed).numpy() * np.float32(truncation)
    return source(latents, resolve_labels(source, num_images, labels), resolve_captions(source, num_images, captions))


def interpolate_images(source: Generator, steps: int, seed: int = 0,
                       labels: Optional[Sequence[int]] = None, method: str = "linear",
                       captions: Optional[Sequence[str]] = None) -> np.ndarray:
    """A latent walk: `steps` images between the two latents `sample_latents(2, D, seed)`.

    `method` is "linear" (a straight line) or "slerp" (the great circle, which keeps latents at a typical
    norm for Gaussian z).

    A conditional walk keeps one class (the first of `labels`, default 0), a text-conditioned one
    the first of `captions`.
    """
    if steps < 2:
        raise UsageError(f"Expected at least 2 interpolation steps, received {steps}.")
    ends = sample_latents(2, source.latent_dim, seed).numpy()
    walk = interpolate(ends[0], ends[1], steps, method)
    walk_labels = None
    if source.conditional:
        walk_labels = resolve_labels(source, steps, [int(labels[0])] if labels else [0])
    return source(walk, walk_labels, resolve_captions(source, steps, list(captions or [])[:1]))
