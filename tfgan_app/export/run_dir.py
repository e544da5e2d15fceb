"""Reading a training run directory (`DIR/config.json` + `DIR/generator.keras`)."""

import importlib
import json
import os
from dataclasses import dataclass
from typing import Dict, Optional

import keras

from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.export.savedmodel import is_image_to_image



@dataclass
class TrainedGenerator:
    """A generator loaded from a run directory, with what its config says about it.

    `latent_dim` is None for image-to-image generators (one `[None, H, W, C]` input).
    """

    generator: keras.Model
    config: Dict
    name: str
    latent_dim: Optional[int]
    num_classes: Optional[int]


def load_keras_generator(path: str) -> keras.Model:
    """Loads a `.keras` generator (custom tfgan_app layers included) without compiling it."""
    if not os.path.isfile(path):
        raise MissingResourceError(f"Expected a Keras generator file, {path!r} does not exist. "
                                   "Train one with `tfgan train --output_dir=DIR` (writes DIR/generator.keras).")
    # Registers tfgan_app's serializable layers, which generator.keras files may contain.
    importlib.import_module("tfgan_app.architectures")
    try:
        return keras.saving.load_model(path, compile=False)
    except (ValueError, OSError, TypeError) as e:
        raise MissingResourceError(f"Could not load {path!r} as a Keras model: {e}") from e


def load_run(run_dir: str) -> TrainedGenerator:
    """Loads `run_dir/generator.keras` and `run_dir/config.json` and checks they agree.

    Example:
    >>> trained = load_run("runs/dcgan_mnist")
    >>> trained.latent_dim, trained.num_classes
    (100, None)
    """
    config_path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(config_path):
        raise MissingResourceError(f"Expected a training run directory with config.json, {config_path!r} "
                                   "does not exist. Pass --run_dir=DIR where DIR was written by `tfgan train`.")
    try:
        with open(config_path) as f:
            config = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise MissingResourceError(f"Could not read {config_path!r} as JSON: {e}") from e
    if "name" not in config:
        raise UsageError(f"{config_path!r} lacks the key 'name'; expected at least 'name' (plus 'latent_dim' "
                         "and 'num_classes', null when unconditional, for latent generators).")
    generator = load_keras_generator(os.path.join(run_dir, "generator.keras"))
    if is_image_to_image(generator):
        # pix2pix / SRGAN / CycleGAN runs: the generator maps images to images; a config latent_dim is unused.
        if config.get("num_classes"):
            raise UsageError(f"{config_path!r} says num_classes={config['num_classes']} but generator.keras is "
                             "an image-to-image generator without labels; the run directory is inconsistent.")
        return TrainedGenerator(generator, config, str(config["name"]), None, None)
    missing = [k for k in ("latent_dim", "num_classes") if k not in config]
    if missing:
        raise UsageError(f"{config_path!r} lacks the keys {missing}; expected at least "
                         "'name', 'latent_dim' and 'num_classes' (null when unconditional).")
    latent_dim = int(generator.inputs[0].shape[-1])
    if latent_dim != int(config["latent_dim"]):
        raise UsageError(f"{config_path!r} says latent_dim={config['latent_dim']} but generator.keras takes "
                         f"latents of size {latent_dim}; the run directory is inconsistent.")
    num_classes = config["num_classes"] or None
    if (len(generator.inputs) == 2) != bool(num_classes):
        raise UsageError(f"{config_path!r} says num_classes={config['num_classes']} but generator.keras has "
                         f"{len(generator.inputs)} input(s); the run directory is inconsistent.")
    return TrainedGenerator(generator, config, str(config["name"]), latent_dim, num_classes)
