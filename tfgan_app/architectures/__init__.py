"""Generator and discriminator builders, by name.

Architectures know nothing of losses or training: each builder returns a plain
`keras.Model`. Generators: `builder(latent_dim, image_shape, num_classes=None, **options)`
with inputs `z` (and int32 `labels` when conditional) and float32 output in [-1, 1].
Discriminators: `builder(image_shape, num_classes=None, **options)` returning logits.

Image- and token-input networks (U-Net, PatchGAN, SRGAN, text, StackGAN) do not fit those signatures; their GAN
classes build them in `from_preset`. They are imported here too, so that importing this package registers
every custom layer a saved `.keras` model may contain.
"""

from typing import Callable, Dict

import keras

from tfgan_app.architectures.autoencoder import autoencoder_discriminator
from tfgan_app.architectures.biggan import biggan_discriminator, biggan_generator
from tfgan_app.architectures.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_app.architectures.mlp import mlp_discriminator, mlp_generator
from tfgan_app.architectures.patchgan import patchgan_discriminator
from tfgan_app.architectures.pggan import pggan_discriminator, pggan_generator
from tfgan_app.architectures.srgan import srgan_generator
from tfgan_app.architectures.stackgan import stackgan_generator
from tfgan_app.architectures.stylegan import stylegan_discriminator, stylegan_generator
from tfgan_app.architectures.text import text_discriminator, text_generator
from tfgan_app.architectures.unet import unet_generator
from tfgan_app.architectures.variants import extended_discriminator, infogan_generator
from tfgan_app.errors import UsageError
from tfgan_app.presets import check_options, keyword_parameters

GENERATORS: Dict[str, Callable[..., keras.Model]] = {
    "dcgan": dcgan_generator, "mlp": mlp_generator, "stylegan": stylegan_generator, "infogan": infogan_generator,
    "pggan": pggan_generator, "biggan": biggan_generator}
DISCRIMINATORS: Dict[str, Callable[..., keras.Model]] = {
    "dcgan": dcgan_discriminator, "mlp": mlp_discriminator, "stylegan": stylegan_discriminator,
    "extended": extended_discriminator, "autoencoder": autoencoder_discriminator,
    "pggan": pggan_discriminator, "biggan": biggan_discriminator}


# Builders the image-to-image and text GAN classes call in `from_preset`, by preset name (for option checks).
PRESET_BUILDERS: Dict[str, Dict[str, Callable[..., keras.Model]]] = {
    "generator": {**GENERATORS, "unet": unet_generator, "srgan": srgan_generator, "text": text_generator,
                  "stackgan": stackgan_generator},
    "discriminator": {**DISCRIMINATORS, "patchgan": patchgan_discriminator, "text": text_discriminator},
}
# Arguments the library passes to builders itself; a preset cannot set them.
RESERVED_ARGUMENTS = ("latent_dim", "image_shape", "num_classes", "input_shape", "output_channels",
                      "condition_shape", "scale", "vocab_size", "sequence_length", "name")
_BASES = {"generator": dict(GENERATORS), "discriminator": dict(DISCRIMINATORS)}  # bases of the zoo variants


def _lookup(table: Dict[str, Callable[..., keras.Model]], kind: str, name: str) -> Callable[..., keras.Model]:
    if name not in table:
        raise UsageError(f"Unknown {kind} architecture {name!r}. Valid names: {', '.join(sorted(table))}.")
    return table[name]


def check_builder_options(kind: str, name: str, options: Dict) -> None:
    """Raises `UsageError` unless `options` are keyword arguments the `kind` builder `name` accepts.

    `kind` is "generator" or "discriminator". Builders that pass `**base_options` on to a base
    architecture (`extended`, `infogan`) have the rest checked against that base's builder.

    Args:
      kind: "generator" or "discriminator" (a key of `PRESET_BUILDERS`).
      name: the registered builder name, e.g. "dcgan", "unet" or "extended".
      options: the preset's `generator_options` / `discriminator_options` dict.

    Raises:
      UsageError: for an unknown builder (or `base`) name, an option the builder does not take, a reserved
        argument the library passes itself (`latent_dim`, `image_shape`, ...) or an invalid option value.

    Example:
    >>> check_builder_options("generator", "dcgan", {"base_filters": -3})
    Traceback (most recent call last):
    UsageError: generator_options.base_filters must be a positive integer (default 64), received -3.
    """
    builder = _lookup(PRESET_BUILDERS[kind], kind, name)
    parameters = keyword_parameters(builder)
    field, owner = f"{kind}_options", f"{kind} {name!r}"
    if "base" in parameters:  # a zoo variant: its own options, the rest go to the base builder
        own = {k: v for k, v in options.items() if k in parameters}
        check_options(field, own, parameters, RESERVED_ARGUMENTS, owner)
        base = options.get("base", parameters["base"].default)
        base_builder = _lookup(_BASES[kind], f"base {kind}", base)
        rest = {k: v for k, v in options.items() if k not in parameters}
        check_options(field, rest, {**keyword_parameters(base_builder), **parameters}, RESERVED_ARGUMENTS,
                      f"{owner} (base {base!r})")
        return
    check_options(field, options, parameters, RESERVED_ARGUMENTS, owner)


def build_generator(name: str, latent_dim: int, image_shape, num_classes=None, **options) -> keras.Model:
    """Builds the generator architecture registered as `name` (options checked by `check_builder_options`).

    Args:
      name: a key of `GENERATORS` ("dcgan", "mlp", "stylegan" or "infogan").
      latent_dim: size of z.
      image_shape: `(H, W, C)` of the generated images.
      num_classes: if set, a conditional generator taking `[z, labels]`.
      **options: keyword options of that builder (e.g. `base_filters`).

    Returns:
      The uncompiled generator `keras.Model`, float32 images in [-1, 1].

    Raises:
      UsageError: for an unknown name or a bad option (see `check_builder_options`).

    Example:
    >>> build_generator("dcgan", 64, (28, 28, 1), base_filters=16).output_shape
    (None, 28, 28, 1)
    """
    builder = _lookup(GENERATORS, "generator", name)
    check_builder_options("generator", name, options)
    return builder(latent_dim, image_shape, num_classes, **options)


def build_discriminator(name: str, image_shape, num_classes=None, **options) -> keras.Model:
    """Builds the discriminator architecture registered as `name` (options checked by `check_builder_options`).

    Args:
      name: a key of `DISCRIMINATORS` ("dcgan", "mlp", "stylegan", "extended" or "autoencoder").
      image_shape: `(H, W, C)` of the judged images.
      num_classes: if set, a conditional discriminator taking `[images, labels]`.
      **options: keyword options of that builder (e.g. `base_filters`, `dropout`).

    Returns:
      The uncompiled discriminator `keras.Model` (logits, no sigmoid; the auto-encoder returns
      `[reconstructions, codes]`).

    Raises:
      UsageError: for an unknown name or a bad option (see `check_builder_options`).

    Example:
    >>> build_discriminator("dcgan", (28, 28, 1), base_filters=16).output_shape
    (None, 1)
    """
    builder = _lookup(DISCRIMINATORS, "discriminator", name)
    check_builder_options("discriminator", name, options)
    return builder(image_shape, num_classes, **options)


__all__ = ["GENERATORS", "DISCRIMINATORS", "PRESET_BUILDERS", "build_generator", "build_discriminator",
           "check_builder_options",
           "dcgan_generator", "dcgan_discriminator", "mlp_generator", "mlp_discriminator",
           "stylegan_generator", "stylegan_discriminator", "extended_discriminator", "infogan_generator",
           "unet_generator", "patchgan_discriminator", "srgan_generator", "text_generator", "text_discriminator",
           "stackgan_generator",
           "autoencoder_discriminator", "pggan_generator", "pggan_discriminator", "biggan_generator",
           "biggan_discriminator"]
