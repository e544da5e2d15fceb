"""Mode coverage of the 2-D presets vs a vanilla GAN, over seeds: last, EMA and best generators, timed.

For each preset (default `unrolled_ring8`, `minibatch_grid25`, `pacgan_grid25`) and
seed, runs `tfgan_app.training.train` exactly as `tfgan train` does (run folder in
a temporary directory), with the keep-best callback evaluating `coverage` (share
of modes covered × share of high-quality samples) on 2,500 samples after every
epoch. Then draws 2,500 samples (a fixed seed, not the evaluation one) from

* `last`: the generator at the end of training (the raw one, not the EMA),
* `ema`: the EMA generator (presets with `ema_decay`),
* `best`: `best_generator.keras` (the EMA one when enabled),

and prints `tfgan_app.evaluation.mode_coverage.mode_coverage`: modes covered
(≥ 1 sample within 3σ), % high-quality samples (within 3σ of a mode) and the
reverse KL of the mode histogram vs uniform, with the training time and the
machine load (1-minute load average) at the end of the run. `--baseline` adds,
for each preset, a vanilla GAN on the same data with the preset's generator, an
MLP discriminator of the preset's widths and no technique (no unrolling,
minibatch discrimination, packing or EMA).

`--baseline_only` trains just the vanilla GANs. `--threads=N` caps TensorFlow's
intra- and inter-op thread pools (these tiny MLPs run no faster on more cores; 1
lets two comparisons share a 2-core machine), `--markdown=PATH` also writes
the final table there, and `--keep_runs=DIR` keeps each run folder (generators,
samples, keep-best record) as DIR/PRESET_seedS instead of deleting it.

Usage:
  python scripts/compare_mode_coverage.py --seeds=0,1,2 --baseline --threads=1 --markdown=table.md
  python scripts/compare_mode_coverage.py --presets=pacgan_grid25 --seeds=0 --set epochs=2
"""

import argparse
import contextlib
import copy
import os
import tempfile
from typing import Optional

import keras
import tensorflow as tf

from tfgan_app import presets, training
from tfgan_app.evaluation.mode_coverage import mode_coverage
from tfgan_app.artifacts.run_dir import load_keras_generator
from tfgan_app.latent import sample_latents

NUM_SAMPLES = 2500


def vanilla(preset: presets.Preset) -> presets.Preset:
    """The preset's data, generator and budget with a plain GAN: MLP discriminator, no technique."""
    values = copy.deepcopy(preset.to_dict())
    d_options = values["discriminator_options"]
    values.update(gan="gan", gan_options={}, discriminator="mlp",
                  discriminator_options={"hidden_units": d_options.get("hidden_units", [128, 128])})
    values.pop("name")
    return presets.from_dict(values, name=f"vanilla[{preset.name}]")


def load() -> float:
    return os.getloadavg()[0]


def samples_of(generator: keras.Model, latent_dim: int, seed: int):
    return generator(sample_latents(NUM_SAMPLES, latent_dim, 10_000 + seed), training=False)


def run(preset: presets.Preset, seed: int, eval_metric: str, keep_runs: Optional[str] = None):
    preset = presets.apply_overrides(preset, [f"seed={seed}"])
    mixture = preset.dataset.split(":", 1)[1]
    if keep_runs:
        folder = os.path.join(keep_runs, f"{preset.name}_seed{seed}")
        if os.path.exists(folder):
            raise SystemExit(f"error: {folder} exists; --keep_runs does not overwrite runs.")
        os.makedirs(folder)
        context = contextlib.nullcontext(folder)
    else:
        context = tempfile.TemporaryDirectory()
    with context as out:
        result = training.train(preset, out, verbose=0, eval_every=1, eval_metric=eval_metric,
                                eval_samples=NUM_SAMPLES)
        gan = result.gan
        rows = {"last": mode_coverage(samples_of(gan.generator, gan.latent_dim, seed), mixture)}
        if gan.ema_decay is not None:
            rows["ema"] = mode_coverage(samples_of(gan.ema_generator, gan.latent_dim, seed), mixture)
        best = load_keras_generator(os.path.join(out, "best_generator.keras"))
        rows["best"] = mode_coverage(samples_of(best, gan.latent_dim, seed), mixture)
    return rows, result.seconds, load()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="unrolled_ring8,minibatch_grid25,pacgan_grid25")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--baseline", action="store_true", help="Also train a vanilla GAN per preset.")
    parser.add_argument("--baseline_only", action="store_true",
                        help="Train only the vanilla GAN of each preset (e.g. to add it to an earlier table).")
    parser.add_argument("--eval_metric", default="coverage", help="Keep-best metric (coverage, high_quality, modes).")
    parser.add_argument("--set", action="append", default=[], help="Override for every preset, e.g. epochs=2.")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow intra- and inter-op threads (0: TensorFlow's default, all cores).")
    parser.add_argument("--markdown", default=None, help="Also write the final markdown table to this file.")
    parser.add_argument("--keep_runs", default=None,
                        help="Keep each run folder as DIR/PRESET_seedS (default: a temporary directory, deleted).")
    args = parser.parse_args()
    if args.threads < 0:
        parser.error(f"--threads must be >= 0, received {args.threads}.")
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    table = []
    for name in args.presets.split(","):
        preset = presets.apply_overrides(presets.load_preset(name), args.set)
        variants = [vanilla(preset)] if args.baseline_only else [preset, vanilla(preset)] if args.baseline else [preset]
        for variant in variants:
            for seed in (int(s) for s in args.seeds.split(",")):
                rows, seconds, load_avg = run(variant, seed, args.eval_metric, args.keep_runs)
                for generator, report in rows.items():
                    table.append((variant.name, seed, generator, report, seconds, load_avg))
                    print(f"{variant.name} seed {seed} {generator}: {report['modes_covered']}/{report['num_modes']} "
                          f"modes, {report['high_quality_fraction']:.1%} high quality, reverse KL "
                          f"{report['reverse_kl']:.3f} [{seconds:.0f} s, load {load_avg:.1f}]", flush=True)

    lines = ["| preset | seed | generator | modes | high quality | reverse KL | train s | load |",
             "|---|---|---|---|---|---|---|---|"]
    for name, seed, generator, report, seconds, load_avg in table:
        lines.append(f"| {name} | {seed} | {generator} | {report['modes_covered']}/{report['num_modes']} | "
                     f"{report['high_quality_fraction']:.1%} | {report['reverse_kl']:.3f} | {seconds:.0f} | "
                     f"{load_avg:.1f} |")
    print("\n" + "\n".join(lines))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
