"""Reading a training run directory (`DIR/config.json` + `DIR/generator.keras`).

Text-conditioned runs also need `config.json`'s "vocabulary" (caption words) to
export or generate. CycleGAN runs hold a second generator (B -> A): in
`DIR/generator_b_to_a.keras`, or for runs trained before that file was written,
inside the whole CycleGAN saved as `DIR/gan.keras`.
"""

import importlib
import json
import os
import zipfile
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import keras

from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.artifacts.kind import is_conditional, is_image_to_image, is_text_conditioned, text_spec
from tfgan_app.gans.cyclegan import DIRECTIONS
from tfgan_app.names import GENERATOR_CHOICES

REVERSE_GENERATOR_FILE = "generator_b_to_a.keras"


def _float32_policies(config: Any) -> Any:
    """A copy of a serialized Keras object with every mixed dtype policy replaced by float32."""
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy" and str(config.get("config", {}).get("name")).startswith("mixed_"):
            return {**config, "config": {**config["config"], "name": "float32"}}
        return {key: _float32_policies(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_float32_policies(value) for value in config]
    return config


def float32_generator(generator: keras.Model) -> keras.Model:
    """The generator computing in float32 with the same weights (itself if it already does).

    Generators trained under `mixed_bfloat16`/`mixed_float16` keep float32 variables but compute in half
    precision; the saved `generator.keras` is float32 so that it exports to TFLite and serves on any device.

    Args:
        generator: a Keras generator, in any dtype policy.

    Returns:
        A `keras.Model` whose layers compute in float32, sharing nothing with `generator` but the weight values.

    Example:
    >>> float32_generator(gan.generator).compute_dtype
    'float32'
    """
    if not any(layer.dtype_policy.name.startswith("mixed_") for layer in generator._flatten_layers()):  # pylint: disable=protected-access
        return generator
    copy = keras.saving.deserialize_keras_object(_float32_policies(keras.saving.serialize_keras_object(generator)))
    copy.set_weights(generator.get_weights())
    return copy


@dataclass
class TrainedGenerator:
    """A generator loaded from a run directory, with what its config says about it (`load_run`).

    Args:
        generator: the float32 Keras generator.
        config: the run's config.json.
        name: the model name exports use (the config's "name"; `<name>_b_to_a` for CycleGAN's reverse).
        latent_dim: size of its latents; None for image-to-image generators (one `[None, H, W, C]` input).
        num_classes: class count of a conditional generator, None otherwise.
        vocabulary: the caption words of a text-conditioned generator, None otherwise.

    Example:
    >>> trained = load_run("runs/cgan_mnist")
    >>> trained.name, trained.num_classes
    ('cgan_mnist', 10)
    """

    generator: keras.Model
    config: Dict
    name: str
    latent_dim: Optional[int]
    num_classes: Optional[int]
    vocabulary: Optional[List[str]] = None


def load_keras_generator(path: str) -> keras.Model:
    """Loads a `.keras` generator (custom tfgan_app layers included) without compiling it.

    Also loads a whole saved GAN (`gan.keras`) once `tfgan_app.gans` is imported.

    Args:
        path: the `.keras` file.

    Returns:
        The `keras.Model`.

    Raises:
        MissingResourceError: the file does not exist or Keras cannot load it (Keras' reason included).
        UsageError: the file is not a `.keras` archive (`check_keras_archive`).

    Example:
    >>> load_keras_generator("runs/dcgan_mnist/generator.keras").output_shape
    (None, 28, 28, 1)
    """
    if not os.path.isfile(path):
        raise MissingResourceError(f"Expected a Keras generator file, {path!r} does not exist. "
                                   "Train one with `tfgan train --output_dir=DIR` (writes DIR/generator.keras).")
    check_keras_archive(path)
    # Registers tfgan_app's serializable layers, which generator.keras files may contain.
    importlib.import_module("tfgan_app.architectures")
    try:
        return keras.saving.load_model(path, compile=False)
    except (ValueError, OSError, TypeError) as e:
        raise MissingResourceError(f"Could not load {path!r} as a Keras model: {e}") from e


KERAS_ARCHIVE_FILES = ("config.json", "metadata.json")  # every `model.save("x.keras")` zip holds these


def check_keras_archive(path: str) -> None:
    """Raises `UsageError` unless `path` is a readable `.keras` zip archive with a model config.

    Keras itself reports a file that is not a zip as "File not found" and an archive without its
    config as a `KeyError`.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as e:
        raise UsageError(f"Expected a .keras model file (a zip archive written by keras `model.save`), {path!r} "
                         f"is not one ({e}); it may be truncated or another kind of file.") from e
    missing = [name for name in KERAS_ARCHIVE_FILES if name not in names]
    if missing:
        raise UsageError(f"Expected a .keras model file, {path!r} is a zip archive without {missing}; it was not "
                         "written by keras `model.save`.")


def run_vocabulary(config: Dict, config_path: str, sequence_length: int) -> List[str]:
    """The caption vocabulary a text-conditioned run recorded in its config, checked against the generator.

    Raises `UsageError` when "vocabulary" is missing (runs trained before `tfgan train` recorded it)
    or when the recorded "sequence_length" differs from the generator's token input.
    """
    vocabulary = config.get("vocabulary")
    if not vocabulary or not isinstance(vocabulary, list):
        raise UsageError(f"{config_path!r} lacks 'vocabulary', the caption words a text-conditioned generator "
                         "needs to turn captions into token ids; re-train the run with `tfgan train`, or add "
                         "\"vocabulary\": tfgan_app.data.captions.caption_vocabulary(NAME) for dataset captions:NAME.")
    if int(config.get("sequence_length", sequence_length)) != sequence_length:
        raise UsageError(f"{config_path!r} says sequence_length={config['sequence_length']} but the generator "
                         f"takes {sequence_length} tokens per caption; the run directory is inconsistent.")
    return [str(word) for word in vocabulary]


def _read_config(run_dir: str) -> Dict:
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
    return config


def load_reverse_generator(run_dir: str) -> keras.Model:
    """CycleGAN's B -> A generator of a run: `generator_b_to_a.keras`, else from the whole GAN in `gan.keras`.

    Raises `UsageError` when the run's GAN has no B -> A generator (it is not a CycleGAN).
    """
    path = os.path.join(run_dir, REVERSE_GENERATOR_FILE)
    if os.path.isfile(path):
        return load_keras_generator(path)
    gan_path = os.path.join(run_dir, "gan.keras")
    if not os.path.isfile(gan_path):
        raise MissingResourceError(f"Neither {path!r} nor {gan_path!r} exists; --direction=b_to_a needs a CycleGAN "
                                   "run directory written by `tfgan train`.")
    importlib.import_module("tfgan_app.gans")  # registers the GAN classes gan.keras may hold
    gan = load_keras_generator(gan_path)
    reverse = getattr(gan, "generator_b_to_a", None)
    if not isinstance(reverse, keras.Model):
        raise UsageError(f"--direction=b_to_a exports CycleGAN's B->A generator, but {gan_path!r} holds a "
                         f"{type(gan).__name__}, which has one direction only; drop --direction or pick a CycleGAN run.")
    return float32_generator(reverse)  # gan.keras keeps a mixed-precision run's policies; export computes in float32




def run_generator_path(run_dir: str, which: str = "best") -> str:
    """`run_dir/best_generator.keras` when `which="best"` and the run kept one (`tfgan train --eval_every`),
    else `run_dir/generator.keras` (the generator at the end of training; the EMA one when enabled)."""
    if which not in GENERATOR_CHOICES:
        raise UsageError(f"Expected generator in {GENERATOR_CHOICES}, received {which!r}.")
    best = os.path.join(run_dir, "best_generator.keras")
    if which == "best" and os.path.isfile(best):
        return best
    return os.path.join(run_dir, "generator.keras")


def load_run(run_dir: str, direction: str = "a_to_b", which: str = "best") -> TrainedGenerator:
    """Loads the run's generator (`run_generator_path(run_dir, which)`) and `run_dir/config.json` and checks
    they agree.

    Args:
        run_dir: a directory written by `tfgan train`.
        direction: "a_to_b", or "b_to_a" for a CycleGAN run's B -> A generator (`load_reverse_generator`),
            named `<config name>_b_to_a`.
        which: "best" (`best_generator.keras` when the run kept one) or "last" (`generator.keras`).

    Returns:
        A `TrainedGenerator` (float32).

    Raises:
        UsageError: an unknown direction, or a config that disagrees with the generator.
        MissingResourceError: no config.json or generator in `run_dir`.

    Example:
    >>> trained = load_run("runs/dcgan_mnist")
    >>> trained.latent_dim, trained.num_classes
    (100, None)
    """
    if direction not in DIRECTIONS:
        raise UsageError(f"Expected direction in {DIRECTIONS}, received {direction!r}.")
    config = _read_config(run_dir)
    config_path = os.path.join(run_dir, "config.json")
    if direction == "b_to_a":
        generator = load_reverse_generator(run_dir)
        return TrainedGenerator(generator, config, f"{config['name']}_b_to_a", None, None)
    generator = load_keras_generator(run_generator_path(run_dir, which))
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
    if is_text_conditioned(generator):
        if num_classes:
            raise UsageError(f"{config_path!r} says num_classes={num_classes} but generator.keras takes caption "
                             "tokens, not labels; the run directory is inconsistent.")
        vocabulary = run_vocabulary(config, config_path, text_spec(generator)["sequence_length"])
        return TrainedGenerator(generator, config, str(config["name"]), latent_dim, None, vocabulary)
    if is_conditional(generator) != bool(num_classes):
        raise UsageError(f"{config_path!r} says num_classes={config['num_classes']} but generator.keras has "
                         f"{len(generator.inputs)} input(s); the run directory is inconsistent.")
    return TrainedGenerator(generator, config, str(config["name"]), latent_dim, num_classes)
