"""Time to quality: the default preset vs the TensorFlow tutorial's DCGAN, for the same training budget.

Each trainer runs alone in a fresh process (one after the other, each with the whole machine) for `--minutes`
of training, and saves its generator at every `--every` minutes of training. Saving is not counted. Afterwards
every snapshot is judged the same way: `--num_samples` samples read by the shipped MNIST classifier (the
confident share: p > 0.9), classes covered, and FCD (Fréchet distance of that classifier's features, `tfgan
evaluate`'s MNIST metric) against as many training digits.

* `ours`: `tfgan train --model=dcgan_mnist` as shipped (its precision from `mixed_precision: auto`, EMA
  generator: the snapshots are the EMA generator, what the run exports), through `tfgan_app.training.train`.
* `tutorial`: the TensorFlow DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan) as written there:
  its generator (Dense 7x7x256, Conv2DTranspose 128/64/1, 5x5 kernels) and discriminator (Conv2D 64/128 with
  dropout 0.3), Adam(1e-4) for both, batch 256, 100-d noise, a `tf.function` train step with two tapes,
  float32. keras.io's "DCGAN overriding train_step" example trains the same kind of loop.

`--clock=cpu` measures the budget in CPU seconds of the training process instead of wall seconds: on a shared,
busy machine that keeps the comparison fair (each trainer gets the same amount of computation).

Usage:
    python benchmarks/time_to_quality.py                          # 7 minutes each, snapshots every minute
    python benchmarks/time_to_quality.py --minutes=3 --every=1 --num_samples=2000   # ~10 minutes in all

Output: a markdown table (minute, then confident share / classes / FCD of each trainer) and a last line
`ratio: ...` saying how many times longer the tutorial needs to reach ours' quality at the end, or that it did
not within the budget, with the CPU flags and load.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any, Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import dispatch_worker, machine_summary, run_isolated  # noqa: E402  pylint: disable=wrong-import-position


def _clock(kind: str):
    return time.process_time if kind == "cpu" else time.perf_counter


class _Snapshots:
    """Calls `save(minute)` each time another `every` minutes of training time have passed; stops at `minutes`.

    Saving time is excluded from the training clock.
    """

    def __init__(self, clock: str, minutes: float, every: float, save):
        self.now, self.minutes, self.every, self.save = _clock(clock), minutes, every, save
        self.trained, self.started, self.next_mark = 0.0, None, every

    def start(self):
        self.started = self.now()

    def tick(self) -> bool:
        """After a training step: saves when a mark is passed; True when the budget is spent."""
        self.trained += self.now() - self.started
        while self.trained >= self.next_mark * 60 and self.next_mark <= self.minutes + 1e-9:
            self.save(self.next_mark)
            self.next_mark += self.every
        self.started = self.now()
        return self.trained >= self.minutes * 60


def train_ours(config: Dict[str, Any]) -> Dict[str, Any]:
    import keras  # pylint: disable=import-outside-toplevel
    from tfgan_app import presets, training  # pylint: disable=import-outside-toplevel
    from tfgan_app.artifacts.run_dir import float32_generator  # pylint: disable=import-outside-toplevel

    out = config["out"]
    preset = presets.apply_overrides(presets.load_preset("dcgan_mnist"), ["epochs=1000"])

    class Budget(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.snapshots = _Snapshots(config["clock"], config["minutes"], config["every"], self.save)
            self.steps = 0

        def save(self, minute):
            float32_generator(self.model.sampling_generator).save(os.path.join(out, f"ours_{minute:g}.keras"))

        def on_train_begin(self, logs=None):
            self.snapshots.start()

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            if self.snapshots.tick():
                self.model.stop_training = True

    budget = Budget()
    result = training.train(preset, os.path.join(out, "ours_run"), extra_callbacks=[budget], verbose=0,
                            overwrite=True)
    return {"steps": budget.steps, "precision": json.load(open(os.path.join(result.output_dir, "config.json")))
            .get("precision")}


def _tutorial_models():
    """The TensorFlow DCGAN tutorial's generator and discriminator, layer for layer."""
    import keras  # pylint: disable=import-outside-toplevel
    from keras import layers  # pylint: disable=import-outside-toplevel
    generator = keras.Sequential([
        keras.Input((100,)),
        layers.Dense(7 * 7 * 256, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Reshape((7, 7, 256)),
        layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")])
    discriminator = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(64, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3),
        layers.Conv2D(128, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(1)])
    return generator, discriminator


def train_tutorial(config: Dict[str, Any]) -> Dict[str, Any]:
    import keras  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from tfgan_app.data.arrays import load_mnist  # pylint: disable=import-outside-toplevel

    keras.utils.set_random_seed(0)
    images, _ = load_mnist("train")
    train_images = (images.astype("float32") - 127.5) / 127.5
    # The tutorial's pipeline; full batches only (its last partial batch would retrace the step).
    dataset = tf.data.Dataset.from_tensor_slices(train_images).shuffle(60000).batch(256, drop_remainder=True)
    generator, discriminator = _tutorial_models()
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    generator_optimizer, discriminator_optimizer = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)

    @tf.function
    def train_step(batch):
        noise = tf.random.normal([256, 100])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated = generator(noise, training=True)
            real_output = discriminator(batch, training=True)
            fake_output = discriminator(generated, training=True)
            gen_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
            disc_loss = (cross_entropy(tf.ones_like(real_output), real_output)
                         + cross_entropy(tf.zeros_like(fake_output), fake_output))
        generator_optimizer.apply_gradients(zip(gen_tape.gradient(gen_loss, generator.trainable_variables),
                                                generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(disc_tape.gradient(disc_loss, discriminator.trainable_variables),
                                                    discriminator.trainable_variables))

    snapshots = _Snapshots(config["clock"], config["minutes"], config["every"],
                           lambda minute: generator.save(os.path.join(config["out"], f"tutorial_{minute:g}.keras")))
    batches = iter(dataset.repeat())
    train_step(next(batches))  # tracing and the first shuffle-buffer fill are not training
    steps = 0
    snapshots.start()
    while True:
        train_step(next(batches))
        steps += 1
        if snapshots.tick():
            return {"steps": steps, "precision": "float32"}


def judge(config: Dict[str, Any]) -> Dict[str, Any]:
    """Confident share, classes and FCD of every snapshot in `out`."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    from tfgan_app.artifacts.run_dir import load_keras_generator  # pylint: disable=import-outside-toplevel
    from tfgan_app.evaluation import digit_quality_report  # pylint: disable=import-outside-toplevel
    from tfgan_app.evaluation.extractors import ClassifierExtractor  # pylint: disable=import-outside-toplevel
    from tfgan_app.evaluation.scoring import evaluate  # pylint: disable=import-outside-toplevel
    from tfgan_app.evaluation.sources import ArraySource, GeneratorSource  # pylint: disable=import-outside-toplevel

    classifier = ClassifierExtractor.shipped("mnist")
    scores = {}
    for name in sorted(os.listdir(config["out"])):
        if not name.endswith(".keras"):
            continue
        source = GeneratorSource.from_keras(load_keras_generator(os.path.join(config["out"], name)))
        images = np.concatenate(list(source.batches(config["num_samples"], 500, 12345)))
        report = digit_quality_report(images, "mnist", extractor=classifier)
        fcd = evaluate(ArraySource(name, images), "mnist", metrics="fid", num_samples=config["num_samples"],
                       seed=12345)["metrics"]["fid"]
        scores[name[:-len(".keras")]] = {"confident": report["confident_fraction"],
                                         "classes": report["classes_covered"], "fcd": fcd}
    return scores


WORKERS = {"ours": train_ours, "tutorial": train_tutorial, "judge": judge}


def ratio_line(scores: Dict[str, Dict[str, float]], marks: List[float]) -> str:
    """How much longer the tutorial needs to reach ours' final FCD (or that it does not within the budget)."""
    final = scores.get(f"ours_{marks[-1]:g}")
    if final is None:
        return "ratio: ours saved no snapshot"
    ours_first = next((m for m in marks if scores.get(f"ours_{m:g}", {}).get("fcd", float("inf")) <= final["fcd"]),
                      marks[-1])
    tutorial_first = next((m for m in marks if scores.get(f"tutorial_{m:g}", {}).get("fcd", float("inf"))
                           <= final["fcd"]), None)
    if tutorial_first is None:
        tutorial_marks = [m for m in marks if f"tutorial_{m:g}" in scores]
        if not tutorial_marks:
            return "ratio: the tutorial saved no snapshot"
        best_mark = min(tutorial_marks, key=lambda m: scores[f"tutorial_{m:g}"]["fcd"])
        best = scores[f"tutorial_{best_mark:g}"]["fcd"]
        ours_there = next((m for m in marks if scores.get(f"ours_{m:g}", {}).get("fcd", float("inf")) <= best), None)
        faster = f"ours reached the tutorial's best FCD {best:.2f} (its {best_mark:g} min) at {ours_there:g} min: " \
                 f">= {best_mark / ours_there:.1f}x" if ours_there else "ours never reached the tutorial's best"
        return (f"ratio: the tutorial did not reach ours' final FCD {final['fcd']:.2f} within {marks[-1]:g} min; "
                f"{faster}")
    return (f"ratio: ours reached FCD {final['fcd']:.2f} at {ours_first:g} min, the tutorial at {tutorial_first:g} "
            f"min: {tutorial_first / ours_first:.1f}x")


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=7.0, help="training budget of each trainer")
    parser.add_argument("--every", type=float, default=1.0, help="minutes between snapshots")
    parser.add_argument("--num_samples", type=int, default=10000, help="samples judged per snapshot")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--out", default=None, help="folder for the snapshots (default: a temporary folder)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if dispatch_worker(args.worker, WORKERS):
        return 0
    if not (args.minutes > 0 and 0 < args.every <= args.minutes and args.num_samples >= 100):
        parser.error(f"need minutes > 0, 0 < every <= minutes, num_samples >= 100; received minutes={args.minutes}, "
                     f"every={args.every}, num_samples={args.num_samples}")
    out = args.out or tempfile.mkdtemp(prefix="time_to_quality_")
    os.makedirs(out, exist_ok=True)
    base = {"out": out, "minutes": args.minutes, "every": args.every, "clock": args.clock,
            "num_samples": args.num_samples}
    runs = {}
    for role in ("ours", "tutorial"):
        print(f"training {role} for {args.minutes:g} min ({args.clock} clock) ...", file=sys.stderr, flush=True)
        runs[role] = run_isolated(__file__, {**base, "role": role}, timeout=args.minutes * 60 * 3 + 600)
        if "error" in runs[role]:
            print(f"{role} failed: {runs[role]['error']}", file=sys.stderr)
            return 1
    print("judging the snapshots ...", file=sys.stderr, flush=True)
    scores = run_isolated(__file__, {**base, "role": "judge"}, timeout=3600)
    if "error" in scores:
        print(f"judging failed: {scores['error']}", file=sys.stderr)
        return 1
    marks = [round(args.every * i, 6) for i in range(1, int(args.minutes / args.every + 1e-9) + 1)]
    print(f"| {args.clock} minutes of training | ours: confident | classes | FCD | tutorial: confident | classes "
          "| FCD |")
    print("|---|---|---|---|---|---|---|")
    for mark in marks:
        cells = []
        for role in ("ours", "tutorial"):
            s = scores.get(f"{role}_{mark:g}")
            cells += [f"{s['confident']:.1%}", f"{s['classes']}/10", f"{s['fcd']:.2f}"] if s else ["–"] * 3
        print(f"| {mark:g} | " + " | ".join(cells) + " |")
    print(f"\nsteps: ours {runs['ours']['steps']} (batch 32, {runs['ours']['precision']}), tutorial "
          f"{runs['tutorial']['steps']} (batch 256, float32); {args.num_samples} samples per cell")
    print(f"{machine_summary()}; 1-minute load average at the end: {os.getloadavg()[0]:.1f}")
    print(ratio_line(scores, marks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
