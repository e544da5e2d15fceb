"""Per-kind export behaviour behind one small interface, dispatched on the generator's `Kind`.

What differs between latent, image-to-image and text-conditioned generators when they are exported lives
here, once per kind, instead of branches on the kind in every writer:

| `ExportKind` member      | used by                                             |
| ------------------------ | --------------------------------------------------- |
| `signatures`             | the SavedModel module's signature set               |
| `spec(generator)`        | the shapes the module and the TFLite converter read |
| `input_specs(spec)`      | `serving_default` inputs = TFLite inputs, in order  |
| `model_inputs(...)`      | TFLite calibration and parity inputs                |
| `example_inputs(...)`    | warm-up requests, compatibility checks, tests       |
| `tflite_description(...)`, `calibration_set(...)` | the TFLite sidecar         |
| `skip_failed_quantizations` | whether a failed TFLite file is skipped or fatal  |
| `run_calibration_images`, `calibration_images`, `calibration_summary` | int8 calibration on a run's data |
| `check_web(name)`        | whether the browser page can run the generator       |

`export_kind(kind)` returns the behaviour of a `Kind` (or of its string, as read from `tfgan_model.json`).

Example:
>>> behaviour = export_kind(model_kind(generator))
>>> list(behaviour.input_specs(behaviour.spec(generator)))
['latents', 'labels']
"""

from typing import Dict, List, Optional, Sequence, Tuple, Union

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_app.artifacts.layout import CLASS_IDS_SIGNATURE
from tfgan_app.artifacts.kind import IMAGE_TO_IMAGE, LATENT, TEXT, Kind, generator_spec, text_spec, translator_spec
from tfgan_app.data import load_dataset
from tfgan_app.data.captions import make_vectorizer
from tfgan_app.errors import TfganError, UsageError
from tfgan_app.images import tf_to_uint8
from tfgan_app.latent import sample_latents

SIGNATURES = ("serving_default", "generate", "generate_png", "generate_truncated", "generate_truncated_png")
TRANSLATOR_SIGNATURES = ("serving_default", "translate_png")
TEXT_SIGNATURES = ("serving_default", "from_captions", "generate_from_captions", "generate_from_captions_png")
CALIBRATION_SEED = 1234
PARITY_SEED = 4321
_PARITY_SET = {"reference": "SavedModel serving_default", "seed": PARITY_SEED}


def random_images(num_images: int, input_shape: Sequence[int], seed: int) -> np.ndarray:
    """`num_images` images `[N, *input_shape]` uniform in [-1, 1] (calibration / parity inputs of
    image-to-image generators)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=(num_images, *input_shape)).astype(np.float32)


def random_tokens(num_captions: int, sequence_length: int, num_words: int, seed: int) -> np.ndarray:
    """Token ids int32 `[N, sequence_length]` of random captions over a vocabulary of `num_words` words
    (calibration / parity inputs of text-conditioned generators): each row holds 1..sequence_length ids
    drawn uniformly from `[1, num_words + 2)` (1 is the unknown word, 2.. the words), then padding (0)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, sequence_length + 1, size=num_captions)
    ids = rng.integers(1, num_words + 2, size=(num_captions, sequence_length))
    return np.where(np.arange(sequence_length) < lengths[:, None], ids, 0).astype(np.int32)


def training_inputs(config: Dict, input_shape: Sequence[int], num_images: int = 256,
                    direction: str = "a_to_b") -> Optional[np.ndarray]:
    """`num_images` generator inputs from an image-to-image run's own training data, or None.

    Reads `config["dataset"]` (a run directory's config.json) with `tfgan_app.data.load_dataset`
    (shuffled with `CALIBRATION_SEED`, the config's image_size / channels) and keeps the first
    element of each example: the pix2pix / SRGAN input, CycleGAN domain A (domain B for
    `direction="b_to_a"`). Returns None, with a logged warning, when the dataset cannot be loaded
    here or its images do not have `input_shape`; fewer images when the dataset is smaller.

    Example:
    >>> images = training_inputs({"dataset": "paired:mnist_lowres"}, [14, 14, 1], num_images=8)
    >>> images.shape
    (8, 14, 14, 1)
    """
    spec = config.get("dataset")
    if not spec:
        return None
    try:
        info = load_dataset(spec, batch_size=1, shuffle=True, seed=CALIBRATION_SEED,
                            image_size=config.get("image_size"), channels=config.get("channels"))
        images = [np.asarray(example[1 if direction == "b_to_a" else 0])[0]
                  for example in info.dataset.take(num_images)]
    except (TfganError, OSError, ValueError, tf.errors.OpError) as e:
        logging.warning("int8 calibration falls back to noise images: dataset %r cannot be read here (%s).",
                        spec, str(e).splitlines()[0] if str(e) else type(e).__name__)
        return None
    if not images or list(images[0].shape) != list(input_shape):
        logging.warning("int8 calibration falls back to noise images: dataset %r gives %s images, the generator "
                        "takes %s.", spec, list(images[0].shape) if images else "no", list(input_shape))
        return None
    return np.stack(images).astype(np.float32)


def example_captions(vocabulary: Sequence[str], num_captions: int) -> List[str]:
    """`num_captions` captions of three consecutive vocabulary words each (valid input for any vocabulary)."""
    return [" ".join(vocabulary[(i + k) % len(vocabulary)] for k in range(3)) for i in range(num_captions)]


class ExportKind:
    """The export behaviour of one `Kind` (see the module docstring); subclasses fill it in."""

    kind: Kind
    signatures: Tuple[str, ...]
    skip_failed_quantizations = True  # newer to TFLite: keep the SavedModel and the other files

    def spec(self, generator: keras.Model) -> Dict:
        """The generator's shapes (`UsageError` unless it has this kind's inputs)."""
        raise NotImplementedError

    def input_specs(self, spec: Dict) -> Dict[str, tf.TensorSpec]:
        """The `serving_default` inputs, which are also the TFLite model's inputs in the same order."""
        raise NotImplementedError

    def model_inputs(self, spec: Dict, num_samples: int, seed: int, num_classes: Optional[int],
                     vocabulary: Optional[Sequence[str]]) -> Dict[str, np.ndarray]:
        """Synthetic inputs for TFLite calibration and parity, keyed like `input_specs`."""
        raise NotImplementedError

    def example_inputs(self, signature: str, metadata: Dict, num_images: int, seed: int) -> Dict[str, np.ndarray]:
        """Small valid inputs for `signature` of an export described by `metadata`."""
        raise NotImplementedError

    def tflite_description(self, num_classes: Optional[int], parity_samples: int) -> Dict:
        """The sidecar's description of the TFLite inputs and of the parity set."""
        raise NotImplementedError

    def calibration_set(self, num_samples: int, calibration_images: Optional[np.ndarray]) -> Dict:
        """How the int8 calibration inputs were drawn (recorded in the sidecar)."""
        return {"num_latents": num_samples, "seed": CALIBRATION_SEED}

    def run_calibration_images(self, generator: keras.Model, config: Dict,
                               direction: str = "a_to_b") -> Optional[np.ndarray]:
        """int8 calibration inputs from a training run's own data (`training_inputs`), or None: only generators
        whose inputs are images calibrate on data; the others calibrate on sampled latents."""
        return None

    def calibration_images(self, calibration_images: Optional[np.ndarray]) -> Optional[np.ndarray]:
        """The calibration images this kind uses of those given (None: it calibrates on its `model_inputs`)."""
        return None

    def calibration_summary(self, calibration_images: Optional[np.ndarray]) -> Dict:
        """The sidecar's top-level note on what int8 was calibrated on ({} where it is always `model_inputs`)."""
        return {}

    def check_web(self, name: str) -> None:
        """Raises `UsageError` if generators of this kind cannot run in the browser page (`tfgan export --web`)."""

    def _unknown(self, signature: str) -> UsageError:
        return UsageError(f"Unknown signature {signature!r}; expected one of {self.signatures}.")


class LatentExport(ExportKind):
    """Latents (+ labels for class-conditional generators) -> images."""

    kind, signatures = LATENT, SIGNATURES
    skip_failed_quantizations = False

    def spec(self, generator):
        return generator_spec(generator)

    def input_specs(self, spec):
        specs = {"latents": tf.TensorSpec([None, spec["latent_dim"]], tf.float32, name="latents")}
        if spec["conditional"]:
            specs["labels"] = tf.TensorSpec([None], tf.int32, name="labels")
        return specs

    def model_inputs(self, spec, num_samples, seed, num_classes, vocabulary):
        inputs = {"latents": sample_latents(num_samples, spec["latent_dim"], seed).numpy()}
        if num_classes:
            inputs["labels"] = (np.arange(num_samples) % num_classes).astype(np.int32)
        return inputs

    def example_inputs(self, signature, metadata, num_images, seed):
        labels = {}
        if metadata["num_classes"]:
            labels = {"labels": (np.arange(num_images) % metadata["num_classes"]).astype(np.int32)}
        if signature == "serving_default":
            return {"latents": sample_latents(num_images, metadata["latent_dim"], seed).numpy(), **labels}
        if signature in ("generate", "generate_png"):
            return {"seed": np.array(seed, np.int64), "num_images": np.array(num_images, np.int32), **labels}
        if signature in ("generate_truncated", "generate_truncated_png"):
            return {"seed": np.array(seed, np.int64), "num_images": np.array(num_images, np.int32), **labels,
                    "truncation": np.array(0.7, np.float32)}
        if signature == CLASS_IDS_SIGNATURE and labels:
            return {}
        raise self._unknown(signature)

    def tflite_description(self, num_classes, parity_samples):
        return {"inputs": {"latents": "float32 [N, latent_dim]", **({"labels": "int32 [N]"} if num_classes else {})},
                "parity": {**_PARITY_SET, "num_latents": parity_samples}}


class ImageToImageExport(ExportKind):
    """Images `[None, H, W, C]` in [-1, 1] -> images (pix2pix, SRGAN, CycleGAN)."""

    kind, signatures = IMAGE_TO_IMAGE, TRANSLATOR_SIGNATURES

    def spec(self, generator):
        return translator_spec(generator)

    def input_specs(self, spec):
        return {"images": tf.TensorSpec([None, *spec["input_shape"]], tf.float32, name="images")}

    def model_inputs(self, spec, num_samples, seed, num_classes, vocabulary):
        return {"images": random_images(num_samples, spec["input_shape"], seed)}

    def example_inputs(self, signature, metadata, num_images, seed):
        zeros = np.zeros([num_images, *metadata["input_shape"]], np.float32)  # mid-grey
        if signature == "serving_default":
            return {"images": zeros}
        if signature == "translate_png":
            pixels = tf_to_uint8(tf.constant(zeros)).numpy()
            return {"png_bytes": np.array([tf.io.encode_png(p).numpy() for p in pixels], dtype=object)}
        raise self._unknown(signature)

    def tflite_description(self, num_classes, parity_samples):
        return {"inputs": {"images": "float32 [N, H, W, C] in [-1, 1]"},
                "parity": {**_PARITY_SET, "num_images": parity_samples, "images": "uniform in [-1, 1]"}}

    def run_calibration_images(self, generator, config, direction="a_to_b"):
        return training_inputs(config, self.spec(generator)["input_shape"], direction=direction)

    def calibration_images(self, calibration_images):
        return calibration_images

    def calibration_summary(self, calibration_images):
        return {"calibration": "noise" if calibration_images is None else "training_inputs"}

    def calibration_set(self, num_samples, calibration_images):
        if calibration_images is not None:
            return {"inputs": "training_inputs", "num_images": len(calibration_images),
                    "images": "the run's training inputs (config.json dataset), shuffled", "seed": CALIBRATION_SEED}
        return {"inputs": "noise", "num_images": num_samples, "images": "uniform in [-1, 1]",
                "seed": CALIBRATION_SEED}


class TextExport(ExportKind):
    """Latents + caption token ids `[None, L]` -> images; the export carries the caption vocabulary."""

    kind, signatures = TEXT, TEXT_SIGNATURES

    def spec(self, generator):
        return text_spec(generator)

    def input_specs(self, spec):
        return {"latents": tf.TensorSpec([None, spec["latent_dim"]], tf.float32, name="latents"),
                "tokens": tf.TensorSpec([None, spec["sequence_length"]], tf.int32, name="tokens")}

    def model_inputs(self, spec, num_samples, seed, num_classes, vocabulary):
        if not vocabulary:
            raise UsageError("A text-conditioned generator needs its vocabulary for TFLite export; pass "
                             "vocabulary=... (the run's config.json 'vocabulary').")
        return {"latents": sample_latents(num_samples, spec["latent_dim"], seed).numpy(),
                "tokens": random_tokens(num_samples, spec["sequence_length"], len(vocabulary), seed)}

    def example_inputs(self, signature, metadata, num_images, seed):
        captions = example_captions(metadata["vocabulary"], num_images)
        latents = sample_latents(num_images, metadata["latent_dim"], seed).numpy()
        if signature == "serving_default":
            vectorizer = make_vectorizer(metadata["vocabulary"], metadata["sequence_length"])
            return {"latents": latents, "tokens": np.asarray(vectorizer(captions), np.int32)}
        strings = np.array(captions, dtype=object)
        if signature == "from_captions":
            return {"latents": latents, "captions": strings}
        if signature in ("generate_from_captions", "generate_from_captions_png"):
            return {"seed": np.array(seed, np.int64), "captions": strings}
        raise self._unknown(signature)

    def tflite_description(self, num_classes, parity_samples):
        return {"inputs": {"latents": "float32 [N, latent_dim]",
                           "tokens": "int32 [N, sequence_length]: ids of tfgan_app.data.captions.make_vectorizer("
                                     "vocabulary, sequence_length), 0 padding, 1 unknown word"},
                "parity": {**_PARITY_SET, "num_latents": parity_samples, "tokens": "random_tokens"}}

    def calibration_set(self, num_samples, calibration_images):
        return {"num_latents": num_samples, "tokens": "random_tokens", "seed": CALIBRATION_SEED}

    def check_web(self, name):
        raise UsageError(f"--web runs latent and image-to-image generators; {name!r} is text-conditioned (its "
                         "caption tokenizer does not run in the page). Use `tfgan serve` for it.")


EXPORT_KINDS = {behaviour.kind: behaviour for behaviour in (LatentExport(), ImageToImageExport(), TextExport())}


def export_kind(kind: Union[Kind, str]) -> ExportKind:
    """The export behaviour of `kind` (a `Kind` or its string from `tfgan_model.json`)."""
    try:
        return EXPORT_KINDS[Kind(kind)]
    except ValueError as e:
        raise UsageError(f"Expected a generator kind in {[str(k) for k in Kind]}, received {kind!r}.") from e
