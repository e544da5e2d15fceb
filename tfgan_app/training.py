"""A training run: preset → dataset → GAN → `fit` → artifacts in an output folder.

`train(preset, output_dir)` is what `tfgan train` calls. The output folder holds:

    config.json          the resolved preset + image_shape / num_classes (read by export and generate)
    generator.keras      the trained generator (keras.saving.load_model); with `ema_decay` set, the EMA
                         generator (what generate / export / evaluation read); the raw one is in gan.keras
    best_generator.keras with `eval_every`: the generator at the best evaluation so far (+ `.json`: epoch, value)
    generator_b_to_a.keras  CycleGAN only: the B -> A generator (`generator.keras` is A -> B)
    gan.keras            the whole GAN with both optimizers' state (load and keep training)
    samples/epoch_*.png  sample grids from a fixed latent batch
    logs/                TensorBoard scalars (d_loss, g_loss, ...) and sample images
    checkpoints/         gan.keras after every epoch

A run folder holds exactly one run. `train` refuses a folder that holds a finished run (it has
`generator.keras`) or the leftovers of an unfinished one it cannot resume, unless `overwrite=True`
(`tfgan train --overwrite`), which first deletes the previous run's artifacts (the files above,
nothing else) and its backup. Every epoch of `fit` runs exactly `steps_per_epoch` batches when
that is set: the dataset is repeated rather than running out early.

Scale-out and fault tolerance (see `tfgan_app.distribute`): pass a
`tf.distribute.Strategy` and the GAN is built, compiled and trained under it
(under a multi-worker strategy only the chief writes `output_dir`; the others
write `output_dir/workers/worker_<index>`). With `backup_dir`, a
`keras.callbacks.BackupAndRestore` backs the whole training state up at the end
of every epoch (both optimizers with their step counters, the weights, the
epoch number); running the same `train` again after a crash resumes from the
last backup instead of starting over. Backups are per epoch because Keras
restores the epoch number only: use `steps_per_epoch` to back up more often.
The backup folder also records the run's config (`tfgan_config.json`): a backup
resumes only a run of the same config (the epoch count may change), otherwise
`train` stops with the fields that differ.
"""

import contextlib
import dataclasses
import inspect
import json
import os
import shutil
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import keras
import tensorflow as tf
from absl import logging

from tfgan_app import architectures, callbacks as gan_callbacks, data, distribute, gans, hardware
from tfgan_app.artifacts.run_dir import float32_generator
from tfgan_app.errors import UsageError
from tfgan_app.evaluation.callback import EvaluationCallback
from tfgan_app.paths import writable_dir
from tfgan_app.presets import Preset, build_optimizer, check_options, keyword_parameters

RUN_ARTIFACTS = ("config.json", "generator.keras", "generator_b_to_a.keras", "gan.keras", "quality.json",
                 "best_generator.keras", "best_generator.keras.json",
                 "evaluation.json", "samples", "logs", "checkpoints")
FINISHED_MARKER = "generator.keras"  # written once `fit` has completed
BACKUP_CONFIG = "tfgan_config.json"  # the config of the run a backup folder belongs to
BACKUP_STATE = "training_metadata.json"  # written by keras.callbacks.BackupAndRestore with every backup
# Config fields that may differ when resuming from a backup ("precision": "auto" on another machine).
RESUMABLE_CHANGES = ("epochs", "precision")


@dataclasses.dataclass
class TrainResult:
    """What a run produced."""

    gan: gans.AdversarialModel  # a latent `gans.GAN` or an image-to-image `gans.ImageToImageGAN`
    history: Dict[str, List[float]]
    output_dir: str
    seconds: float

    @property
    def quality(self) -> Optional[Dict[str, Any]]:
        """The run's `quality.json`, written by a quality-report callback the caller attached
        (`tfgan_app.evaluation.quality.DigitQualityReport`, which `tfgan train` attaches for digit datasets);
        None without one."""
        return _read_json(os.path.join(self.output_dir, "quality.json"))

    @property
    def generator_path(self) -> str:
        return os.path.join(self.output_dir, "generator.keras")

    @property
    def gan_path(self) -> str:
        return os.path.join(self.output_dir, "gan.keras")


def load_data(preset: Preset, split: str = "train") -> data.DatasetInfo:
    """Loads the preset's dataset as training batches."""
    return data.load_dataset(preset.dataset, preset.batch_size, split=split, image_size=preset.image_size,
                             channels=preset.channels, seed=preset.seed, options=preset.data)


# Constructor arguments `build_gan` / `from_preset` pass themselves; a preset's gan_options cannot set them.
GAN_RESERVED_ARGUMENTS = ("generator", "discriminator", "generator_b_to_a", "discriminator_a", "latent_dim",
                          "seed", "num_classes", "vocabulary", "sample_captions")


def check_gan_options(gan_class: type, preset: Preset) -> None:
    """Raises `UsageError` unless the preset's gan_options are constructor arguments of `gan_class`."""
    check_options("gan_options", preset.gan_options, keyword_parameters(gan_class), GAN_RESERVED_ARGUMENTS,
                  f"GAN type {preset.gan!r}")


def build_gan(preset: Preset, image_shape: Sequence[int], num_classes: Optional[int],
              info: Optional[data.DatasetInfo] = None) -> gans.AdversarialModel:
    """Builds and compiles the preset's GAN for data of `image_shape` with `num_classes` labels.

    GAN classes with a `from_preset(preset, info)` constructor (image-to-image and text models, whose
    networks take images or tokens rather than latents) build themselves from the dataset `info`.
    Options are checked against the builders' and the GAN class's arguments first, so a bad option is
    a `UsageError` and a `TypeError` raised inside a builder stays the bug it is.
    """
    gan_class = gans.get_gan_class(preset.gan)
    if hasattr(gan_class, "from_preset"):
        if info is None:
            raise UsageError(f"GAN type {preset.gan!r} is built from its dataset; pass info=load_data(preset).")
        check_gan_options(gan_class, preset)
        if preset.generator in architectures.PRESET_BUILDERS["generator"]:
            architectures.check_builder_options("generator", preset.generator, preset.generator_options)
        if preset.discriminator in architectures.PRESET_BUILDERS["discriminator"]:
            architectures.check_builder_options("discriminator", preset.discriminator, preset.discriminator_options)
        gan = gan_class.from_preset(preset, info)
        gan.compile(d_optimizer=build_optimizer(preset.d_optimizer), g_optimizer=build_optimizer(preset.g_optimizer),
                    loss=preset.loss, jit_compile=preset.jit_compile)
        return gan
    if preset.conditional and not num_classes:
        raise UsageError(f"Preset {preset.name!r} is conditional but dataset {preset.dataset!r} has no labels; "
                         "use a labelled dataset (e.g. folder with class sub-folders) or set conditional=false.")
    options: Dict[str, Any] = dict(preset.gan_options)
    check_gan_options(gan_class, preset)  # every class takes the technique options (feature matching, ...)
    condition_classes = num_classes if preset.conditional else None
    generator = architectures.build_generator(preset.generator, preset.latent_dim, tuple(image_shape),
                                              condition_classes, **preset.generator_options)
    # PacGAN: the discriminator takes `pack` samples per row, concatenated on the last axis.
    d_input_shape = gans.packed_shape(image_shape, options.get("pack", 1)) if options.get("pack", 1) != 1 \
        else tuple(image_shape)
    discriminator = architectures.build_discriminator(preset.discriminator, d_input_shape, condition_classes,
                                                      **preset.discriminator_options)
    if "num_classes" in inspect.signature(gan_class.__init__).parameters:
        if not num_classes:
            raise UsageError(f"GAN type {preset.gan!r} needs class labels, but dataset {preset.dataset!r} has none.")
        options["num_classes"] = num_classes
    gan = gan_class(generator, discriminator, latent_dim=preset.latent_dim, seed=preset.seed, **options)
    gan.compile(d_optimizer=build_optimizer(preset.d_optimizer), g_optimizer=build_optimizer(preset.g_optimizer),
                loss=preset.loss, jit_compile=preset.jit_compile)
    return gan


def run_config(preset: Preset, info: data.DatasetInfo, gan: Optional[gans.GAN] = None,
               precision: Optional[str] = None) -> Dict[str, Any]:
    """The `config.json` of a run: the preset plus what export/generate need to know.

    `precision` is the dtype policy the run computed in (what `mixed_precision: "auto"` resolved to).

    For a text-conditioned `gan` (one with a `vocabulary`) that includes the caption words and the
    token sequence length, without which captions cannot be turned into the generator's token ids.
    """
    input_shape = info.dataset.element_spec[0].shape[1:]
    config = {**preset.to_dict(), "image_shape": list(info.image_shape), "input_shape": input_shape.as_list(),
              "num_classes": info.num_classes if preset.conditional else None,
              "dataset_num_classes": info.num_classes, "precision": precision}
    if getattr(gan, "vocabulary", None):
        config.update(vocabulary=list(gan.vocabulary), sequence_length=int(gan.sequence_length))
    return config


@contextlib.contextmanager
def _dtype_policy(name: str):
    """Sets the Keras global dtype policy (`float32`, `mixed_float16`, `mixed_bfloat16`) inside the block."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def backup_path(backup_dir: str, strategy: tf.distribute.Strategy) -> str:
    """The folder this worker backs up to: `backup_dir`, or its `worker_<i>` sub-folder under multi-worker."""
    if distribute.num_workers(strategy) > 1:
        return os.path.join(backup_dir, distribute.task_name(strategy))
    return backup_dir


def backup_callback(backup_dir: str, strategy: tf.distribute.Strategy) -> keras.callbacks.BackupAndRestore:
    """A per-epoch `BackupAndRestore` in `backup_dir` (one sub-folder per worker under multi-worker)."""
    return keras.callbacks.BackupAndRestore(backup_path(backup_dir, strategy), save_freq="epoch")


def _read_json(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def config_differences(old: Dict[str, Any], new: Dict[str, Any], ignore: Sequence[str] = ()) -> List[str]:
    """`"field: old -> new"` for every top-level field that differs between two run configs."""
    keys = sorted((set(old) | set(new)) - set(ignore))
    return [f"{key}: {old.get(key)!r} -> {new.get(key)!r}" for key in keys if old.get(key) != new.get(key)]


def _run_artifacts(output_dir: str) -> List[str]:
    return [name for name in RUN_ARTIFACTS if os.path.exists(os.path.join(output_dir, name))]


def check_not_finished(output_dir: str, overwrite: bool) -> None:
    """Raises `UsageError` if `output_dir` holds a finished run and `overwrite` is False."""
    if overwrite or not os.path.exists(os.path.join(output_dir, FINISHED_MARKER)):
        return
    previous = (_read_json(os.path.join(output_dir, "config.json")) or {}).get("name", "unknown")
    raise UsageError(f"Run folder {output_dir!r} already holds a finished run (preset {previous!r}, "
                     f"{FINISHED_MARKER}). Pass --overwrite to replace it, or pick another --output_dir.")


def prepare_run_dir(output_dir: str, config: Dict[str, Any], backup: Optional[str], overwrite: bool) -> bool:
    """Makes `output_dir` hold this run only; returns True when training resumes from the backup.

    * `overwrite`: the previous run's artifacts (`RUN_ARTIFACTS`) and backup are deleted first.
    * a backup in `backup` resumes the run only if it was written for the same config (up to
      `RESUMABLE_CHANGES`) and `output_dir` holds that run or nothing.
    * otherwise `output_dir` must hold no run artifacts (a finished run, or an unfinished one without
      a backup), so two runs never mix their TensorBoard events and sample grids.

    Args:
      output_dir: the run folder (exists).
      config: this run's `run_config`.
      backup: this worker's backup folder (`backup_path`), or None.
      overwrite: start over, deleting a previous run in `output_dir` and `backup`.

    Raises:
      UsageError: naming `--overwrite`, or the config fields that differ from the backed-up run.
    """
    check_not_finished(output_dir, overwrite)
    has_backup = bool(backup) and os.path.exists(os.path.join(backup, BACKUP_STATE))
    if overwrite:
        for name in _run_artifacts(output_dir):
            path = os.path.join(output_dir, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        if has_backup:
            shutil.rmtree(backup)
        return False
    if backup and not has_backup and os.path.isdir(backup) and set(os.listdir(backup)) - {BACKUP_CONFIG}:
        raise UsageError(f"--backup_dir {backup!r} holds other files, and Keras deletes the backup folder when "
                         "training completes; pass a new or empty folder.")
    if has_backup:
        backed_up = _read_json(os.path.join(backup, BACKUP_CONFIG))
        if backed_up is None:
            raise UsageError(f"--backup_dir {backup!r} holds a backup without its run config ({BACKUP_CONFIG}), so "
                             "it cannot be matched to this run. Pass --overwrite to discard it, or another "
                             "--backup_dir.")
        differences = config_differences(backed_up, config, RESUMABLE_CHANGES)
        if differences:
            raise UsageError(f"--backup_dir {backup!r} holds a backup of another run (preset "
                             f"{backed_up.get('name')!r}); it differs in {'; '.join(differences)}. Resume with the "
                             "same preset and flags, or pass --overwrite to discard the backup and start over.")
        previous = _read_json(os.path.join(output_dir, "config.json"))
        if previous is not None and config_differences(previous, config, RESUMABLE_CHANGES):
            raise UsageError(f"Run folder {output_dir!r} holds a different run than the backup in {backup!r} "
                             f"({'; '.join(config_differences(previous, config, RESUMABLE_CHANGES))}). Pass the "
                             "--output_dir of the interrupted run, or --overwrite to start over.")
        return True
    leftovers = _run_artifacts(output_dir)
    if leftovers:
        raise UsageError(f"Run folder {output_dir!r} holds an unfinished run ({', '.join(leftovers)}) and there is "
                         "no backup to resume it from (--backup_dir). Pass --overwrite to delete it and start over, "
                         "or pick another --output_dir.")
    return False


def training_dataset(info: data.DatasetInfo, steps_per_epoch: Optional[int]) -> tf.data.Dataset:
    """The batches `fit` draws from.

    With `steps_per_epoch` set, the dataset is repeated, so every epoch runs exactly that many steps (more
    than one pass of the data, or a fraction of one); Keras would otherwise stop an epoch, and the run,
    when the data ran out. With `steps_per_epoch=None` an epoch is one pass: `info.steps_per_epoch` full
    batches (the remainder of a pass is left out; the data is reshuffled every pass).
    """
    if steps_per_epoch is None:
        if info.num_examples is not None and info.num_examples % info.batch_size:
            logging.warning("%d examples at batch size %d: each epoch runs %d full batches and leaves %d examples "
                            "out (different ones each epoch, as the data is reshuffled).", info.num_examples,
                            info.batch_size, info.steps_per_epoch, info.num_examples % info.batch_size)
        return info.dataset
    return info.dataset.repeat()


def train(preset: Preset, output_dir: str, strategy: Optional[tf.distribute.Strategy] = None,
          extra_callbacks: Sequence[keras.callbacks.Callback] = (), verbose: Any = "auto",
          backup_dir: Optional[str] = None, overwrite: bool = False, eval_every: Optional[int] = None,
          eval_metric: str = "fid", eval_samples: int = 2000,
          precision: Optional[hardware.PrecisionChoice] = None) -> TrainResult:
    """Trains `preset` and writes the run folder `output_dir` (see the module docstring).

    Args:
      preset: the validated configuration.
      output_dir: run folder (created). It must not hold another run unless `overwrite`.
      strategy: a `tf.distribute.Strategy` to build and train under (default: the current one),
        e.g. `tfgan_app.distribute.get_strategy("mirrored")`.
      extra_callbacks: more Keras callbacks for `fit`, e.g. the quality report
        (`tfgan_app.evaluation.quality.quality_callbacks`), which `tfgan train` attaches.
      verbose: `fit` verbosity ("auto": a progress bar on a terminal, a line per epoch otherwise).
      backup_dir: folder for fault-tolerance backups, or None. If it holds a backup of an interrupted run
        of the same config, training resumes from it; it is deleted when training completes.
      overwrite: replace a run already in `output_dir` (its artifacts and backup are deleted first).
      eval_every: evaluate `eval_metric` every this many epochs (and after the last) on `eval_samples`
        samples, log it to TensorBoard and keep the best generator as `best_generator.keras`
        (`tfgan_app.evaluation.EvaluationCallback`); None: no evaluation.
      eval_metric: comma-separated metrics; the first decides "best" (fid, kid, is, pr, confidence,
        high_quality, modes).
      eval_samples: samples per evaluation.
      precision: the dtype policy to compute in; None: `preset.mixed_precision` resolved against this machine's
        hardware (`tfgan_app.hardware.choose_precision`; a warning is logged where the hardware emulates it).

    Raises:
      UsageError: `output_dir` / `backup_dir` cannot be written, `output_dir` holds another run (and not
        `overwrite`), or the backup belongs to a different config.
    """
    if verbose == "auto":
        verbose = 1 if sys.stdout.isatty() else 2
    strategy = strategy or tf.distribute.get_strategy()
    output_dir = writable_dir(distribute.worker_output_dir(output_dir, strategy), "--output_dir")
    backup = writable_dir(backup_path(backup_dir, strategy), "--backup_dir") if backup_dir else None
    check_not_finished(output_dir, overwrite)  # before the (slow) data loading
    evaluation = None
    if eval_every is not None:
        evaluation = EvaluationCallback(
            preset.dataset, metrics=eval_metric, every_n_epochs=eval_every, num_samples=eval_samples,
            log_dir=os.path.join(output_dir, "logs"), seed=preset.seed + 2,
            best_path=os.path.join(output_dir, "best_generator.keras"),
            save_generator=lambda generator, path: float32_generator(generator).save(path))
    if precision is None:
        precision = hardware.choose_precision(preset.mixed_precision, hardware.detect_hardware(strategy))
        logging.info("Precision: %s", precision.describe())
        if precision.warning:
            logging.warning(precision.warning)
    keras.utils.set_random_seed(preset.seed)
    info = load_data(preset)
    with _dtype_policy(precision.policy), strategy.scope():
        gan = build_gan(preset, info.image_shape, info.num_classes, info)
    config = run_config(preset, info, gan, precision.policy)
    resumed = prepare_run_dir(output_dir, config, backup, overwrite)
    if resumed and evaluation is not None:
        evaluation.resume_best()  # the first evaluation after resuming must beat the interrupted run's best
    with open(os.path.join(output_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    if backup:
        with open(os.path.join(backup, BACKUP_CONFIG), "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2)
    log_dir = os.path.join(output_dir, "logs")
    # 2-D toy mixtures are plotted as 1,000 points over the mixture's modes instead of an image grid.
    toy_plot_options = ({"mixture": preset.dataset.split(":", 1)[1], "num_samples": 1000}
                        if preset.dataset.startswith("toy:") else {})
    fit_callbacks = [
        gan_callbacks.StopOnNonFiniteLoss(),  # first: a diverged batch must stop before anything is saved
        *([keras.callbacks.BackupAndRestore(backup, save_freq="epoch")] if backup else []),
        gan.sample_grid_callback(output_dir, info.dataset, seed=preset.seed, log_dir=log_dir, **toy_plot_options),
        keras.callbacks.TensorBoard(log_dir=log_dir, update_freq=preset.log_every_steps or "epoch"),
        keras.callbacks.ModelCheckpoint(os.path.join(output_dir, "checkpoints", "gan.keras")),
        *([evaluation] if evaluation is not None else []),
        *extra_callbacks,
    ]
    start = time.time()
    history = gan.fit(training_dataset(info, preset.steps_per_epoch), epochs=preset.epochs,
                      steps_per_epoch=preset.steps_per_epoch, callbacks=fit_callbacks, verbose=verbose,
                      shuffle=False)
    seconds = time.time() - start
    # The generator to sample from: the EMA generator when enabled (the raw one stays in gan.keras).
    float32_generator(gan.sampling_generator).save(os.path.join(output_dir, "generator.keras"))
    if isinstance(gan, gans.CycleGAN):  # its second generator, for `tfgan export --direction=b_to_a`
        float32_generator(gan.generator_b_to_a).save(os.path.join(output_dir, "generator_b_to_a.keras"))
    gan.save(os.path.join(output_dir, "gan.keras"))
    return TrainResult(gan, history.history, output_dir, seconds)
