"""GAN models: the `GAN` base class and its variants, by name.

`GAN_CLASSES` maps the names used in presets (`"gan": "dcgan"`) to classes.
"""

from typing import Dict, Type

from tfgan_app.errors import UsageError
from tfgan_app.gans.acgan import ACGAN
from tfgan_app.gans.base import GAN
from tfgan_app.gans.conditional import ConditionalGAN
from tfgan_app.gans.cyclegan import CycleGAN
from tfgan_app.gans.improved import TECHNIQUE_OPTIONS, ImprovedTechniques, with_techniques
from tfgan_app.gans.infogan import InfoGAN
from tfgan_app.gans.packing import packed_shape
from tfgan_app.gans.pix2pix import Pix2Pix
from tfgan_app.gans.relativistic import RelativisticGAN
from tfgan_app.gans.sgan import SGAN
from tfgan_app.gans.srgan import SRGAN
from tfgan_app.gans.stylegan import StyleGAN
from tfgan_app.gans.text_conditioned import TextConditionedGAN
from tfgan_app.gans.unrolled import UnrolledGAN
from tfgan_app.gans.wgan import WGAN, WGANGP

GAN_CLASSES: Dict[str, Type[GAN]] = {
    "gan": GAN,
    "conditional": ConditionalGAN,
    "wgan": WGAN,
    "wgan_gp": WGANGP,
    "relativistic": RelativisticGAN,
    "acgan": ACGAN,
    "infogan": InfoGAN,
    "sgan": SGAN,
    "unrolled": UnrolledGAN,
    "pix2pix": Pix2Pix,
    "cyclegan": CycleGAN,
    "srgan": SRGAN,
    "stylegan": StyleGAN,
    "text_conditioned": TextConditionedGAN,
}

# Create and register Improved<Class> for every class now, so that a saved gan.keras of a GAN trained
# with improved techniques loads in a fresh process.
for _cls in list(GAN_CLASSES.values()):
    with_techniques(_cls)


def get_gan_class(name: str) -> Type[GAN]:
    """Returns the GAN class registered as `name`."""
    if name not in GAN_CLASSES:
        raise UsageError(f"Unknown GAN type {name!r}. Valid types: {', '.join(sorted(GAN_CLASSES))}.")
    return GAN_CLASSES[name]


__all__ = ["GAN", "GAN_CLASSES", "packed_shape", "get_gan_class", "TECHNIQUE_OPTIONS", "ImprovedTechniques", "with_techniques"] + sorted(c.__name__ for c in GAN_CLASSES.values() if c is not GAN)
