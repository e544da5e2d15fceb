"""tfgan train: train a GAN from a model preset.

Picks a preset from models/ by name (--model), applies flag overrides, trains
with Keras `fit` (progress on the terminal, TensorBoard logs, a sample grid PNG
per epoch, a checkpoint per epoch) and saves the generator and the whole GAN in
Keras format in --output_dir.

Examples:
  tfgan train                                   # models/dcgan_mnist.json on offline MNIST
  tfgan train --model=cgan_mnist --epochs=2     # a conditional GAN
  tfgan train --dataset=folder:/data/faces --set image_size=64 --set channels=3
  tfgan train --set generator_options.base_filters=32 --set loss=hinge
  tfgan train --list_models                     # the presets and what they are
  tfgan train --strategy=mirrored               # data-parallel on all local GPUs
  tfgan train --mixed_precision=float32 --jit_compile   # float32 whatever the hardware, XLA
  tfgan train --epochs=3                        # interrupted? rerun the same command: it resumes
  tfgan train --resume=runs/dcgan_mnist --epochs=5   # train a finished run 2 epochs more
  tfgan train --overwrite                       # replace the finished run in runs/dcgan_mnist
  tfgan train --eval_every=1 --eval_metric=fid  # FID each epoch to TensorBoard; keeps best_generator.keras
  tfgan train --set gan_options.ema_decay=0.999 # sample from an EMA of the generator

Progress line and TensorBoard metrics: d_loss and g_loss are the discriminator and generator losses;
d_real and d_fake are the mean raw discriminator output (logit, or critic score for WGANs) on real and on
generated images, averaged over the epoch so far: d_real well above d_fake means D tells them apart.
TensorBoard (tensorboard --logdir <output_dir>/logs) shows them for every epoch (epoch_<name>, step = epoch
index, like the `samples` image grids and the --eval_every scores), with epoch_d_learning_rate,
epoch_g_learning_rate and epoch_images_per_second, and every --log_every_steps steps (batch_<name>, step = batch).

A run folder holds one run, and every run can be resumed: the training state is backed up to
<output_dir>/backup (or --backup_dir) every --backup_every_steps steps and at every epoch end. Rerun the
same command after a crash and it resumes on the batch of the last backup, ending bit-identical to an
uninterrupted run (README, "Fault tolerance"); a run that stopped before its first backup starts over.
The first line says which. A finished run is an error unless --resume=RUN --epochs=N (train it further)
or --overwrite (delete the previous run's files first). A backup resumes only the run it was made for
(same preset and flags; --epochs may change).
  python scripts/launch_workers.py --num_workers=2 -- tfgan train --strategy=multi_worker

Multi-worker: every worker runs the same command with its own TF_CONFIG; worker 0
writes --output_dir, worker i writes --output_dir/workers/worker_i.
"""

import json
import os
import sys

from absl import flags

from tfgan_app import presets
from tfgan_app.cli import quiet
from tfgan_app.errors import UsageError
from tfgan_app.hardware import PRECISION_CHOICES
from tfgan_app.names import STRATEGIES

DEFAULT_MODEL = "dcgan_mnist"
FLAG_GROUPS = {  # how `tfgan train --help` lists the flags
    "What to train": ["model", "list_models", "dataset", "set", "epochs", "steps_per_epoch", "batch_size",
                      "latent_dim", "seed"],
    "Where it goes, resuming": ["output_dir", "resume", "overwrite", "backup_dir", "backup_every_steps"],
    "Hardware": ["strategy", "mixed_precision", "jit_compile"],
    "Monitoring and keep-the-best": ["log_every_steps", "eval_every", "eval_metric", "eval_samples", "verbosity"],
}


def define_flags(fv: flags.FlagValues) -> None:
    flags.DEFINE_string("model", DEFAULT_MODEL, "Preset name in models/ (see --list_models) or a preset .json path.",
                        flag_values=fv)
    flags.DEFINE_bool("list_models", False, "List the available presets and exit.", flag_values=fv)
    flags.DEFINE_string("dataset", None, "Dataset spec: mnist, fashion_mnist, tfds:NAME, folder:/PATH or "
                        "tfrecord:DIR (from tfgan prepare) (default: the preset's).", flag_values=fv)
    flags.DEFINE_integer("epochs", None, "Epochs to train (default: the preset's).", flag_values=fv)
    flags.DEFINE_integer("steps_per_epoch", None, "Batches per epoch, exactly (the data is repeated as needed; "
                         "default: one full pass over the data).",
                         flag_values=fv)
    flags.DEFINE_integer("batch_size", None, "Global batch size (default: the preset's).", flag_values=fv)
    flags.DEFINE_integer("latent_dim", None, "Size of the latent vector z (default: the preset's).", flag_values=fv)
    flags.DEFINE_integer("seed", None, "Seed of shuffling, initial weights and latents (default: the preset's).",
                         flag_values=fv)
    flags.DEFINE_multi_string("set", [], "Override any preset field: --set field=value (JSON values; dotted "
                              "names reach into options, e.g. --set generator_options.base_filters=32).",
                              flag_values=fv)
    flags.DEFINE_string("output_dir", None, "Run folder for checkpoints, samples, logs and the saved models "
                        "(default: runs/<model>).", flag_values=fv)
    flags.DEFINE_enum("strategy", "default", list(STRATEGIES),
                      "Distribution strategy: default (one device, GPU:0 if present), mirrored (all local GPUs), "
                      "multi_worker (the cluster in TF_CONFIG), tpu (the TPU in $TPU_NAME or the local TPU VM). "
                      "--batch_size is the global batch, split across replicas.", flag_values=fv)
    flags.DEFINE_enum("mixed_precision", None, list(PRECISION_CHOICES),
                      "Keras dtype policy (default: the preset's, auto). auto: bfloat16 where the hardware computes "
                      "it natively (AVX-512 BF16/AMX CPUs, GPUs >= 8.0, TPUs), float16 on 7.x GPUs, else float32. "
                      "mixed_float16 wraps both optimizers in a LossScaleOptimizer.", flag_values=fv)
    flags.DEFINE_bool("jit_compile", None, "XLA-compile the train step (default: the preset's).", flag_values=fv)
    flags.DEFINE_integer("log_every_steps", None, "TensorBoard: also log the training metrics every this many "
                         "steps as batch_<name> scalars (default: the preset's, 100).", flag_values=fv)
    flags.DEFINE_string("backup_dir", None, "Fault tolerance: back the training state up here instead of "
                        "<output_dir>/backup (both optimizers, step counters, weights, the data position). After a "
                        "crash, run the same command again to resume from the last backup; the folder is deleted "
                        "when training completes. A backup resumes only a run of the same preset and flags.",
                        flag_values=fv)
    flags.DEFINE_integer("backup_every_steps", 500, "Back the training state up every this many steps (and at "
                         "every epoch end); 0: at epoch ends only.", flag_values=fv)
    flags.DEFINE_string("resume", None, "Continue the run in this folder with its own preset and flags: a finished "
                        "run from its gan.keras up to --epochs (more than it trained), an interrupted one from "
                        "its backup.", flag_values=fv)
    flags.DEFINE_bool("overwrite", False, "Replace a run already in --output_dir: delete its models, samples, "
                      "logs, checkpoints and backup first (without it, such a folder is an error).",
                      flag_values=fv)
    flags.DEFINE_integer("eval_every", None, "Evaluate --eval_metric every N epochs (and after the last), log it to "
                         "TensorBoard (evaluation/<metric>) and keep the generator of the best evaluation as "
                         "best_generator.keras (what tfgan export exports by default).", flag_values=fv)
    flags.DEFINE_string("eval_metric", "auto", "Metrics for --eval_every, comma-separated; the first decides which "
                        "generator is best. auto (default): fcd on mnist / fashion_mnist, coverage on toy data, else "
                        "fid. fid, kid, fcd (Frechet distance in the shipped MNIST / Fashion-MNIST classifier's "
                        "features; lower is better, and a collapsed generator cannot win it), is, pr, confidence "
                        "(shipped classifier; a one-class generator can score 1.0), label_accuracy (conditional GANs: share of samples that classifier "
                        "reads as the requested class), high_quality, modes, coverage (2-D toy data: modes share x "
                        "high-quality share).", flag_values=fv)
    flags.DEFINE_integer("eval_samples", 2000, "Samples per --eval_every evaluation.", flag_values=fv)


def resolve_preset(fv: flags.FlagValues) -> presets.Preset:
    """The preset named by --model with every override flag applied."""
    if fv.resume:
        if fv["model"].present:
            raise UsageError(f"--resume continues a run with its own preset; drop --model. Received: "
                             f"--model={fv.model}, --resume={fv.resume}")
        config_path = os.path.join(fv.resume, "config.json")
        try:
            with open(config_path, encoding="utf-8") as f:
                preset = presets.from_run_config(json.load(f))
        except (OSError, ValueError) as e:
            raise UsageError(f"--resume expects a run folder written by `tfgan train`; could not read "
                             f"{config_path!r} ({e}). Received: --resume={fv.resume}") from e
    else:
        preset = presets.load_preset(fv.model)
    overrides = [f"{name}={json.dumps(fv[name].value)}" for name in
                 ("dataset", "epochs", "steps_per_epoch", "batch_size", "latent_dim", "seed", "mixed_precision",
                  "jit_compile", "log_every_steps")
                 if fv[name].value is not None]
    return presets.apply_overrides(preset, overrides + list(fv.set))


def run(fv: flags.FlagValues) -> int:
    if fv.list_models:
        for name in presets.available_presets():
            print(f"{name:<24} {presets.load_preset(name).description}")
        return 0
    preset = resolve_preset(fv)
    quiet.import_tensorflow()
    # deferred so --help does not import TensorFlow
    from tfgan_app import distribute, hardware, training  # pylint: disable=import-outside-toplevel
    from tfgan_app.evaluation import format_quality_report  # pylint: disable=import-outside-toplevel
    from tfgan_app.evaluation.quality import quality_callbacks  # pylint: disable=import-outside-toplevel
    if fv.resume and fv.output_dir and os.path.abspath(fv.output_dir) != os.path.abspath(fv.resume):
        raise UsageError(f"--resume trains the run in its own folder; drop --output_dir. Received: "
                         f"--output_dir={fv.output_dir}, --resume={fv.resume}")
    output_dir = fv.resume or fv.output_dir or os.path.join("runs", preset.name)
    strategy = distribute.get_strategy(fv.strategy)
    worker_dir = distribute.worker_output_dir(output_dir, strategy)
    start = training.start_point(worker_dir, training.run_backup_dir(output_dir, fv.backup_dir, strategy),
                                 resume=bool(fv.resume), overwrite=fv.overwrite)
    precision = hardware.choose_precision(preset.mixed_precision, hardware.detect_hardware(strategy))
    what = (f"preset {preset.name!r} on {preset.dataset!r} for {preset.epochs} epoch(s) in {precision.describe()} "
            f"under {distribute.describe(strategy)}")
    if start.mode in ("resume", "restart", "continue"):
        print(f"{start.describe(worker_dir)}: {what}", flush=True)
    else:
        print(f"Training {what}; output in {worker_dir}", flush=True)
    if precision.warning:
        print(f"warning: {precision.warning}", file=sys.stderr, flush=True)
    quality = quality_callbacks(preset.dataset, worker_dir, preset.seed)
    result = training.train(preset, output_dir, strategy=strategy, backup_dir=fv.backup_dir,
                            overwrite=fv.overwrite, eval_every=fv.eval_every, eval_metric=fv.eval_metric,
                            eval_samples=fv.eval_samples, extra_callbacks=quality, resume=bool(fv.resume),
                            backup_every_steps=fv.backup_every_steps or None, precision=precision)
    print(f"Done in {result.seconds:.0f} s. Generator: {result.generator_path}  GAN: {result.gan_path}  "
          f"Samples: {os.path.join(result.output_dir, 'samples')}  "
          f"TensorBoard: tensorboard --logdir {result.output_dir}/logs")
    if fv.eval_every is not None:
        from tfgan_app.evaluation.callback import parse_eval_metrics  # pylint: disable=import-outside-toplevel
        print(f"Best generator: {os.path.join(result.output_dir, 'best_generator.keras')} (see "
              f"best_generator.keras.json for its epoch and {parse_eval_metrics(fv.eval_metric, preset.dataset)[0]})")
    if result.quality is not None:
        print(f"Sample quality ({result.quality['num_samples']} samples judged by the shipped "
              f"{preset.dataset} classifier): {format_quality_report(result.quality)}")
    return 0
