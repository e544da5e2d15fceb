"""GAN models: the `GAN` base class and its variants, by name.

`GAN_CLASSES` maps the names used in presets (`"gan": "dcgan"`) to classes.
"""

from typing import Dict, Type

from tfgan_app.errors import UsageError
from tfgan_app.gans.base import GAN
from tfgan_app.gans.conditional import ConditionalGAN

GAN_CLASSES: Dict[str, Type[GAN]] = {"gan": GAN, "conditional": ConditionalGAN}


def get_gan_class(name: str) -> Type[GAN]:
    """Returns the GAN class registered as `name`."""
    if name not in GAN_CLASSES:
        raise UsageError(f"Unknown GAN type {name!r}. Valid types: {', '.join(sorted(GAN_CLASSES))}.")
    return GAN_CLASSES[name]


__all__ = ["GAN", "ConditionalGAN", "GAN_CLASSES", "get_gan_class"]
