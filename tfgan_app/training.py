"""A training run: preset → dataset → GAN → `fit` → artifacts in an output folder.

`train(preset, output_dir)` is what `tfgan train` calls. The output folder holds:

    config.json          the resolved preset + image_shape / num_classes (read by export and generate)
    generator.keras      the trained generator (keras.saving.load_model)
    generator_b_to_a.keras  CycleGAN only: the B -> A generator (`generator.keras` is A -> B)
    gan.keras            the whole GAN with both optimizers' state (load and keep training)
    samples/epoch_*.png  sample grids from a fixed latent batch
    logs/                TensorBoard scalars (d_loss, g_loss, ...) and sample images
    checkpoints/         gan.keras after every epoch

Scale-out and fault tolerance (see `tfgan_app.distribute`): pass a
`tf.distribute.Strategy` and the GAN is built, compiled and trained under it
(under a multi-worker strategy only the chief writes `output_dir`; the others
write `output_dir/workers/worker_<index>`). With `backup_dir`, a
`keras.callbacks.BackupAndRestore` backs the whole training state up at the end
of every epoch (both optimizers with their step counters, the weights, the
epoch number); running the same `train` again after a crash resumes from the
last backup instead of starting over. Backups are per epoch because Keras
restores the epoch number only: use `steps_per_epoch` to back up more often.
"""

import contextlib
import dataclasses
import inspect
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import keras
import tensorflow as tf

from tfgan_app import architectures, callbacks as gan_callbacks, data, distribute, gans
from tfgan_app.errors import UsageError
from tfgan_app.presets import Preset, build_optimizer


@dataclasses.dataclass
class TrainResult:
    """What a run produced."""

    gan: gans.GAN
    history: Dict[str, List[float]]
    output_dir: str
    seconds: float
    quality: Optional[Dict[str, Any]] = None

    @property
    def generator_path(self) -> str:
        return os.path.join(self.output_dir, "generator.keras")

    @property
    def gan_path(self) -> str:
        return os.path.join(self.output_dir, "gan.keras")


def load_data(preset: Preset, split: str = "train") -> data.DatasetInfo:
    """Loads the preset's dataset as training batches."""
    return data.load_dataset(preset.dataset, preset.batch_size, split=split, image_size=preset.image_size,
                             channels=preset.channels, seed=preset.seed)


def build_gan(preset: Preset, image_shape: Sequence[int], num_classes: Optional[int],
              info: Optional[data.DatasetInfo] = None) -> gans.GAN:
    """Builds and compiles the preset's GAN for data of `image_shape` with `num_classes` labels.

    GAN classes with a `from_preset(preset, info)` constructor (image-to-image and text models, whose
    networks take images or tokens rather than latents) build themselves from the dataset `info`.
    """
    gan_class = gans.get_gan_class(preset.gan)
    if hasattr(gan_class, "from_preset"):
        if info is None:
            raise UsageError(f"GAN type {preset.gan!r} is built from its dataset; pass info=load_data(preset).")
        try:
            gan = gan_class.from_preset(preset, info)
        except TypeError as e:
            raise UsageError(f"Bad options for GAN type {preset.gan!r}: {e}") from e
        gan.compile(d_optimizer=build_optimizer(preset.d_optimizer), g_optimizer=build_optimizer(preset.g_optimizer),
                    loss=preset.loss, jit_compile=preset.jit_compile)
        return gan
    if preset.conditional and not num_classes:
        raise UsageError(f"Preset {preset.name!r} is conditional but dataset {preset.dataset!r} has no labels; "
                         "use a labelled dataset (e.g. folder with class sub-folders) or set conditional=false.")
    condition_classes = num_classes if preset.conditional else None
    generator = architectures.build_generator(preset.generator, preset.latent_dim, tuple(image_shape),
                                              condition_classes, **preset.generator_options)
    discriminator = architectures.build_discriminator(preset.discriminator, tuple(image_shape), condition_classes,
                                                      **preset.discriminator_options)
    options: Dict[str, Any] = dict(preset.gan_options)
    if set(options) & set(gans.TECHNIQUE_OPTIONS):
        gan_class = gans.with_techniques(gan_class)  # feature matching, label smoothing, ... on any variant
    if "num_classes" in inspect.signature(gan_class.__init__).parameters:
        if not num_classes:
            raise UsageError(f"GAN type {preset.gan!r} needs class labels, but dataset {preset.dataset!r} has none.")
        options["num_classes"] = num_classes
    try:
        gan = gan_class(generator, discriminator, latent_dim=preset.latent_dim, seed=preset.seed, **options)
    except TypeError as e:
        raise UsageError(f"Bad gan_options for GAN type {preset.gan!r}: {e}") from e
    gan.compile(d_optimizer=build_optimizer(preset.d_optimizer), g_optimizer=build_optimizer(preset.g_optimizer),
                loss=preset.loss, jit_compile=preset.jit_compile)
    return gan


def run_config(preset: Preset, info: data.DatasetInfo, gan: Optional[gans.GAN] = None) -> Dict[str, Any]:
    """The `config.json` of a run: the preset plus what export/generate need to know.

    For a text-conditioned `gan` (one with a `vocabulary`) that includes the caption words and the
    token sequence length, without which captions cannot be turned into the generator's token ids.
    """
    input_shape = info.dataset.element_spec[0].shape[1:]
    config = {**preset.to_dict(), "image_shape": list(info.image_shape), "input_shape": input_shape.as_list(),
              "num_classes": info.num_classes if preset.conditional else None,
              "dataset_num_classes": info.num_classes}
    if getattr(gan, "vocabulary", None):
        config.update(vocabulary=list(gan.vocabulary), sequence_length=int(gan.sequence_length))
    return config


@contextlib.contextmanager
def _dtype_policy(name: Optional[str]):
    """Sets the Keras global dtype policy (`mixed_float16`, `mixed_bfloat16`, None: float32) inside the block."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name or "float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def backup_callback(backup_dir: str, strategy: tf.distribute.Strategy) -> keras.callbacks.BackupAndRestore:
    """A per-epoch `BackupAndRestore` in `backup_dir` (one sub-folder per worker under multi-worker)."""
    if distribute.num_workers(strategy) > 1:
        backup_dir = os.path.join(backup_dir, distribute.task_name(strategy))
    return keras.callbacks.BackupAndRestore(backup_dir, save_freq="epoch")


def train(preset: Preset, output_dir: str, strategy: Optional[tf.distribute.Strategy] = None,
          extra_callbacks: Sequence[keras.callbacks.Callback] = (), verbose: Any = "auto",
          backup_dir: Optional[str] = None) -> TrainResult:
    """Trains `preset` and writes the run folder `output_dir` (see the module docstring).

    Args:
      preset: the validated configuration.
      output_dir: run folder (created; existing files of the same names are replaced).
      strategy: a `tf.distribute.Strategy` to build and train under (default: the current one),
        e.g. `tfgan_app.distribute.get_strategy("mirrored")`.
      extra_callbacks: more Keras callbacks for `fit`.
      verbose: `fit` verbosity ("auto": a progress bar on a terminal, a line per epoch otherwise).
      backup_dir: folder for fault-tolerance backups, or None. If it holds a backup of an interrupted run
        of the same preset, training resumes from it; it is deleted when training completes.
    """
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    keras.utils.set_random_seed(preset.seed)
    strategy = strategy or tf.distribute.get_strategy()
    output_dir = distribute.worker_output_dir(output_dir, strategy)
    info = load_data(preset)
    with _dtype_policy(preset.mixed_precision), strategy.scope():
        gan = build_gan(preset, info.image_shape, info.num_classes, info)
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(run_config(preset, info, gan), f, indent=2)
    log_dir = os.path.join(output_dir, "logs")
    # 2-D toy mixtures are plotted as 1,000 points over the mixture's modes instead of an image grid.
    toy_plot_options = ({"mixture": preset.dataset.split(":", 1)[1], "num_samples": 1000}
                        if preset.dataset.startswith("toy:") else {})
    fit_callbacks = [
        gan_callbacks.StopOnNonFiniteLoss(),  # first: a diverged batch must stop before anything is saved
        *([backup_callback(backup_dir, strategy)] if backup_dir else []),
        gan.sample_grid_callback(output_dir, info.dataset, seed=preset.seed, log_dir=log_dir, **toy_plot_options),
        keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch"),
        keras.callbacks.ModelCheckpoint(os.path.join(output_dir, "checkpoints", "gan.keras")),
        *extra_callbacks,
    ]
    start = time.time()
    history = gan.fit(info.dataset, epochs=preset.epochs, steps_per_epoch=preset.steps_per_epoch,
                      callbacks=fit_callbacks, verbose=verbose, shuffle=False)
    seconds = time.time() - start
    float32_generator(gan.generator).save(os.path.join(output_dir, "generator.keras"))
    if isinstance(gan, gans.CycleGAN):  # its second generator, for `tfgan export --direction=b_to_a`
        float32_generator(gan.generator_b_to_a).save(os.path.join(output_dir, "generator_b_to_a.keras"))
    gan.save(os.path.join(output_dir, "gan.keras"))
    quality = digit_quality(gan, preset, info)
    if quality is not None:
        with open(os.path.join(output_dir, "quality.json"), "w", encoding="utf-8") as f:
            json.dump(quality, f, indent=2)
    return TrainResult(gan, history.history, output_dir, seconds, quality)


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

    Generators trained under `mixed_bfloat16`/`mixed_float16` keep float32 variables but compute in
    half precision; the saved `generator.keras` is float32 so that it exports to TFLite and serves
    on any device.
    """
    if not any(layer.dtype_policy.name.startswith("mixed_") for layer in generator._flatten_layers()):  # pylint: disable=protected-access
        return generator
    copy = keras.saving.deserialize_keras_object(_float32_policies(keras.saving.serialize_keras_object(generator)))
    copy.set_weights(generator.get_weights())
    return copy


QUALITY_SAMPLES = 2000


def digit_quality(gan: gans.GAN, preset: Preset, info: data.DatasetInfo) -> Optional[Dict[str, Any]]:
    """Judges `QUALITY_SAMPLES` generated images with the shipped classifier of the dataset.

    Returns `tfgan_app.evaluation.digit_quality_report` (share of confidently recognised samples, per-class
    coverage, classifier score) for generators of 28x28x1 MNIST / Fashion-MNIST images, else None.
    """
    if preset.dataset not in ("mnist", "fashion_mnist") or tuple(info.image_shape) != (28, 28, 1):
        return None
    from tfgan_app.evaluation import digit_quality_report  # pylint: disable=import-outside-toplevel
    from tfgan_app.images import to_uint8  # pylint: disable=import-outside-toplevel
    return digit_quality_report(to_uint8(gan.generate(QUALITY_SAMPLES, seed=preset.seed + 1)), preset.dataset)
