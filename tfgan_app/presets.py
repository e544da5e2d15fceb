"""Model presets: plain JSON files in the top-level `models/` folder, picked by name.

Installed from a wheel, the presets are package data (`tfgan_app/models/`, see setup.py).

A preset names everything a training run needs: the GAN type and its options,
the architectures, the dataset, latent size, loss, optimizers, batch size and
epochs. `load_preset("dcgan_mnist")` reads `models/dcgan_mnist.json`; a path to
a `.json` file works too. Any field can be overridden with
`apply_overrides(preset, ["batch_size=64", "generator_options.base_filters=32"])`
(values are parsed as JSON, falling back to plain strings); the CLI's
`--set key=value` flag does exactly that.

Fields (see `Preset`), e.g. `models/dcgan_mnist.json`:

    {"description": "...", "gan": "gan", "generator": "dcgan", "discriminator": "dcgan",
     "dataset": "mnist", "latent_dim": 64, "loss": "non_saturating",
     "d_optimizer": {"name": "adam", "learning_rate": 0.0002, "beta_1": 0.5}, ...}
"""

import dataclasses
import inspect
import json
import math
import os
from typing import Any, Callable, Collection, Dict, List, Mapping, Optional, Sequence

from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.hardware import AUTO, check_precision_name

MODELS_DIR_ENV = "TFGAN_MODELS_DIR"

_NAMED_PARAMETERS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


PACKAGED_MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
SOURCE_MODELS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models")


def models_dir() -> str:
    """The presets folder: `$TFGAN_MODELS_DIR`; else `tfgan_app/models/` in an installed wheel (copied there
    from `models/` by setup.py's `build_py`); else `models/` beside the package (a checkout or editable install)."""
    if os.environ.get(MODELS_DIR_ENV):
        return os.environ[MODELS_DIR_ENV]
    return PACKAGED_MODELS_DIR if os.path.isdir(PACKAGED_MODELS_DIR) else SOURCE_MODELS_DIR


@dataclasses.dataclass
class Preset:
    """A validated training configuration.

    Attributes:
      name: preset name (file name without `.json`).
      description: one line shown by `tfgan train --list_models`.
      gan: GAN type, a key of `tfgan_app.gans.GAN_CLASSES` (e.g. "gan", "conditional").
      gan_options: keyword arguments of that GAN class (e.g. {"d_steps": 5}).
      generator, discriminator: architecture names in `tfgan_app.architectures`.
      generator_options, discriminator_options: keyword arguments of the builders.
      dataset: dataset spec (`mnist`, `fashion_mnist`, `tfds:NAME`, `folder:/PATH`, `tfrecord:DIR`, ...).
      image_size: `[H, W]` to resize images to, or null for the dataset's size.
      channels: 1 or 3 to convert images, or null for the dataset's channels.
      data: image options of the dataset (`tfgan_app.data.DATA_OPTIONS`): {"mirror": true} for random x-flips,
        {"crop": "center"} to centre-crop instead of stretching, {"cache": "memory"} to keep decoded images.
      latent_dim: size of z.
      conditional: train a label-conditioned GAN (G and D see labels).
      loss: a name in `tfgan_app.losses.LOSSES`.
      d_optimizer, g_optimizer: {"name": keras optimizer name, other keys: its arguments}.
      batch_size, epochs: as in `fit`; steps_per_epoch: null for a full pass over the data.
      seed: seed of data shuffling, weights and latents.
      mixed_precision: "auto" (default: chosen from the hardware, see `tfgan_app.hardware`), "float32",
        "mixed_bfloat16" or "mixed_float16" (null: float32).
      jit_compile: XLA-compile the train step.
      log_every_steps: TensorBoard also gets the training metrics as `batch_<name>` scalars every this many
        steps (null: only the per-epoch `epoch_<name>` scalars).
    """

    name: str = "custom"
    description: str = ""
    gan: str = "gan"
    gan_options: Dict[str, Any] = dataclasses.field(default_factory=dict)
    generator: str = "dcgan"
    generator_options: Dict[str, Any] = dataclasses.field(default_factory=dict)
    discriminator: str = "dcgan"
    discriminator_options: Dict[str, Any] = dataclasses.field(default_factory=dict)
    dataset: str = "mnist"
    image_size: Optional[List[int]] = None
    channels: Optional[int] = None
    data: Dict[str, Any] = dataclasses.field(default_factory=dict)
    latent_dim: int = 100
    conditional: bool = False
    loss: str = "non_saturating"
    d_optimizer: Dict[str, Any] = dataclasses.field(
        default_factory=lambda: {"name": "adam", "learning_rate": 2e-4, "beta_1": 0.5})
    g_optimizer: Dict[str, Any] = dataclasses.field(
        default_factory=lambda: {"name": "adam", "learning_rate": 2e-4, "beta_1": 0.5})
    batch_size: int = 128
    epochs: int = 5
    steps_per_epoch: Optional[int] = None
    seed: int = 0
    mixed_precision: Optional[str] = AUTO
    jit_compile: bool = False
    log_every_steps: Optional[int] = 100

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raises UsageError naming the first invalid field."""
        for field in ("latent_dim", "batch_size", "epochs"):
            _positive_int(field, getattr(self, field))
        for field in ("steps_per_epoch", "log_every_steps"):
            if getattr(self, field) is not None:
                _positive_int(field, getattr(self, field))
        if isinstance(self.image_size, int):
            self.image_size = [self.image_size, self.image_size]
        if self.image_size is not None and (len(self.image_size) != 2 or min(self.image_size) <= 0):
            raise UsageError(f"image_size must be [height, width] or one positive int, received {self.image_size!r}.")
        if self.channels not in (None, 1, 3):
            raise UsageError(f"channels must be 1, 3 or null, received {self.channels!r}.")
        check_precision_name(self.mixed_precision)
        for field in ("gan_options", "generator_options", "discriminator_options", "data"):
            if not isinstance(getattr(self, field), dict):
                raise UsageError(f"{field} must be an object of keyword arguments (e.g. {{\"base_filters\": 32}}, "
                                 f"or {{}} for none), received {getattr(self, field)!r}.")
        for field in ("d_optimizer", "g_optimizer"):
            spec = getattr(self, field)
            if not isinstance(spec, dict) or "name" not in spec:
                raise UsageError(f"{field} must be an object with a 'name' (e.g. {{\"name\": \"adam\", "
                                 f"\"learning_rate\": 0.0002}}), received {spec!r}.")

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


def _positive_int(field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UsageError(f"{field} must be a positive integer, received {value!r}.")


def keyword_parameters(function: Callable) -> Dict[str, inspect.Parameter]:
    """The keyword arguments `function` (or a class's `__init__`) names, following `**kwargs` up the MRO.

    For a class, the `__init__` of every tfgan_app base class whose subclass passes `**kwargs` on is
    included, so `GAN` options such as `d_steps` count for every variant.
    """
    if not inspect.isclass(function):
        return {name: p for name, p in inspect.signature(function).parameters.items()
                if p.kind in _NAMED_PARAMETERS}
    parameters: Dict[str, inspect.Parameter] = {}
    for cls in function.__mro__:
        if not cls.__module__.startswith("tfgan_app") or "__init__" not in vars(cls):
            continue
        signature = inspect.signature(cls.__init__)
        for name, p in signature.parameters.items():
            if name != "self" and p.kind in _NAMED_PARAMETERS:
                parameters.setdefault(name, p)
        if inspect.Parameter.VAR_KEYWORD not in {p.kind for p in signature.parameters.values()}:
            break
    return parameters


def check_options(field: str, options: Mapping[str, Any], parameters: Mapping[str, inspect.Parameter],
                  reserved: Collection[str] = (), owner: str = "") -> None:
    """Checks preset options against the keyword arguments they are passed to.

    Rejects a name that is not among `parameters` or is in `reserved` (arguments the library sets itself),
    and a value of the wrong kind for a parameter whose default is a number: an int default takes an int
    (positive if the default is positive, else >= 0), a float default a finite number.

    Args:
      field: the preset field, for the message (e.g. "generator_options").
      options: the options to check.
      parameters: `keyword_parameters(builder)`.
      reserved: names the library passes itself.
      owner: what takes the options, for the message (e.g. "generator 'dcgan'").

    Raises:
      UsageError: naming the option and the valid ones.
    """
    valid = sorted(name for name in parameters if name not in reserved)
    for name, value in options.items():
        if name not in valid:
            raise UsageError(f"Unknown option {name!r} in {field}{f' of {owner}' if owner else ''}. "
                             f"Valid options: {', '.join(valid) or '(none)'}.")
        default = parameters[name].default
        if isinstance(default, bool) or default is inspect.Parameter.empty or default is None:
            continue
        if isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool) and (value > 0 if default > 0 else value >= 0)
            if not ok:
                kind = "a positive integer" if default > 0 else "an integer >= 0"
                raise UsageError(f"{field}.{name} must be {kind} (default {default}), received {value!r}.")
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise UsageError(f"{field}.{name} must be a finite number (default {default}), received {value!r}.")


def build_optimizer(spec: Dict[str, Any]) -> "keras.optimizers.Optimizer":
    """Builds a Keras optimizer from `{"name": "adam", "learning_rate": ..., ...}`."""
    import keras  # pylint: disable=import-outside-toplevel  # deferred so --help does not import TensorFlow
    spec = dict(spec)
    name = spec.pop("name")
    try:
        return keras.optimizers.get({"class_name": name, "config": spec})
    except (ValueError, TypeError) as e:
        raise UsageError(f"Cannot build optimizer {name!r} with {spec}: {e}. Use a Keras optimizer name "
                         "(adam, rmsprop, sgd, adamw, ...) and its argument names.") from e


def available_presets() -> List[str]:
    """Names of the presets in `models_dir()`."""
    folder = models_dir()
    if not os.path.isdir(folder):
        return []
    return sorted(f[:-5] for f in os.listdir(folder) if f.endswith(".json"))


def from_dict(values: Dict[str, Any], name: str = "custom") -> Preset:
    """Builds a Preset from a dict, rejecting unknown fields with the list of valid ones."""
    valid = {f.name for f in dataclasses.fields(Preset)}
    unknown = sorted(set(values) - valid)
    if unknown:
        raise UsageError(f"Unknown preset field(s) {unknown}. Valid fields: {', '.join(sorted(valid))}.")
    return Preset(**{"name": name, **values})


def from_run_config(config: Dict[str, Any]) -> Preset:
    """The preset a run was trained with, from its `config.json` (the preset's fields plus what the run
    recorded about its data and networks: image_shape, num_classes, ..., which are left out here)."""
    fields = {f.name for f in dataclasses.fields(Preset)}
    return from_dict({key: value for key, value in config.items() if key in fields}, name=config.get("name", "custom"))


def load_preset(name_or_path: str) -> Preset:
    """Loads a preset by name (from `models_dir()`) or from a `.json` path."""
    if name_or_path.endswith(".json") or os.sep in name_or_path:
        path, name = name_or_path, os.path.splitext(os.path.basename(name_or_path))[0]
    else:
        path, name = os.path.join(models_dir(), f"{name_or_path}.json"), name_or_path
    if not os.path.exists(path):
        raise MissingResourceError(f"Unknown model preset {name_or_path!r}. Available presets: "
                                   f"{', '.join(available_presets()) or '(none found)'} (in {models_dir()}), "
                                   "or pass a path to a preset .json file.")
    try:
        with open(path, "r", encoding="utf-8") as f:
            values = json.load(f)
    except json.JSONDecodeError as e:
        raise UsageError(f"Preset file {path!r} is not valid JSON: {e}.") from e
    return from_dict(values, name=name)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def apply_overrides(preset: Preset, overrides: Sequence[str]) -> Preset:
    """Returns a new Preset with `key=value` (or `key.sub=value`) overrides applied."""
    values = preset.to_dict()
    for item in overrides:
        if "=" not in item:
            raise UsageError(f"Override {item!r} must look like field=value (e.g. batch_size=64).")
        key, text = item.split("=", 1)
        *parents, leaf = key.strip().split(".")
        target = values
        for parent in parents:
            if not isinstance(target.get(parent), dict):
                raise UsageError(f"Cannot set {key!r}: {parent!r} is not an object field of the preset.")
            target = target[parent]
        if not parents and leaf not in values:
            raise UsageError(f"Unknown preset field {leaf!r} in override {item!r}. "
                             f"Valid fields: {', '.join(sorted(values))}.")
        target[leaf] = _parse_value(text)
    name = values.pop("name")
    return from_dict(values, name=name)
