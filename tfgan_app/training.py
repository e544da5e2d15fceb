"""A training run: preset → dataset → GAN → `fit` → artifacts in an output folder.

`train(preset, output_dir)` is what `tfgan train` calls. The output folder holds:

    config.json          the resolved preset + image_shape / num_classes (read by export and generate)
    generator.keras      the trained generator (keras.saving.load_model); with `ema_decay` set, the EMA
                         generator (what generate / export / evaluation read); the raw one is in gan.keras
    best_generator.keras with `eval_every`: the generator at the best evaluation so far (+ `.json`: epoch, value)
    generator_b_to_a.keras  CycleGAN only: the B -> A generator (`generator.keras` is A -> B)
    gan.keras            the whole GAN with both optimizers' state (load and keep training)
    samples/epoch_*.png  sample grids from a fixed latent batch
    logs/                TensorBoard: epoch_* scalars for every epoch (d_loss, g_loss, ..., both learning
                         rates, images/s), batch_* every `log_every_steps` steps, sample images,
                         evaluation/* with `eval_every`
    checkpoints/         gan.keras after every epoch
    backup/              the training state while a run is under way (deleted when it completes)

A run folder holds exactly one run. `train` refuses a folder that holds a finished run (it has
`generator.keras`) unless `resume=True` (`tfgan train --resume=RUN --epochs=N`: train it further from
`gan.keras`) or `overwrite=True` (`tfgan train --overwrite`), which first deletes the previous run's
artifacts (the files above, nothing else) and its backup. Every epoch of `fit` runs exactly
`steps_per_epoch` batches when that is set: the dataset is repeated rather than running out early.

Scale-out and fault tolerance (see `tfgan_app.distribute`): pass a
`tf.distribute.Strategy` and the GAN is built, compiled and trained under it
(under a multi-worker strategy only the chief writes `output_dir`; the others
write `output_dir/workers/worker_<index>`). Every run backs the whole training
state up (`callbacks.ResumableBackup`: both optimizers with their step counters,
the weights, the epoch and the batch within it) to `output_dir/backup` (or
`backup_dir`) every `backup_every_steps` steps and at every epoch end; running
the same `train` again after a crash resumes on the batch of the last backup:
the data is one seeded stream (`training_dataset`) of which the batches already
trained are skipped, and every per-step random draw is a function of the step
counters, so the run ends bit-identical to an uninterrupted one. A run that
stopped before its first backup starts over (if it is the same run). The backup
folder also records the run's config (`tfgan_config.json`): a backup resumes
only a run of the same config (the epoch count may change), otherwise `train`
stops with the fields that differ. `start_point` tells, from the files alone,
how a run will start.
"""

import contextlib
import dataclasses
import inspect
import json
import os
import shutil
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import keras
import tensorflow as tf
from absl import logging

from tfgan_app import architectures, callbacks as gan_callbacks, data, distribute, gans, hardware
from tfgan_app.artifacts.run_dir import float32_generator
from tfgan_app.errors import UsageError
from tfgan_app.evaluation.callback import EvaluationCallback
from tfgan_app.paths import writable_dir
from tfgan_app.presets import Preset, build_optimizer, check_options, keyword_parameters

BACKUP_FOLDER = "backup"  # the run's own backup folder, inside the run folder (unless `backup_dir`)
RUN_ARTIFACTS = ("config.json", "generator.keras", "generator_b_to_a.keras", "gan.keras", "quality.json",
                 "best_generator.keras", "best_generator.keras.json",
                 "evaluation.json", "samples", "logs", "checkpoints", BACKUP_FOLDER)
FINISHED_MARKER = "generator.keras"  # written once `fit` has completed
BACKUP_CONFIG = "tfgan_config.json"  # the config of the run a backup folder belongs to
BACKUP_STATE = "training_metadata.json"  # written by `callbacks.ResumableBackup` with every backup
# Config fields that may differ when resuming from a backup ("precision": "auto" on another machine).
RESUMABLE_CHANGES = ("epochs", "precision")
BACKUP_EVERY_STEPS = 500  # default: a backup every this many steps (and at every epoch end)


@dataclasses.dataclass
class StartPoint:
    """Where a run in a run folder starts, read from its files before anything is built.

    mode: "new" (empty folder, or `overwrite`), "resume" (an interrupted run, from its backup),
      "restart" (an interrupted run that stopped before its first backup: it starts over), "continue"
      (a finished run trained for more epochs, from its `gan.keras`) or "finished" (refused without
      `resume` / `overwrite`).
    epoch, batches_done: the 0-based epoch and the batches of it already trained.
    """

    mode: str
    epoch: int = 0
    batches_done: int = 0
    source: str = ""

    def describe(self, output_dir: str) -> str:
        """One line for the user: what happens to the run in `output_dir`, from where."""
        where = (f"epoch {self.epoch + 1}, after {self.batches_done} of its steps" if self.batches_done
                 else f"the start of epoch {self.epoch + 1}")
        return {"new": f"Starting a new run in {output_dir}",
                "resume": f"Resuming the interrupted run in {output_dir} from its backup {self.source} ({where})",
                "restart": f"Restarting the interrupted run in {output_dir} from the beginning: it stopped before "
                           "its first backup",
                "continue": f"Continuing the finished run in {output_dir} from {self.source} (after epoch "
                            f"{self.epoch})",
                "finished": f"Run folder {output_dir} holds a finished run"}[self.mode]


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
                          "seed", "num_classes", "vocabulary", "sample_captions", "stage1_discriminator")


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


def run_backup_dir(output_dir: str, backup_dir: Optional[str], strategy: tf.distribute.Strategy) -> str:
    """This worker's backup folder: `backup_dir` (its `worker_<i>` sub-folder under multi-worker), else the
    run's own `<this worker's output_dir>/backup`."""
    if backup_dir:
        return backup_path(backup_dir, strategy)
    return os.path.join(distribute.worker_output_dir(output_dir, strategy), BACKUP_FOLDER)


def backup_position(backup: str) -> Optional[Tuple[int, int]]:
    """(0-based epoch, batches of it done) of the backup in `backup`, None without one.

    Backups written before mid-epoch backups existed hold the epoch only: they sit at its start."""
    state = _read_json(os.path.join(backup, BACKUP_STATE))
    if state is None:
        return None
    return int(state.get("epoch", 0)), int(state.get("batches_done", 0))


def start_point(output_dir: str, backup: str, resume: bool = False, overwrite: bool = False) -> StartPoint:
    """How a run in `output_dir` starts (see `StartPoint`), from its files only: no TensorFlow work.

    Args:
      output_dir: this worker's run folder.
      backup: this worker's backup folder (`run_backup_dir`).
      resume: continue a finished run for more epochs.
      overwrite: start over whatever the folder holds.
    """
    if overwrite:
        return StartPoint("new")
    position = backup_position(backup)
    finished = os.path.exists(os.path.join(output_dir, FINISHED_MARKER))
    if position is not None and (resume or not finished):
        return StartPoint("resume", *position, source=backup)
    if finished:
        if not resume:
            return StartPoint("finished")
        epochs = int((_read_json(os.path.join(output_dir, "config.json")) or {}).get("epochs", 0))
        return StartPoint("continue", epochs, 0, source=os.path.join(output_dir, "gan.keras"))
    if [name for name in _run_artifacts(output_dir) if name != BACKUP_FOLDER]:
        return StartPoint("restart")
    return StartPoint("new")


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


def check_not_finished(output_dir: str, overwrite: bool, resume: bool = False) -> None:
    """Raises `UsageError` if `output_dir` holds a finished run and neither `overwrite` nor `resume`."""
    if overwrite or resume or not os.path.exists(os.path.join(output_dir, FINISHED_MARKER)):
        return
    config = _read_json(os.path.join(output_dir, "config.json")) or {}
    name = config.get("name", "unknown")
    raise UsageError(f"Run folder {output_dir!r} already holds a finished run (preset {name!r}, "
                     f"{config.get('epochs', '?')} epochs, {FINISHED_MARKER}). Pass --resume={output_dir} "
                     "--epochs=N to train it further, --overwrite to replace it, or pick another --output_dir.")


def _delete(paths: Sequence[str]) -> None:
    for path in paths:
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def _check_same_run(holds: str, previous: Optional[Dict[str, Any]], config: Dict[str, Any], hint: str) -> None:
    """Raises `UsageError` naming the fields that differ between a previous run's config and this one.

    `holds` starts the message: "Backup folder 'x' holds a backup" + " of another run (preset ...)"."""
    differences = config_differences(previous or {}, config, RESUMABLE_CHANGES)
    if differences:
        raise UsageError(f"{holds} of another run (preset {(previous or {}).get('name')!r}); it differs in "
                         f"{'; '.join(differences)}. {hint}")


def prepare_run_dir(output_dir: str, config: Dict[str, Any], backup: str, overwrite: bool,
                    start: StartPoint) -> None:
    """Makes `output_dir` hold this run only, as `start` (`start_point`) says; nothing is lost silently.

    * "new" with `overwrite`: the previous run's artifacts (`RUN_ARTIFACTS`) and backup are deleted first.
    * "resume": the backup must have been written for the same config (up to `RESUMABLE_CHANGES`), and
      `output_dir` hold that run or nothing.
    * "restart": the interrupted run's leftovers are deleted if they are this run's (same config);
      another run's leftovers are an error.
    * "continue": the finished run must be this config with more epochs.

    Args:
      output_dir: the run folder (exists).
      config: this run's `run_config`.
      backup: this worker's backup folder (`run_backup_dir`).
      overwrite: start over, deleting a previous run in `output_dir` and `backup`.
      start: where the run starts.

    Raises:
      UsageError: naming `--overwrite`, or the config fields that differ from the previous run's.
    """
    check_not_finished(output_dir, overwrite, resume=start.mode in ("continue", "resume"))
    previous = _read_json(os.path.join(output_dir, "config.json"))
    fresh_hint = "Pass --overwrite to delete it and start over, or pick another --output_dir."
    if overwrite:
        _delete([os.path.join(output_dir, name) for name in _run_artifacts(output_dir)] + [backup])
        return
    if os.path.isdir(backup) and set(os.listdir(backup)) - {BACKUP_CONFIG, BACKUP_STATE, "latest.weights.h5"} \
            and os.path.dirname(os.path.abspath(backup)) != os.path.abspath(output_dir):
        raise UsageError(f"--backup_dir {backup!r} holds other files, and a backup folder is deleted when "
                         "training completes; pass a new or empty folder.")
    if start.mode == "resume":
        backed_up = _read_json(os.path.join(backup, BACKUP_CONFIG))
        if backed_up is None:
            raise UsageError(f"Backup folder {backup!r} holds a backup without its run config ({BACKUP_CONFIG}), "
                             "so it cannot be matched to this run. Pass --overwrite to discard it, or another "
                             "--backup_dir.")
        _check_same_run(f"Backup folder {backup!r} holds a backup", backed_up, config, "Resume with the same "
                        "preset and flags, or pass --overwrite to discard the backup and start over.")
        if previous is not None:
            _check_same_run(f"Run folder {output_dir!r} (unlike its backup {backup!r}) holds the files", previous,
                            config, "Pass the --output_dir of the interrupted run, or --overwrite to start over.")
    elif start.mode == "continue":
        _check_same_run(f"Run folder {output_dir!r} holds a finished run", previous, config, "--resume continues a "
                        "run with its own preset and flags; only --epochs may change.")
        if config["epochs"] <= start.epoch:
            raise UsageError(f"Run folder {output_dir!r} already trained {start.epoch} epochs; pass --epochs "
                             f"greater than that to continue it. Received: epochs={config['epochs']}")
    elif start.mode == "restart":
        leftovers = _run_artifacts(output_dir)
        if previous is None:
            raise UsageError(f"Run folder {output_dir!r} holds files of an unknown run ({', '.join(leftovers)}) "
                             f"without its config.json. {fresh_hint}")
        _check_same_run(f"Run folder {output_dir!r} holds an unfinished run (stopped before its first backup)",
                        previous, config, fresh_hint)
        _delete([os.path.join(output_dir, name) for name in leftovers])


def training_dataset(info: data.DatasetInfo, steps_per_epoch: Optional[int],
                     skip_batches: int = 0) -> Tuple[tf.data.Dataset, Optional[int]]:
    """The batches `fit` draws from, and the steps per epoch to pass to `fit`.

    Whenever the steps per epoch are known (`steps_per_epoch`, else one pass: `info.steps_per_epoch` full
    batches; the remainder of a pass is left out and the data reshuffled every pass), the data is one
    repeated stream, so every epoch runs exactly that many steps and batch k of the run is the same batch
    whether or not the run was interrupted: a resumed run skips the `skip_batches` it already trained.
    A dataset of unknown size (`tfds:` without a size) is iterated a pass per epoch, and cannot skip.

    Raises:
      UsageError: `skip_batches` for a dataset of unknown size.
    """
    if steps_per_epoch is None:
        if info.num_examples is not None and info.num_examples % info.batch_size:
            logging.warning("%d examples at batch size %d: each epoch runs %d full batches and leaves %d examples "
                            "out (different ones each epoch, as the data is reshuffled).", info.num_examples,
                            info.batch_size, info.steps_per_epoch, info.num_examples % info.batch_size)
        steps_per_epoch = info.steps_per_epoch
    if steps_per_epoch is None:
        if skip_batches:
            raise UsageError(f"Cannot resume mid-epoch on a dataset of unknown size. Received: "
                             f"skip_batches={skip_batches}; set --steps_per_epoch.")
        return info.dataset, None
    stream = info.dataset.repeat()
    return (stream.skip(skip_batches) if skip_batches else stream), steps_per_epoch


def train(preset: Preset, output_dir: str, strategy: Optional[tf.distribute.Strategy] = None,
          extra_callbacks: Sequence[keras.callbacks.Callback] = (), verbose: Any = "auto",
          backup_dir: Optional[str] = None, overwrite: bool = False, eval_every: Optional[int] = None,
          eval_metric: str = "auto", eval_samples: int = 2000, resume: bool = False,
          backup_every_steps: Optional[int] = BACKUP_EVERY_STEPS,
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
      backup_dir: folder for fault-tolerance backups instead of the run's own `output_dir/backup`. If the
        backup folder holds a backup of an interrupted run of the same config, training resumes from it, on
        the batch where it was taken; it is deleted when training completes. An interrupted run without a
        backup yet starts over.
      overwrite: replace a run already in `output_dir` (its artifacts and backup are deleted first).
      resume: continue a finished run in `output_dir` from its `gan.keras` up to `preset.epochs` (or an
        interrupted one from its backup, as without `resume`).
      backup_every_steps: back the training state up every this many steps as well as at every epoch end
        (None: at epoch ends only).
      eval_every: evaluate `eval_metric` every this many epochs (and after the last) on `eval_samples`
        samples, log it to TensorBoard and keep the best generator as `best_generator.keras`
        (`tfgan_app.evaluation.EvaluationCallback`); None: no evaluation.
      eval_metric: comma-separated metrics; the first decides "best" ("auto": fcd on digits, see
        `evaluation.callback.default_eval_metric`; fid, fcd, kid, is, pr, confidence,
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
    backup = run_backup_dir(output_dir, backup_dir, strategy)
    output_dir = writable_dir(distribute.worker_output_dir(output_dir, strategy), "--output_dir")
    backup = writable_dir(backup, "--backup_dir")
    start = start_point(output_dir, backup, resume=resume, overwrite=overwrite)
    check_not_finished(output_dir, overwrite, resume=resume)  # before the (slow) data loading
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
    prepare_run_dir(output_dir, config, backup, overwrite, start)
    if start.mode in ("resume", "continue") and evaluation is not None:
        evaluation.resume_best()  # the first evaluation after resuming must beat the interrupted run's best
    with open(os.path.join(output_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    os.makedirs(backup, exist_ok=True)
    with open(os.path.join(backup, BACKUP_CONFIG), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    log_dir = os.path.join(output_dir, "logs")
    # 2-D toy mixtures are plotted as 1,000 points over the mixture's modes instead of an image grid.
    toy_plot_options = ({"mixture": preset.dataset.split(":", 1)[1], "num_samples": 1000}
                        if preset.dataset.startswith("toy:") else {})
    # Before the training stream exists: image-to-image grids draw their fixed inputs from `info.dataset`.
    sample_grid = gan.sample_grid_callback(output_dir, info.dataset, seed=preset.seed, log_dir=log_dir,
                                           **toy_plot_options)
    steps_per_epoch = preset.steps_per_epoch or info.steps_per_epoch
    dataset, steps_per_epoch = training_dataset(
        info, preset.steps_per_epoch, skip_batches=start.epoch * (steps_per_epoch or 0) + start.batches_done)
    backup_callback = gan_callbacks.ResumableBackup(
        backup, save_freq=backup_every_steps if backup_every_steps and steps_per_epoch else "epoch",
        first_epoch_offset=start.batches_done, steps_per_epoch=steps_per_epoch)
    if start.mode == "continue":  # the finished run's state, as the backup a resumed run starts from
        gan.load_weights(start.source)
        backup_callback.set_model(gan)
        backup_callback.write(start.epoch, 0)
    fit_callbacks = [
        gan_callbacks.StopOnNonFiniteLoss(),  # first: a diverged batch must stop before anything is saved
        backup_callback,
        sample_grid,
        gan_callbacks.GANTensorBoard(log_dir, preset.batch_size, update_freq=preset.log_every_steps or "epoch",
                                     initial_step=start.epoch * (steps_per_epoch or 0) + start.batches_done),
        keras.callbacks.ModelCheckpoint(os.path.join(output_dir, "checkpoints", "gan.keras")),
        *([evaluation] if evaluation is not None else []),
        *extra_callbacks,
    ]
    start_time = time.time()
    history = gan.fit(dataset, epochs=preset.epochs, steps_per_epoch=steps_per_epoch, callbacks=fit_callbacks,
                      verbose=verbose, shuffle=False)
    seconds = time.time() - start_time
    # The generator to sample from: the EMA generator when enabled (the raw one stays in gan.keras).
    float32_generator(gan.sampling_generator).save(os.path.join(output_dir, "generator.keras"))
    if isinstance(gan, gans.CycleGAN):  # its second generator, for `tfgan export --direction=b_to_a`
        float32_generator(gan.generator_b_to_a).save(os.path.join(output_dir, "generator_b_to_a.keras"))
    gan.save(os.path.join(output_dir, "gan.keras"))
    shutil.rmtree(backup, ignore_errors=True)  # last: a run killed while saving still resumes
    return TrainResult(gan, history.history, output_dir, seconds)
