"""SavedModel export of a generator with explicit TF Serving signatures.

The exported module wraps the Keras generator in `tf.function`s with fixed
input signatures, so TF Serving (or `tfgan serve`, or `tf.saved_model.load`)
can call it without Keras. They are written with Keras' `keras.export.ExportArchive`
(`save_for_serving`), which TensorFlow's C++ loader, the one TF Serving uses, runs
(`tests/test_tfserving_loader.py`; see `save_for_serving` for why `tf.saved_model.save`
of the module is not enough):

| signature         | inputs                                         | outputs                               |
| ----------------- | ---------------------------------------------- | ------------------------------------- |
| `serving_default` | `latents` float32 `[None, latent_dim]`         | `images` float32 `[None, H, W, C]`,   |
|                   | (+ `labels`)                                   | in [-1, 1]                            |
| `generate`        | `seed` int64 `[]`, `num_images` int32 `[]`     | `images` uint8 `[None, H, W, C]`      |
|                   | (+ `labels`)                                   |                                       |
| `generate_png`    | same as `generate`                             | `png_bytes` string `[None]` (PNGs)    |
| `generate_truncated`, | `generate`'s inputs + `truncation` float32 `[]` | as `generate` / `generate_png`     |
| `generate_truncated_png` | (ψ in [0, 1])                              |                                       |
| `class_ids`       | none (conditional generators only)             | `class_ids` int32 `[num_classes]`,    |
|                   |                                                | 0 .. num_classes-1                    |

Truncation (the truncation trick for N(0, I) latents): the `generate_truncated*`
signatures draw the same latents as `generate*` and scale them by ψ, so ψ = 1 gives
exactly `generate`'s images and ψ = 0 the image of the mean latent (0), as
`GAN.generate(truncation=ψ)` and `tfgan generate --truncation=ψ`. A SignatureDef has
no optional inputs (TF Serving rejects a request that lacks one, and a client that
sends an input the signature lacks), so ψ is a required input of separate
signatures and `generate` / `generate_png` stay unchanged for existing clients
(their ψ is 1). `serving_default` takes latents: scale them by ψ on the client.

`class_ids` exists for its metadata: the static shape of its output states the class count in
TF Serving's GetModelMetadata reply, which holds signature_defs only (`served_num_classes`).

Image-to-image generators (one `[None, H, W, C]` image input: pix2pix's U-Net,
SRGAN's upscaler, CycleGAN's A->B or B->A generator) are exported by `TranslatorModule`
instead, with `TRANSLATOR_SIGNATURES`:

| signature         | inputs                                         | outputs                               |
| ----------------- | ---------------------------------------------- | ------------------------------------- |
| `serving_default` | `images` float32 `[None, H, W, C]` in [-1, 1]  | `images` float32 `[None, H', W', C']` |
|                   |                                                | in [-1, 1]                            |
| `translate_png`   | `png_bytes` string `[None]` (PNGs of exactly   | `png_bytes` string `[None]` (PNGs)    |
|                   | H x W; decoded to C channels, x/127.5 - 1)     |                                       |

For conditional generators, `labels` is int32 `[None]` (one class id per image;
for `generate*` it must hold `num_images` ids). `generate*` turn `seed` into
latents with `tfgan_app.latent.sample_latents`, so they give
`to_uint8(GAN.generate(num_images, seed))`. uint8 pixels are `round((x + 1) * 127.5)`
clipped to [0, 255] (`tfgan_app.images.to_uint8` / `tf_to_uint8`). The output name
`png_bytes` ends in `_bytes` so TF Serving's REST API returns it base64-encoded
(`{"b64": ...}`), which any HTTP client can decode into a PNG file.

Text-conditioned generators (inputs `[latents [None, D], tokens int32 [None, L]]`,
e.g. `TextConditionedGAN`) are exported by `CaptionModule` with `TEXT_SIGNATURES`;
they need the caption vocabulary (the run's config.json "vocabulary"):

| signature                    | inputs                                     | outputs                               |
| ---------------------------- | ------------------------------------------ | ------------------------------------- |
| `serving_default`            | `latents` float32 `[None, D]`,             | `images` float32 `[None, H, W, C]`,   |
|                              | `tokens` int32 `[None, L]` (token ids)     | in [-1, 1]                            |
| `from_captions`              | `latents` float32 `[None, D]`,             | `images` float32 `[None, H, W, C]`,   |
|                              | `captions` string `[None]` (one per row)   | in [-1, 1]                            |
| `generate_from_captions`     | `seed` int64 `[]`, `captions` string       | `images` uint8 `[None, H, W, C]`,     |
|                              | `[None]`                                   | one image per caption                 |
| `generate_from_captions_png` | same as `generate_from_captions`           | `png_bytes` string `[None]` (PNGs)    |

Token ids are those of `tfgan_app.data.captions.make_vectorizer(vocabulary, L)`
(0 padding, 1 unknown word, 2.. the vocabulary); `serving_default` checks them
to be in `[0, len(vocabulary) + 2)`. The caption signatures tokenise inside the
graph with that same layer, whose lookup table (the vocabulary) is saved in the
SavedModel, so a served caption gets exactly the ids training used.
`generate_from_captions*` draw `sample_latents(len(captions), D, seed)`, as
`generate` does for latent models. `from_captions` lets clients that lack the
vocabulary (REST / gRPC) pick the latents themselves, e.g. for latent walks.

Example:
>>> write_savedmodel(generator, "/tmp/sm")
>>> images = tf.saved_model.load("/tmp/sm").signatures["serving_default"](
...     latents=tf.zeros([2, 8]))["images"]
"""

import json
import os
from typing import Dict, Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.artifacts.kind import IMAGE_TO_IMAGE, LATENT, TEXT, model_kind, read_kind
from tfgan_app.artifacts.layout import CLASS_IDS_SIGNATURE, METADATA_FILE
from tfgan_app.data.captions import make_vectorizer
from tfgan_app.errors import UsageError
from tfgan_app.export.kinds import export_kind
from tfgan_app.images import tf_from_uint8 as uint8_to_images, tf_to_uint8 as images_to_uint8
from tfgan_app.latent import sample_latents

OUTPUT_RANGE = (-1.0, 1.0)


class _ExportModule(tf.Module):
    """What the three export modules share: a generator, its kind's `ExportKind`, `signatures()` and
    `metadata()`. A subclass sets `KIND`, builds its `tf.function`s and adds `_kind_metadata()`."""

    KIND = None

    def __init__(self, generator: keras.Model, name: str):
        super().__init__(name=name)
        self.behaviour = export_kind(self.KIND)
        self.spec = self.behaviour.spec(generator)
        self.generator = generator
        self.image_shape = self.spec["image_shape"]

    def signatures(self) -> Dict[str, tf.types.experimental.ConcreteFunction]:
        """Concrete functions keyed by signature name, ready for `tf.saved_model.save`."""
        return {name: getattr(self, name).get_concrete_function() for name in self.signature_names()}

    def signature_names(self) -> tuple:
        """Names of the signatures this module exports (its kind's set by default)."""
        return self.behaviour.signatures

    def metadata(self) -> Dict:
        """JSON-serialisable description stored next to the SavedModel (`assets.extra/tfgan_model.json`)."""
        return {"kind": str(self.KIND), **self._kind_metadata(), "image_shape": self.image_shape,
                "output_range": list(OUTPUT_RANGE), "signatures": list(self.signature_names())}

    def _kind_metadata(self) -> Dict:
        raise NotImplementedError

    @classmethod
    def create(cls, generator: keras.Model, num_classes: Optional[int] = None,
               vocabulary: Optional[Sequence[str]] = None) -> "_ExportModule":
        """The module for `generator`; `UsageError` for a vocabulary it does not take (only text generators do)."""
        if vocabulary:
            raise UsageError("A vocabulary was given but the generator takes no caption tokens (inputs "
                             f"{[tuple(i.shape) for i in generator.inputs]}); pass vocabulary=None.")
        return cls(generator, num_classes)


class GeneratorModule(_ExportModule):
    """`tf.Module` holding a generator and the three serving signatures described in the module doc.

    Args:
        generator: Keras generator following the contract.
        num_classes: number of classes of a conditional generator (labels are
            checked to be in `[0, num_classes)`), `None` for unconditional ones.

    Raises:
        UsageError: a generator that does not follow the latent contract, or a class count that does not
            match its label input. Received values are named.

    Example:
    >>> module = GeneratorModule(dcgan_generator(64, (28, 28, 1)))
    >>> sorted(module.signatures())
    ['generate', 'generate_png', 'generate_truncated', 'generate_truncated_png', 'serving_default']
    """

    KIND = LATENT

    def __init__(self, generator: keras.Model, num_classes: Optional[int] = None):
        super().__init__(generator, "tfgan_generator")
        spec = self.spec
        if spec["conditional"] and not num_classes:
            raise UsageError("The generator takes labels, so num_classes must be a positive integer; "
                             f"received num_classes={num_classes!r}. Pass the run's config num_classes.")
        if not spec["conditional"] and num_classes:
            raise UsageError(f"num_classes={num_classes} was given but the generator takes no labels; "
                             "pass num_classes=None for an unconditional generator.")
        self.latent_dim = spec["latent_dim"]
        self.num_classes = num_classes
        self.conditional = spec["conditional"]
        specs = self.behaviour.input_specs(spec)
        seed_specs = [tf.TensorSpec([], tf.int64, name="seed"), tf.TensorSpec([], tf.int32, name="num_images")]
        truncation_spec = tf.TensorSpec([], tf.float32, name="truncation")
        if self.conditional:
            self.serving_default = tf.function(
                lambda latents, labels: {"images": self._images(latents, labels)},
                input_signature=[specs["latents"], specs["labels"]])
            self.generate = tf.function(
                lambda seed, num_images, labels: {"images": self._seeded(seed, num_images, labels)},
                input_signature=seed_specs + [specs["labels"]])
            self.generate_png = tf.function(
                lambda seed, num_images, labels: {"png_bytes": _encode_png(self._seeded(seed, num_images, labels))},
                input_signature=seed_specs + [specs["labels"]])
            self.generate_truncated = tf.function(
                lambda seed, num_images, labels, truncation: {
                    "images": self._seeded(seed, num_images, labels, truncation)},
                input_signature=seed_specs + [specs["labels"], truncation_spec])
            self.generate_truncated_png = tf.function(
                lambda seed, num_images, labels, truncation: {
                    "png_bytes": _encode_png(self._seeded(seed, num_images, labels, truncation))},
                input_signature=seed_specs + [specs["labels"], truncation_spec])
            self.class_ids = tf.function(lambda: {"class_ids": tf.range(self.num_classes, dtype=tf.int32)},
                                         input_signature=[])
        else:
            self.serving_default = tf.function(
                lambda latents: {"images": self._images(latents)}, input_signature=[specs["latents"]])
            self.generate = tf.function(
                lambda seed, num_images: {"images": self._seeded(seed, num_images)}, input_signature=seed_specs)
            self.generate_png = tf.function(
                lambda seed, num_images: {"png_bytes": _encode_png(self._seeded(seed, num_images))},
                input_signature=seed_specs)
            self.generate_truncated = tf.function(
                lambda seed, num_images, truncation: {
                    "images": self._seeded(seed, num_images, truncation=truncation)},
                input_signature=seed_specs + [truncation_spec])
            self.generate_truncated_png = tf.function(
                lambda seed, num_images, truncation: {
                    "png_bytes": _encode_png(self._seeded(seed, num_images, truncation=truncation))},
                input_signature=seed_specs + [truncation_spec])

    def _images(self, latents, labels=None):
        if labels is None:
            return self.generator(latents, training=False)
        with tf.control_dependencies(_id_checks(labels, latents, self.num_classes, "labels", "class id",
                                                f"num_classes={self.num_classes}")):
            return self.generator([latents, labels], training=False)

    def _seeded(self, seed, num_images, labels=None, truncation=None):
        with tf.control_dependencies([tf.debugging.assert_non_negative(num_images, message="num_images must be >= 0")]):
            latents = sample_latents(num_images, self.latent_dim, seed)
        if truncation is not None:  # ψ·z: the truncation trick towards the mean latent 0
            with tf.control_dependencies([
                    tf.debugging.assert_greater_equal(truncation, 0.0, message="truncation must be in [0, 1]"),
                    tf.debugging.assert_less_equal(truncation, 1.0, message="truncation must be in [0, 1]")]):
                latents = latents * truncation
        return images_to_uint8(self._images(latents, labels))

    def signature_names(self) -> tuple:
        """The kind's signatures, plus `CLASS_IDS_SIGNATURE` for a conditional generator."""
        return self.behaviour.signatures + ((CLASS_IDS_SIGNATURE,) if self.conditional else ())

    def _kind_metadata(self) -> Dict:
        return {"latent_dim": self.latent_dim, "num_classes": self.num_classes}


class TranslatorModule(_ExportModule):
    """`tf.Module` holding an image-to-image generator and `TRANSLATOR_SIGNATURES` (see module doc).

    Args:
        generator: Keras model with one `[None, H, W, C]` float input in [-1, 1]
            and one image output in [-1, 1].
        num_classes: must be None (image-to-image generators take no labels).

    Raises:
        UsageError: a generator without one fixed-size float image input, or a class count.

    Example:
    >>> sorted(TranslatorModule(unet_generator((28, 28, 1), base_filters=8)).signatures())
    ['serving_default', 'translate_png']
    """

    KIND = IMAGE_TO_IMAGE

    def __init__(self, generator: keras.Model, num_classes: Optional[int] = None):
        super().__init__(generator, "tfgan_translator")
        if num_classes:
            raise UsageError(f"num_classes={num_classes} was given but the image-to-image generator takes no "
                             "labels; pass num_classes=None.")
        self.input_shape = self.spec["input_shape"]
        self.serving_default = tf.function(
            lambda images: {"images": self.generator(images, training=False)},
            input_signature=list(self.behaviour.input_specs(self.spec).values()))
        self.translate_png = tf.function(
            lambda png_bytes: {"png_bytes": _encode_png(images_to_uint8(
                self.generator(self._decode(png_bytes), training=False)))},
            input_signature=[tf.TensorSpec([None], tf.string, name="png_bytes")])

    def _decode(self, png_bytes: tf.Tensor) -> tf.Tensor:
        height, width, channels = self.input_shape

        def decode(data):
            pixels = tf.io.decode_png(data, channels=channels)
            exact = tf.reduce_all(tf.equal(tf.shape(pixels)[:2], [height, width]))
            # A fixed-shape placeholder for wrong-sized PNGs, which the assertion below rejects.
            return tf.image.resize_with_crop_or_pad(pixels, height, width), exact
        pixels, exact = tf.map_fn(decode, png_bytes, fn_output_signature=(
            tf.TensorSpec([height, width, channels], tf.uint8), tf.TensorSpec([], tf.bool)))
        check = tf.debugging.assert_equal(
            exact, tf.ones_like(exact),
            message=f"each PNG must be exactly {height}x{width} pixels (height x width); resize it first")
        with tf.control_dependencies([check]):
            pixels = tf.identity(pixels)
        return uint8_to_images(pixels)

    def _kind_metadata(self) -> Dict:
        return {"input_shape": self.input_shape, "num_classes": None, "input_range": list(OUTPUT_RANGE)}


class CaptionModule(_ExportModule):
    """`tf.Module` holding a text-conditioned generator, its vocabulary and `TEXT_SIGNATURES` (see module doc).

    Captions are tokenised in the graph by `make_vectorizer(vocabulary, sequence_length)`, the layer
    `TextConditionedGAN` trains with; its lookup table is saved with the module, so the SavedModel
    needs no Python and gives exactly the training token ids.

    Args:
        generator: Keras model on `[latents [None, D], tokens int32 [None, L]]`, images in [-1, 1].
        vocabulary: the caption words (`TextConditionedGAN.vocabulary`; ids 2, 3, ... in that order).
        num_classes: must be None (captions replace class labels).

    Raises:
        UsageError: a generator not on `[latents, tokens]`, a missing vocabulary, or a class count.

    Example:
    >>> module = CaptionModule(gan.generator, gan.vocabulary)
    >>> module.from_captions(latents, tf.constant(["the digit one"]))["images"].shape
    TensorShape([1, 28, 28, 1])
    """

    KIND = TEXT

    @classmethod
    def create(cls, generator, num_classes=None, vocabulary=None):
        return cls(generator, vocabulary, num_classes)

    def __init__(self, generator: keras.Model, vocabulary: Sequence[str], num_classes: Optional[int] = None):
        super().__init__(generator, "tfgan_caption_generator")
        spec = self.spec
        if num_classes:
            raise UsageError(f"num_classes={num_classes} was given but the text-conditioned generator takes "
                             "captions, not labels; pass num_classes=None.")
        if not vocabulary:
            raise UsageError("A text-conditioned generator needs its caption vocabulary to be exported; pass "
                             "vocabulary=... (TextConditionedGAN.vocabulary, or the run's config.json 'vocabulary').")
        self.latent_dim, self.sequence_length = spec["latent_dim"], spec["sequence_length"]
        self.vocabulary = [str(word) for word in vocabulary]
        self.vectorizer = make_vectorizer(self.vocabulary, self.sequence_length)
        specs = self.behaviour.input_specs(spec)
        latents = specs["latents"]
        captions = tf.TensorSpec([None], tf.string, name="captions")
        seed = tf.TensorSpec([], tf.int64, name="seed")
        self.serving_default = tf.function(
            lambda latents, tokens: {"images": self._images(latents, tokens)},
            input_signature=[latents, specs["tokens"]])
        self.from_captions = tf.function(
            lambda latents, captions: {"images": self._images(latents, self._tokens(captions))},
            input_signature=[latents, captions])
        self.generate_from_captions = tf.function(
            lambda seed, captions: {"images": self._seeded(seed, captions)}, input_signature=[seed, captions])
        self.generate_from_captions_png = tf.function(
            lambda seed, captions: {"png_bytes": _encode_png(self._seeded(seed, captions))},
            input_signature=[seed, captions])

    @property
    def vocab_size(self) -> int:
        """Number of token ids: padding (0), unknown (1) and the vocabulary words."""
        return len(self.vocabulary) + 2

    def _tokens(self, captions: tf.Tensor) -> tf.Tensor:
        return tf.cast(self.vectorizer(captions), tf.int32)

    def _images(self, latents: tf.Tensor, tokens: tf.Tensor) -> tf.Tensor:
        with tf.control_dependencies(_id_checks(tokens, latents, self.vocab_size, "tokens", "row",
                                                f"{self.vocab_size} (vocabulary size + 2; 0 is padding)")):
            return self.generator([latents, tokens], training=False)

    def _seeded(self, seed: tf.Tensor, captions: tf.Tensor) -> tf.Tensor:
        latents = sample_latents(tf.shape(captions)[0], self.latent_dim, seed)
        return images_to_uint8(self._images(latents, self._tokens(captions)))

    def _kind_metadata(self) -> Dict:
        return {"latent_dim": self.latent_dim, "sequence_length": self.sequence_length,
                "vocabulary": self.vocabulary, "num_classes": None}


def _id_checks(ids: tf.Tensor, latents: tf.Tensor, limit: int, name: str, unit: str, limit_text: str) -> list:
    """Graph assertions that integer `ids` (labels or tokens) hold one `unit` per latent row and lie in
    `[0, limit)`; a served request that breaks them fails with these messages, not an index error."""
    return [
        tf.debugging.assert_equal(tf.shape(ids)[0], tf.shape(latents)[0],
                                  message=f"{name} must hold one {unit} per latent row"),
        tf.debugging.assert_non_negative(ids, message=f"{name} must be >= 0"),
        tf.debugging.assert_less(ids, tf.constant(limit, tf.int32), message=f"{name} must be < {limit_text}"),
    ]


def _encode_png(images_uint8: tf.Tensor) -> tf.Tensor:
    return tf.map_fn(tf.io.encode_png, images_uint8, fn_output_signature=tf.string)


def make_module(generator: keras.Model, num_classes: Optional[int] = None,
                vocabulary: Optional[Sequence[str]] = None) -> tf.Module:
    """`TranslatorModule` for an image-to-image generator, `CaptionModule` for a text-conditioned one
    (which needs `vocabulary`), `GeneratorModule` otherwise."""
    return MODULES[model_kind(generator)].create(generator, num_classes, vocabulary)


MODULES = {LATENT: GeneratorModule, IMAGE_TO_IMAGE: TranslatorModule, TEXT: CaptionModule}


def save_for_serving(module: tf.Module, path: str) -> None:
    """Writes the signatures of `module` (a `GeneratorModule`, `TranslatorModule` or `CaptionModule`)
    with Keras' `keras.export.ExportArchive`, so TensorFlow's C++ `LoadSavedModel` (TF Serving,
    `saved_model_cli run`) runs them, not only Python's `tf.saved_model.load`.

    Why not `tf.saved_model.save(module)`: the module's object graph then holds the Keras 3 variables
    (`keras.Variable` wrappers around a `tf.Variable`). Saving one exports its inner `tf.Variable`
    as the graph variable `batch_normalization/gamma`, which the signature functions capture, but
    registers a *new* graph variable (`Variable_N`, `tf.Variable(inner)`) as the wrapper's
    checkpointed object, and the SavedModel's restore op writes the checkpoint into those copies
    only. Python's object loader rebinds each function capture to the restored object, so it
    works; a TF1 session runs the functions on the never-restored `batch_normalization/gamma` and
    fails with "FAILED_PRECONDITION: Could not find variable batch_normalization/gamma".

    `ExportArchive` roots the SavedModel at a plain trackable and tracks exactly the `tf.Variable`s
    the endpoint functions capture (`_all_variables/N`), so restore and functions share the same
    graph variables. The generator is deliberately not `track()`ed: that would also save its
    `keras.Variable` wrappers (every weight written twice) and is not needed for serving. The
    caption vectorizer is tracked so its lookup table is saved and initialised by the init op.

    Args:
        module: the module of `make_module`, its signatures not necessarily traced yet.
        path: the SavedModel directory to write.

    Example:
    >>> save_for_serving(make_module(generator), "/tmp/sm")   # then: saved_model_cli run --dir /tmp/sm ...
    """
    archive = keras.export.ExportArchive()
    names = list(module.signatures())  # traces each tf.function (ExportArchive's fast path needs a trace)
    vectorizer = getattr(module, "vectorizer", None)
    if vectorizer is not None:
        archive.track(vectorizer)
    for name in names:
        archive.add_endpoint(name, getattr(module, name))
    archive.write_out(path, verbose=False)


def write_savedmodel(generator: keras.Model, path: str, num_classes: Optional[int] = None,
                     vocabulary: Optional[Sequence[str]] = None) -> Dict:
    """Writes `generator` as a SavedModel with the serving signatures to `path`; returns its metadata.

    Latent generators get `SIGNATURES`, image-to-image ones `TRANSLATOR_SIGNATURES`, text-conditioned ones
    (with their `vocabulary`) `TEXT_SIGNATURES`. Low level: writes into `path` as given (no versioning, no
    warm-up). Use `tfgan_app.export.export_generator` for the TF Serving layout.

    Args:
        generator: a Keras generator of any kind.
        path: the SavedModel folder to write.
        num_classes: class count of a conditional latent generator, None otherwise.
        vocabulary: caption words of a text-conditioned generator, None otherwise.

    Returns:
        The description also written to `path/assets.extra/tfgan_model.json` (kind, shapes, signatures).

    Example:
    >>> write_savedmodel(generator, "/tmp/sm")["signatures"][0]
    'serving_default'
    """
    module = make_module(generator, num_classes, vocabulary)
    save_for_serving(module, path)
    metadata = module.metadata()
    os.makedirs(os.path.join(path, "assets.extra"), exist_ok=True)
    with open(os.path.join(path, METADATA_FILE), "w") as f:
        json.dump(metadata, f, indent=2)
    return metadata


def example_inputs(signature: str, metadata: Dict, num_images: int = 2, seed: int = 0) -> Dict[str, np.ndarray]:
    """Small valid inputs for `signature` (used for warm-up requests, tests and benchmarks): the
    `ExportKind.example_inputs` of the kind `metadata` records (latent when it records none).

    Image-to-image models get mid-grey (zero) images, as floats or as PNG bytes; text-conditioned
    models get `example_captions` (as strings, or as token ids for `serving_default`).
    """
    return export_kind(read_kind(metadata, METADATA_FILE)).example_inputs(signature, metadata, num_images, seed)
