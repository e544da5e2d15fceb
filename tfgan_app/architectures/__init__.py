"""Generator and discriminator builders, by name.

Architectures know nothing of losses or training: each builder returns a plain
`keras.Model`. Generators: `builder(latent_dim, image_shape, num_classes=None, **options)`
with inputs `z` (and int32 `labels` when conditional) and float32 output in [-1, 1].
Discriminators: `builder(image_shape, num_classes=None, **options)` returning logits.

Image- and token-input networks (U-Net, PatchGAN, SRGAN, text) do not fit those signatures; their GAN
classes build them in `from_preset`. They are imported here too, so that importing this package registers
every custom layer a saved `.keras` model may contain.
"""

from typing import Callable, Dict

import keras

from tfgan_app.architectures.dcgan import dcgan_discriminator, dcgan_generator
from tfgan_app.architectures.mlp import mlp_discriminator, mlp_generator
from tfgan_app.architectures.patchgan import patchgan_discriminator
from tfgan_app.architectures.srgan import srgan_generator
from tfgan_app.architectures.stylegan import stylegan_discriminator, stylegan_generator
from tfgan_app.architectures.text import text_discriminator, text_generator
from tfgan_app.architectures.unet import unet_generator
from tfgan_app.architectures.variants import extended_discriminator, infogan_generator
from tfgan_app.errors import UsageError

GENERATORS: Dict[str, Callable[..., keras.Model]] = {
    "dcgan": dcgan_generator, "mlp": mlp_generator, "stylegan": stylegan_generator, "infogan": infogan_generator}
DISCRIMINATORS: Dict[str, Callable[..., keras.Model]] = {
    "dcgan": dcgan_discriminator, "mlp": mlp_discriminator, "stylegan": stylegan_discriminator,
    "extended": extended_discriminator}


def _lookup(table: Dict[str, Callable[..., keras.Model]], kind: str, name: str) -> Callable[..., keras.Model]:
    if name not in table:
        raise UsageError(f"Unknown {kind} architecture {name!r}. Valid names: {', '.join(sorted(table))}.")
    return table[name]


def build_generator(name: str, latent_dim: int, image_shape, num_classes=None, **options) -> keras.Model:
    """Builds the generator architecture registered as `name`."""
    try:
        return _lookup(GENERATORS, "generator", name)(latent_dim, image_shape, num_classes, **options)
    except TypeError as e:
        raise UsageError(f"Bad options for generator {name!r}: {e}") from e


def build_discriminator(name: str, image_shape, num_classes=None, **options) -> keras.Model:
    """Builds the discriminator architecture registered as `name`."""
    try:
        return _lookup(DISCRIMINATORS, "discriminator", name)(image_shape, num_classes, **options)
    except TypeError as e:
        raise UsageError(f"Bad options for discriminator {name!r}: {e}") from e


__all__ = ["GENERATORS", "DISCRIMINATORS", "build_generator", "build_discriminator",
           "dcgan_generator", "dcgan_discriminator", "mlp_generator", "mlp_discriminator",
           "stylegan_generator", "stylegan_discriminator", "extended_discriminator", "infogan_generator",
           "unet_generator", "patchgan_discriminator", "srgan_generator", "text_generator", "text_discriminator"]
