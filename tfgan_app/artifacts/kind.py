"""A generator's kind, detected once from the Keras model and written into its description at export.

Three kinds, each with its own export module, signatures, TFLite inputs and example inputs
(`tfgan_app.export.savedmodel` dispatches on them):

* `Kind.LATENT`: latents `[None, D]` -> images; class-conditional generators are latent generators that
  also take labels `[None]` (`conditional` / `num_classes` in the description). They share signatures,
  warm-up and TFLite code with the unconditional ones, so conditioning is a flag, not a kind.
* `Kind.IMAGE_TO_IMAGE`: images `[None, H, W, C]` -> images (pix2pix, SRGAN, CycleGAN).
* `Kind.TEXT`: latents + caption tokens `[None, L]` -> images.

`Kind` is a `str` enum, so `Kind.LATENT == "latent"` and it is written to JSON as the plain string.
After export a generator's kind comes from `tfgan_model.json` / the TFLite sidecar (`tfgan_app.artifacts.layout`),
not re-derived from shapes.

Example:
>>> model_kind(keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)]))
<Kind.LATENT: 'latent'>
"""

import dataclasses
import enum
from typing import Dict, Iterable, Optional, Tuple

import keras

from tfgan_app.errors import MissingResourceError, UsageError


@dataclasses.dataclass(frozen=True)
class KindInputs:
    """The named inputs of one kind's `serving_default` signature (and of its TFLite files).

    Attributes:
        primary: the input every call feeds: "latents" or "images".
        condition: the second input, "labels" (class-conditional latent generators only), "tokens"
            (always, for text generators) or None.
        condition_required: whether every generator of the kind has the condition input.
        quantization_key: the name `TFLiteGenerator.quantization_params` gives the primary input.
    """

    primary: str
    condition: Optional[str]
    condition_required: bool
    quantization_key: str

    @property
    def takes_latents(self) -> bool:
        """Whether the primary input is a latent vector (`latent_dim`) rather than an image."""
        return self.primary == "latents"

    @property
    def required(self) -> Tuple[str, ...]:
        """The input names every generator of the kind has."""
        return (self.primary,) + ((self.condition,) if self.condition_required else ())


class Kind(str, enum.Enum):
    """What a generator maps from: latents, images or latents + captions.

    Each member knows its inputs (`Kind.inputs`, a `KindInputs`), so code that feeds a generator reads
    them instead of branching on the kind.

    Example:
    >>> Kind("text").inputs.required
    ('latents', 'tokens')
    """

    LATENT = "latent"
    IMAGE_TO_IMAGE = "image_to_image"
    TEXT = "text"

    def __str__(self) -> str:
        return self.value

    @property
    def inputs(self) -> KindInputs:
        """The kind's input names (`KindInputs`)."""
        return _INPUTS[self]


LATENT, IMAGE_TO_IMAGE, TEXT = Kind.LATENT, Kind.IMAGE_TO_IMAGE, Kind.TEXT
_INPUTS = {LATENT: KindInputs("latents", "labels", False, "latents"),
           IMAGE_TO_IMAGE: KindInputs("images", None, False, "input_images"),
           TEXT: KindInputs("latents", "tokens", True, "latents")}


def is_image_to_image(generator: keras.Model) -> bool:
    """True for a generator whose single input is a 4-D image batch `[None, H, W, C]`."""
    return len(generator.inputs) == 1 and len(generator.inputs[0].shape) == 4


def is_text_conditioned(generator: keras.Model) -> bool:
    """True for a generator on `[latents [None, D], tokens [None, L]]` (caption token ids), e.g.
    `tfgan_app.architectures.text_generator`; class-conditional generators take labels `[None]` instead."""
    inputs = generator.inputs
    return len(inputs) == 2 and len(inputs[0].shape) == 2 and len(inputs[1].shape) == 2


def is_conditional(generator: keras.Model) -> bool:
    """True for a class-conditional latent generator (`[latents [None, D], labels [None]]`)."""
    return len(generator.inputs) == 2 and not is_text_conditioned(generator)


def embedding_classes(generator: keras.Model) -> Optional[int]:
    """The class count of a conditional generator, read from its label `Embedding` (None if it has none)."""
    for layer in generator.layers:
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
    return None


def read_kind(description: Dict, source: str) -> Kind:
    """The `Kind` an exported model's description (`tfgan_model.json`, TFLite sidecar) states.

    The one reader of the written kind. A description without `kind` (written before it was
    recorded) is `LATENT`, the only kind there was; any other value is a `MissingResourceError`
    naming `source` (the file the description came from).

    Example:
    >>> read_kind({"kind": "image_to_image"}, "generator.json")
    <Kind.IMAGE_TO_IMAGE: 'image_to_image'>
    """
    value = description.get("kind", LATENT)
    try:
        return Kind(value)
    except ValueError:
        raise MissingResourceError(f"{source} states kind={value!r}; expected one of "
                                   f"{', '.join(k.value for k in Kind)}. Re-export the model with this version of "
                                   "tfgan_app.") from None


def signature_kind(input_names: Iterable[str], source: str) -> Kind:
    """The kind of a generator that carries no description (a foreign SavedModel or `.tflite` file, a served
    model), decided once from its input names (`serving_default`'s keys or TFLite tensor names, which
    contain them): `tokens` → text, `images` without `latents` → image-to-image, `latents` → latent.

    Args:
        input_names: the generator's input names.
        source: what the names were read from, for the error (e.g. "'g.tflite' (no generator.json next to
            it)").

    Returns:
        The `Kind`.

    Raises:
        MissingResourceError: the names match none of the kinds, or both `images` and `latents`.

    Example:
    >>> signature_kind(["serving_default_latents:0", "serving_default_tokens:0"], "generator.tflite")
    <Kind.TEXT: 'text'>
    """
    names = sorted(input_names)
    has = {role: any(role in name for name in names) for role in ("latents", "tokens", "images")}
    if has["images"] == has["latents"]:
        raise MissingResourceError(
            f"{source}: its inputs do not say its kind (expected 'latents' or 'images'); export it with "
            f"`tfgan export`. Received: inputs={names}")
    if has["images"]:
        return IMAGE_TO_IMAGE
    return TEXT if has["tokens"] else LATENT


def model_kind(generator: keras.Model) -> Kind:
    """The kind of a Keras generator, detected once from its inputs (the export writes it down).

    Args:
        generator: a Keras generator.

    Returns:
        `IMAGE_TO_IMAGE` for one `[None, H, W, C]` input, `TEXT` for `[latents, tokens]`, else `LATENT`.

    Example:
    >>> model_kind(keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 3, padding="same")]))
    <Kind.IMAGE_TO_IMAGE: 'image_to_image'>
    """
    if is_image_to_image(generator):
        return IMAGE_TO_IMAGE
    return TEXT if is_text_conditioned(generator) else LATENT


def _image_shape(generator: keras.Model) -> list:
    """`[H, W, C]` of the generator's image output; `UsageError` unless it is `[None, H, W, C]` with fixed dims."""
    output_shape = tuple(generator.outputs[0].shape)
    if len(output_shape) != 4 or None in output_shape[1:]:
        raise UsageError(f"Expected generator output [None, H, W, C], received {output_shape}.")
    return [int(d) for d in output_shape[1:]]


def translator_spec(generator: keras.Model) -> Dict:
    """Reads `input_shape` and `image_shape` (output) off an image-to-image generator.

    Raises `UsageError` unless the model has one float `[None, H, W, C]` input with
    fixed H, W, C and a 4-D image output with fixed dims.
    """
    inputs = generator.inputs
    input_shape = tuple(inputs[0].shape) if len(inputs) == 1 else ()
    if len(inputs) != 1 or len(input_shape) != 4 or None in input_shape[1:]:
        raise UsageError(
            "Expected an image-to-image generator with one input [None, H, W, C] (fixed H, W, C), received "
            f"inputs {[tuple(i.shape) for i in inputs]}. Build it with keras.Input((H, W, C)).")
    if not str(inputs[0].dtype).startswith("float"):
        raise UsageError(f"Expected a float image input, received dtype {inputs[0].dtype}.")
    return {"kind": IMAGE_TO_IMAGE, "input_shape": [int(d) for d in input_shape[1:]],
            "image_shape": _image_shape(generator)}


def text_spec(generator: keras.Model) -> Dict:
    """Reads `latent_dim`, `sequence_length` and `image_shape` off a text-conditioned generator.

    Raises `UsageError` unless the model takes `[latents [None, D], tokens int [None, L]]`
    (fixed D and L) and outputs `[None, H, W, C]` images.
    """
    inputs = generator.inputs
    if not is_text_conditioned(generator) or inputs[0].shape[-1] is None or inputs[1].shape[-1] is None:
        raise UsageError(
            "Expected a text-conditioned generator with inputs [latents [None, latent_dim], tokens [None, "
            f"sequence_length]], received inputs {[tuple(i.shape) for i in inputs]}. Build it with "
            "tfgan_app.architectures.text_generator.")
    if not str(inputs[1].dtype).startswith("int"):
        raise UsageError(f"Expected int token ids as the second input, received dtype {inputs[1].dtype}.")
    return {"kind": TEXT, "latent_dim": int(inputs[0].shape[-1]), "sequence_length": int(inputs[1].shape[-1]),
            "image_shape": _image_shape(generator)}


def generator_spec(generator: keras.Model) -> Dict:
    """Reads `latent_dim`, `conditional` and `image_shape` off a generator that follows the contract.

    Raises `UsageError` when the model does not have the contract's inputs
    (`[None, latent_dim]` float latents, plus optional `[None]` int labels) or a
    4-D image output. Image-to-image generators have `translator_spec`, text-conditioned ones
    `text_spec` instead.
    """
    inputs = generator.inputs
    if len(inputs) not in (1, 2) or len(inputs[0].shape) != 2 or inputs[0].shape[-1] is None:
        raise UsageError(
            "Expected a generator with inputs [latents [None, latent_dim]] or [latents, labels [None]], "
            f"received inputs {[tuple(i.shape) for i in inputs]}. Build it with tfgan_app.architectures "
            "or follow the generator contract.")
    if len(inputs) == 2 and len(inputs[1].shape) != 1:
        raise UsageError(f"Expected conditional labels of shape [None], received {tuple(inputs[1].shape)}.")
    return {"kind": LATENT, "latent_dim": int(inputs[0].shape[-1]), "conditional": len(inputs) == 2,
            "image_shape": _image_shape(generator)}
