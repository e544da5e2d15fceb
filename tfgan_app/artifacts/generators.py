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
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Type

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.artifacts.kind import (IMAGE_TO_IMAGE, LATENT, TEXT, Kind, embedding_classes, is_conditional,
                                      model_kind, read_kind, signature_kind, text_spec, translator_spec)
from tfgan_app.artifacts.layout import METADATA_FILE, list_versions, read_metadata, read_sidecar, served_num_classes
from tfgan_app.tfserving.client import DEFAULT_TIMEOUT, GrpcClient, RestClient
from tfgan_app.artifacts.savedmodel_loader import SessionSavedModel, load_savedmodel
from tfgan_app.artifacts.run_dir import load_keras_generator, run_generator_path, run_vocabulary
from tfgan_app.artifacts.tflite_runner import TFLiteGenerator
from tfgan_app.data.captions import CLASS_NAMES, captions_for, make_vectorizer
from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.latent import interpolate, sample_latents

_REMOTE = re.compile(r"^(?P<scheme>https?|grpc)://(?P<host>[^/]+)/(?P<name>[^/]+)(?:/versions/(?P<version>\d+))?/?$")
REMOTE_BATCH = 64


class Generator:
    """A trained generator, whatever artifact it was read from; one subclass per kind.

    `open_generator` reads the kind once (from the export's description, or for a foreign artifact from
    its input names) and builds that kind's class: `LatentGenerator` (optionally class-conditional),
    `TextGenerator` or `ImageToImageGenerator`. Their methods do the kind-specific work, so callers never
    branch on the kind: `__call__` samples from latents, `translate` maps images, `labels_for` /
    `captions_for` check and cycle conditions, `check_samples` / `check_translates` refuse the wrong use in
    one line, `class_sampler` gives evaluation its per-class sampler.

    Attributes:
        form: the artifact read: "keras", "savedmodel", "tflite", "rest" or "grpc".
        kind: the class's `Kind`.
        latent_dim: size of one latent vector (None for image-to-image generators).
        conditional: whether labels are required.
        num_classes: class count when known (None for unconditional or unknown).
        captioned: whether one caption string per image is required (text-conditioned generators).
        input_shape: `[H, W, C]` of the images an image-to-image generator takes (None otherwise).
        config: the training run's config.json when opened from a run directory (None otherwise).

    Args:
        form: the artifact read (`form` above).
        run: `run(primary, condition)`: one chunk of latents (or images) and its labels / captions (or None) to
            float32 images.
        close: releases the artifact (a session, a connection), or None.
        batch: the largest chunk `run` takes at once (0: any).

    Example:
    >>> with open_generator("export/dcgan_mnist") as generator:
    ...     type(generator).__name__, generator.describe()["latent_dim"]
    ('LatentGenerator', 64)
    """

    kind: Kind
    captioned = False

    def __init__(self, form: str, run: Callable, close: Optional[Callable] = None, batch: int = 0):
        self.form, self._run, self._close, self._batch = form, run, close, batch
        self.latent_dim: Optional[int] = None
        self.conditional, self.num_classes = False, None
        self.input_shape: Optional[List[int]] = None
        self.config: Optional[Dict] = None

    def describe(self) -> Dict:
        """What the generator takes: `form`, `kind`, and `latent_dim` / `num_classes` or `input_shape`."""
        raise NotImplementedError

    def _in_batches(self, primary: np.ndarray, condition: Optional[np.ndarray]) -> np.ndarray:
        """`run` over `primary` (and `condition`) in chunks of the source's batch size (all at once if 0)."""
        step = self._batch or max(len(primary), 1)
        return np.concatenate([self._run(primary[i:i + step], None if condition is None else condition[i:i + step])
                               for i in range(0, len(primary), step)]).astype(np.float32)

    def __call__(self, latents: np.ndarray, labels: Optional[np.ndarray] = None,
                 captions: Optional[Sequence[str]] = None) -> np.ndarray:
        """Float32 images `[N, H, W, C]` in [-1, 1] for float latents `[N, latent_dim]` (+ labels or captions).

        Raises:
            UsageError: an image-to-image generator, latents of another shape, or a missing or wrong condition.
        """
        raise NotImplementedError

    def translate(self, images: np.ndarray) -> np.ndarray:
        """Image-to-image generators: float images `[N, H, W, C]` in [-1, 1] -> translated images in [-1, 1].

        Raises:
            UsageError: a latent or text generator, or images not of `input_shape`.
        """
        self.check_translates()
        raise NotImplementedError

    def check_samples(self, spec: str) -> None:
        """Raises `UsageError` unless the generator samples images from latents (`tfgan generate`)."""

    def check_translates(self) -> None:
        """Raises `UsageError` unless the generator translates images (`tfgan generate --inputs`)."""
        raise UsageError(f"--inputs needs an image-to-image generator (pix2pix, SRGAN, CycleGAN); this "
                         f"{self.form} generator is a {self.kind} generator, which samples images from "
                         "latents: drop --inputs and use --num_images.")

    def labels_for(self, num_images: int, labels: Optional[Sequence[int]]) -> Optional[np.ndarray]:
        """Labels for `num_images` images (None if the generator takes none); `UsageError` if not applicable."""
        if labels:
            raise UsageError(f"--labels was given but the {self.form} generator is {self._no_labels}; drop --labels.")
        return None

    _no_labels = "unconditional"

    def captions_for(self, num_images: int, captions: Optional[Sequence[str]]) -> Optional[np.ndarray]:
        """Captions for `num_images` images (None for generators that take none); `UsageError` if not applicable."""
        if captions:
            raise UsageError(f"--captions was given but the {self.form} generator is not text-conditioned; "
                             "drop --captions (class-conditional models take --labels).")
        return None

    def class_sampler(self, spec: str) -> Tuple[Optional[int], Callable]:
        """`(num_classes, generate(latents, labels))` for scoring per class (`tfgan evaluate`); num_classes is None
        for an unconditional generator, whose `generate` ignores labels.

        Raises:
            UsageError: the generator cannot be scored from latents.
        """
        raise NotImplementedError

    def set_num_classes(self, num_classes: int) -> None:
        """Overrides the class count the artifact says (`open_generator(num_classes=...)`); latent generators only."""

    def close(self) -> None:
        """Releases connections (remote sources)."""
        if self._close:
            self._close()

    def __enter__(self) -> "Generator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LatentGenerator(Generator):
    """Latents `[N, latent_dim]` (+ int labels `[N]` when `conditional`) -> images.

    Args:
        form, run, close, batch: as `Generator`.
        latent_dim: size of one latent vector.
        conditional: whether the generator takes labels.
        num_classes: the class count of a conditional generator when known.

    Example:
    >>> with open_generator("export/cgan_mnist") as g:
    ...     images = g(sample_latents(10, g.latent_dim).numpy(), g.labels_for(10, None))
    """

    kind = LATENT

    def __init__(self, form: str, run: Callable, latent_dim: int, conditional: bool = False,
                 num_classes: Optional[int] = None, close: Optional[Callable] = None, batch: int = 0):
        super().__init__(form, run, close, batch)
        self.latent_dim, self.conditional = int(latent_dim), bool(conditional)
        self.num_classes = num_classes if conditional else None

    def describe(self) -> Dict:
        return {"form": self.form, "kind": str(self.kind), "latent_dim": self.latent_dim,
                "conditional": self.conditional, "num_classes": self.num_classes}

    def __call__(self, latents: np.ndarray, labels: Optional[np.ndarray] = None,
                 captions: Optional[Sequence[str]] = None) -> np.ndarray:
        latents = np.asarray(latents, np.float32)
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise UsageError(f"Expected latents of shape [N, {self.latent_dim}], received {latents.shape}.")
        return self._in_batches(latents, self._condition(len(latents), labels, captions))

    def _condition(self, num: int, labels, captions) -> Optional[np.ndarray]:
        """The int32 labels the generator takes with `num` latents (None if unconditional)."""
        if captions is not None:
            raise UsageError("This generator is not text-conditioned: do not pass captions.")
        if self.conditional and labels is None:
            raise UsageError("This generator is conditional: pass one label per image (--labels=...).")
        if not self.conditional and labels is not None:
            raise UsageError("This generator is unconditional: do not pass labels.")
        return None if labels is None else np.asarray(labels, np.int32).reshape([-1])

    def labels_for(self, num_images: int, labels: Optional[Sequence[int]]) -> Optional[np.ndarray]:
        """As `ConditionalGAN.generate` picks them: None if unconditional, `labels` cycled to `num_images` (one
        value is repeated), or 0, 1, ..., num_classes-1 repeated by default."""
        if not self.conditional:
            return super().labels_for(num_images, labels)
        if not labels:
            if not self.num_classes:
                raise UsageError(f"The {self.form} generator is conditional and its class count is unknown; "
                                 "pass --labels=0,1,... (one per image, or one for all).")
            return (np.arange(num_images) % self.num_classes).astype(np.int32)
        values = [int(v) for v in labels]
        if any(v < 0 or (self.num_classes and v >= self.num_classes) for v in values):
            raise UsageError(f"Labels must be in [0, {self.num_classes or 'num_classes'}), received {values}.")
        return np.resize(np.asarray(values, np.int32), num_images)

    def class_sampler(self, spec: str) -> Tuple[Optional[int], Callable]:
        if self.conditional and not self.num_classes:
            raise MissingResourceError(f"Conditional generator {spec!r} does not say its class count (num_classes "
                                       "in assets.extra/tfgan_model.json or generator.json); re-export it with "
                                       "`tfgan export`.")

        def generate(latents, labels):
            return self(np.asarray(latents), None if labels is None else np.asarray(labels))
        return self.num_classes, generate

    def set_num_classes(self, num_classes: int) -> None:
        self.num_classes = num_classes

    @classmethod
    def from_keras(cls, generator: keras.Model, path: str, config: Optional[Dict],
                   num_classes: Optional[int]) -> "Generator":
        """A `.keras` generator (`config`: its run's config.json, None for a bare file)."""
        conditional = is_conditional(generator)

        def run(latents, labels):
            return np.asarray(generator(latents if labels is None else [latents, labels], training=False))
        return cls("keras", run, int(generator.inputs[0].shape[-1]), conditional,
                   (num_classes or embedding_classes(generator)) if conditional else None)

    @classmethod
    def from_savedmodel(cls, path: str, model: SessionSavedModel, metadata: Dict) -> "Generator":
        """A SavedModel's `serving_default` (latents [+ labels])."""
        inputs = model.signature_defs["serving_default"].inputs

        def run(latents, labels):
            feed = {"latents": latents} if labels is None else {"latents": latents, "labels": labels}
            return model.run("serving_default", feed)["images"]
        return cls("savedmodel", run, _latent_dim(path, model), "labels" in inputs, metadata.get("num_classes"),
                   close=model.close)

    @classmethod
    def from_tflite(cls, path: str, runner: TFLiteGenerator, sidecar: Dict) -> "Generator":
        """A `.tflite` file run by `runner`; the class count comes from its sidecar."""
        return cls("tflite", runner, runner.latent_dim, runner.conditional, sidecar.get("num_classes"))

    @classmethod
    def from_remote(cls, served: "_Served") -> "Generator":
        """A served model (TF Serving REST or gRPC)."""
        conditional = "labels" in served.inputs

        def run(latents, labels):
            feed = {"latents": latents} if labels is None else {"latents": latents, "labels": labels}
            return served.predict(feed)
        return cls(served.form, run, served.latent_dim(), conditional,
                   served_num_classes(served.signatures) if conditional else None, served.close, REMOTE_BATCH)


class TextGenerator(LatentGenerator):
    """Latents `[N, latent_dim]` + one caption string per latent -> images.

    Each form turns captions into the training token ids: `.keras` (through its run directory's config.json
    vocabulary) and `.tflite` (the sidecar's vocabulary) with `tfgan_app.data.captions.make_vectorizer`,
    SavedModels and served models in the graph (their `from_captions` signature).

    Args:
        form, run, close, batch: as `Generator` (`run` takes latents and caption strings).
        latent_dim: size of one latent vector.

    Example:
    >>> with open_generator("runs/textgan_mnist") as g:
    ...     images = g(sample_latents(2, g.latent_dim).numpy(), captions=g.captions_for(2, ["the digit one"]))
    """

    kind = TEXT
    captioned = True
    _no_labels = "text-conditioned (pass --captions instead)"

    def __init__(self, form: str, run: Callable, latent_dim: int, close: Optional[Callable] = None, batch: int = 0):
        super().__init__(form, run, latent_dim, False, None, close, batch)

    def _condition(self, num: int, labels, captions) -> np.ndarray:
        if captions is None:
            raise UsageError("This generator is text-conditioned: pass one caption per image (--captions=...).")
        if labels is not None:
            raise UsageError("This generator takes captions, not labels.")
        captions = np.asarray(captions, dtype=object).reshape([-1])
        if len(captions) != num:
            raise UsageError(f"Expected one caption per latent ({num}), received {len(captions)} captions.")
        return captions

    def labels_for(self, num_images: int, labels: Optional[Sequence[int]]) -> Optional[np.ndarray]:
        return Generator.labels_for(self, num_images, labels)

    def captions_for(self, num_images: int, captions: Optional[Sequence[str]]) -> np.ndarray:
        """`captions` cycled to `num_images`, as `TextConditionedGAN.generate` cycles them."""
        if not captions:
            raise UsageError(f"The {self.form} generator is text-conditioned: pass --captions=\"a handwritten seven;"
                             "the digit one\" (';'-separated, cycled over the images).")
        return np.resize(np.asarray(list(captions), dtype=object), num_images)

    def class_sampler(self, spec: str) -> Tuple[Optional[int], Callable]:
        """Class i is captioned with the caption of class i of the run's `captions:NAME` dataset."""
        dataset = str((self.config or {}).get("dataset", ""))
        if not self.config:
            raise UsageError(f"{spec!r} is a {self.kind} generator; evaluate scores latent generators from latents "
                             "(a text-conditioned run is evaluated from its run directory).")
        captions = dataset.split(":", 1)[1] if dataset.startswith("captions:") else ""
        if captions not in CLASS_NAMES:
            raise UsageError(f"Text-conditioned run {spec!r} has dataset {dataset!r}; evaluate needs "
                             f"captions:NAME with NAME in {sorted(CLASS_NAMES)} to caption each class.")

        def generate(latents, labels):
            return self(np.asarray(latents), captions=captions_for(captions, np.asarray(labels)))
        return len(CLASS_NAMES[captions]), generate

    def set_num_classes(self, num_classes: int) -> None:
        """Text generators take captions: a class count does not apply (ignored)."""

    @classmethod
    def from_keras(cls, generator: keras.Model, path: str, config: Optional[Dict],
                   num_classes: Optional[int]) -> "Generator":
        if config is None:
            raise UsageError(f"{path!r} is a text-conditioned generator and its caption vocabulary is in the run's "
                             "config.json: pass the run directory (--model=RUN_DIR) instead of the .keras file.")
        spec = text_spec(generator)
        length = spec["sequence_length"]
        tokens = _caption_tokens(run_vocabulary(config, os.path.join(os.path.dirname(path), "config.json"), length),
                                 length)

        def run(latents, captions):
            return np.asarray(generator([latents, tokens(captions)], training=False))
        return cls("keras", run, spec["latent_dim"])

    @classmethod
    def from_savedmodel(cls, path: str, model: SessionSavedModel, metadata: Dict) -> "Generator":
        if "from_captions" not in model.signature_defs:
            raise MissingResourceError(f"SavedModel {path!r} takes caption tokens but has no from_captions "
                                       "signature; re-export it with `tfgan export`.")

        def run(latents, captions):
            return model.run("from_captions", {"latents": latents, "captions": np.asarray(captions, object)})["images"]
        return cls("savedmodel", run, _latent_dim(path, model), close=model.close)

    @classmethod
    def from_tflite(cls, path: str, runner: TFLiteGenerator, sidecar: Dict) -> "Generator":
        if not sidecar.get("vocabulary"):
            raise MissingResourceError(f"{path!r} is a text-conditioned generator whose caption vocabulary is in the "
                                       "generator.json written next to it by `tfgan export`, which is missing or "
                                       "lacks 'vocabulary'; keep that sidecar beside the .tflite file.")
        tokens = _caption_tokens(sidecar["vocabulary"], runner.sequence_length)
        return cls("tflite", lambda latents, captions: runner(latents, tokens=tokens(captions)), runner.latent_dim)

    @classmethod
    def from_remote(cls, served: "_Served") -> "Generator":
        if "from_captions" not in served.signatures:
            raise MissingResourceError(f"Served model {served.name} takes caption tokens but has no from_captions "
                                       "signature; re-export it with `tfgan export`.")

        def run(latents, captions):
            return served.predict({"latents": latents, "captions": captions}, signature="from_captions")
        return cls(served.form, run, served.latent_dim(), served.close, REMOTE_BATCH)


class ImageToImageGenerator(Generator):
    """Float images `[N, H, W, C]` in [-1, 1] of `input_shape` -> images (pix2pix, SRGAN, CycleGAN, inpainting).

    Args:
        form, run, close, batch: as `Generator` (`run` takes images).
        input_shape: `[H, W, C]` of the images the generator takes.

    Example:
    >>> with open_generator("export/pix2pix_mnist_edges") as g:
    ...     translated = g.translate(np.zeros([1, *g.input_shape], np.float32))
    """

    kind = IMAGE_TO_IMAGE

    def __init__(self, form: str, run: Callable, input_shape: Sequence[int], close: Optional[Callable] = None,
                 batch: int = 0):
        super().__init__(form, run, close, batch)
        self.input_shape = [int(d) for d in input_shape]

    def describe(self) -> Dict:
        return {"form": self.form, "kind": str(self.kind), "input_shape": self.input_shape}

    def __call__(self, latents: np.ndarray, labels: Optional[np.ndarray] = None,
                 captions: Optional[Sequence[str]] = None) -> np.ndarray:
        raise UsageError(f"This {self.form} generator is an image-to-image generator (input images of shape "
                         f"{tuple(self.input_shape)}, e.g. pix2pix, SRGAN or CycleGAN), which has no latents to "
                         "sample images from; translate images with `tfgan generate --inputs=...` "
                         "(Generator.translate).")

    def translate(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or list(images.shape[1:]) != self.input_shape:
            raise UsageError(f"Expected images of shape [N, {', '.join(map(str, self.input_shape))}], "
                             f"received {images.shape}.")
        return self._in_batches(images, None)

    def check_samples(self, spec: str) -> None:
        raise UsageError(f"{spec!r} is an image-to-image generator (input images "
                         f"{'x'.join(map(str, self.input_shape))}): it translates images, it does not sample "
                         "them; pass --inputs=<file, folder or glob> --output_dir=DIR.")

    def check_translates(self) -> None:
        return None

    def class_sampler(self, spec: str) -> Tuple[Optional[int], Callable]:
        raise UsageError(f"{spec!r} is an {self.kind} generator; evaluate scores latent generators from latents "
                         "(a text-conditioned run is evaluated from its run directory).")

    @classmethod
    def from_keras(cls, generator: keras.Model, path: str, config: Optional[Dict],
                   num_classes: Optional[int]) -> "Generator":
        return cls("keras", lambda images, _: np.asarray(generator(images, training=False)),
                   translator_spec(generator)["input_shape"])

    @classmethod
    def from_savedmodel(cls, path: str, model: SessionSavedModel, metadata: Dict) -> "Generator":
        shape = metadata.get("input_shape") or model.input_shape("serving_default", "images")[1:]
        return cls("savedmodel", lambda images, _: model.run("serving_default", {"images": images})["images"],
                   shape, close=model.close)

    @classmethod
    def from_tflite(cls, path: str, runner: TFLiteGenerator, sidecar: Dict) -> "Generator":
        return cls("tflite", lambda images, _: runner(images), runner.input_shape)

    @classmethod
    def from_remote(cls, served: "_Served") -> "Generator":
        shape = [int(d["size"]) for d in served.inputs["images"]["tensor_shape"]["dim"][1:]]
        return cls(served.form, lambda images, _: served.predict({"images": images}), shape, served.close,
                   REMOTE_BATCH)


GENERATOR_CLASSES: Dict[Kind, Type[Generator]] = {
    LATENT: LatentGenerator, TEXT: TextGenerator, IMAGE_TO_IMAGE: ImageToImageGenerator}


def _caption_tokens(vocabulary: Sequence[str], sequence_length: int) -> Callable[[np.ndarray], np.ndarray]:
    """Caption strings -> int32 token ids `[N, sequence_length]`, as in training (`make_vectorizer`)."""
    vectorizer = make_vectorizer(vocabulary, sequence_length)
    return lambda captions: np.asarray(vectorizer(tf.constant(captions, tf.string)), np.int32)


def _latent_dim(path: str, model: SessionSavedModel) -> int:
    if "latents" not in model.signature_defs["serving_default"].inputs:
        raise MissingResourceError(f"SavedModel {path!r} takes {sorted(model.signature_defs['serving_default'].inputs)}"
                                   ", not 'latents'; it was not written by `tfgan export`.")
    return model.input_shape("serving_default", "latents")[-1]


def _keras_source(path: str, num_classes: Optional[int], config: Optional[Dict] = None) -> Generator:
    """A `.keras` generator; `config` is its run directory's config.json (None for a bare file)."""
    generator = load_keras_generator(path)
    return GENERATOR_CLASSES[model_kind(generator)].from_keras(generator, path, config, num_classes)


def _savedmodel_source(path: str) -> Generator:
    """A SavedModel, loaded with TF Serving's session semantics (`load_savedmodel`): what TF Serving rejects, this
    rejects with the same `ServingCompatibilityError`."""
    model = load_savedmodel(path)
    try:
        if "serving_default" not in model.signature_defs:
            raise MissingResourceError(f"SavedModel {path!r} has no serving_default signature; "
                                       "export it with `tfgan export`.")
        metadata = _savedmodel_metadata(path)
        # The kind the export wrote; a SavedModel without a description (not written by `tfgan export`, or
        # before kinds were recorded) is decided once from its input names.
        kind = (read_kind(metadata, os.path.join(path, METADATA_FILE)) if metadata else
                signature_kind(model.signature_defs["serving_default"].inputs, f"SavedModel {path!r}"))
        return GENERATOR_CLASSES[kind].from_savedmodel(path, model, metadata)
    except BaseException:
        model.close()
        raise


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


def _tflite_source(path: str, num_threads=None) -> Generator:
    runner = TFLiteGenerator(path, num_threads)
    return GENERATOR_CLASSES[runner.kind].from_tflite(path, runner, read_sidecar(path) or {})


class _Served:
    """A model on a TF Serving endpoint: its signatures, read once, and `predict`."""

    def __init__(self, match, timeout: float):
        self.name, self.version = match["name"], int(match["version"]) if match["version"] else None
        if match["scheme"] == "grpc":
            self._client = GrpcClient(match["host"], timeout)
            self.form, self.close = "grpc", self._client.close
        else:
            self._client = RestClient(f"{match['scheme']}://{match['host']}", timeout)
            self.form, self.close = "rest", None
        self.signatures = self._client.metadata(self.name, self.version)["metadata"]["signature_def"]["signature_def"]
        if "serving_default" not in self.signatures:
            raise MissingResourceError(f"Served model {self.name} has no serving_default signature (signatures: "
                                       f"{sorted(self.signatures)}); export it with `tfgan export`.")
        self.inputs = self.signatures["serving_default"].get("inputs", {})

    def latent_dim(self) -> int:
        return int(self.inputs["latents"]["tensor_shape"]["dim"][-1]["size"])

    def predict(self, feed: Dict, signature: str = "serving_default") -> np.ndarray:
        return self._client.predict(self.name, feed, self.version, signature=signature)["images"]


def _remote_source(match, timeout: float) -> Generator:
    served = _Served(match, timeout)
    # TF Serving's metadata carries the signatures only, so the kind of a served model is decided once from those.
    kind = signature_kind(served.inputs, f"Served model {served.name}")
    return GENERATOR_CLASSES[kind].from_remote(served)


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

    Example:
    >>> with open_generator("export/pix2pix_mnist_edges/1/tflite/generator_int8.tflite") as generator:
    ...     generator.form, str(generator.kind), generator.input_shape
    ('tflite', 'image_to_image', [28, 28, 1])
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
    if num_classes:
        source.set_num_classes(num_classes)
    return source


def resolve_labels(source: Generator, num_images: int, labels: Optional[Sequence[int]]) -> Optional[np.ndarray]:
    """`source.labels_for(num_images, labels)`: labels as `ConditionalGAN.generate` picks them (None if the
    generator takes none)."""
    return source.labels_for(num_images, labels)


def resolve_captions(source: Generator, num_images: int,
                     captions: Optional[Sequence[str]]) -> Optional[np.ndarray]:
    """`source.captions_for(num_images, captions)`: captions cycled like `TextConditionedGAN.generate` cycles
    them; None for generators that are not text-conditioned."""
    return source.captions_for(num_images, captions)


def generate_images(source: Generator, num_images: int, seed: int = 0,
                    labels: Optional[Sequence[int]] = None, captions: Optional[Sequence[str]] = None,
                    truncation: float = 1.0) -> np.ndarray:
    """`num_images` images for latents `sample_latents(num_images, latent_dim, seed)`: the same latents
    `GAN.generate` and the exported `generate` / `generate_from_captions` signatures use.

    Args:
        source: an open latent or text `Generator` (`open_generator`).
        num_images: how many images (>= 1).
        seed: the latents' seed; the same seed gives the same images from every artifact.
        labels: class ids of a conditional generator, cycled (`Generator.labels_for`); default 0, 1, ...
        captions: captions of a text-conditioned generator, cycled (`Generator.captions_for`).
        truncation: ψ in [0, 1]: latents ψ·z, the truncation trick towards the mean latent 0, as
            `GAN.generate(truncation=ψ)` and the SavedModel `generate_truncated` signature do.

    Returns:
        Float32 images `[num_images, H, W, C]` in [-1, 1].

    Raises:
        UsageError: a non-positive count, ψ outside [0, 1], or labels / captions the generator does not take.

    Example:
    >>> with open_generator("export/cgan_mnist") as source:
    ...     generate_images(source, 10, seed=0, labels=[7]).shape
    (10, 28, 28, 1)
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

    Args:
        source: an open latent or text `Generator`.
        steps: images on the walk (>= 2), ends included.
        seed: seed of the two end latents.
        labels: a conditional walk keeps one class, the first of `labels` (default 0).
        method: "linear" (a straight line) or "slerp" (the great circle, which keeps latents at a typical norm
            for Gaussian z).
        captions: a text-conditioned walk keeps the first caption.

    Returns:
        Float32 images `[steps, H, W, C]` in [-1, 1].

    Raises:
        UsageError: fewer than 2 steps, an unknown method, or a condition the generator does not take.

    Example:
    >>> with open_generator("runs/dcgan_mnist") as source:
    ...     interpolate_images(source, 8, seed=3, method="slerp").shape
    (8, 28, 28, 1)
    """
    if steps < 2:
        raise UsageError(f"Expected at least 2 interpolation steps, received {steps}.")
    ends = sample_latents(2, source.latent_dim, seed).numpy()
    walk = interpolate(ends[0], ends[1], steps, method)
    walk_labels = source.labels_for(steps, [int(labels[0])] if labels else [0]) if source.conditional else None
    return source(walk, walk_labels, source.captions_for(steps, list(captions or [])[:1]))
