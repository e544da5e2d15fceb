"""InfoGAN on MNIST: does the categorical code end up controlling digit identity?

Trains the `infogan_mnist` preset (10-way categorical code, 2 continuous codes,
62 noise dims, λ = 1), then, for each value of the categorical code, generates
samples and classifies them with the shipped MNIST classifier. It prints the
code × digit table, the purity (share of samples whose digit is the majority
digit of their code) and the one-to-one matched accuracy (Hungarian matching of
codes to digits; 0.1 = code unrelated to digit identity, 1 = each code is one
digit), and saves a grid with one row per code value.

Usage:
  python scripts/infogan_mnist.py --output_dir=runs/infogan_mnist              # the preset: 8 epochs
  python scripts/infogan_mnist.py --set discriminator_options.shared_hidden_units=0  # an ablation
"""

import argparse
import os
import time

import keras
import numpy as np
from scipy.optimize import linear_sum_assignment

from tfgan_app import images as image_utils
from tfgan_app import presets, training
from tfgan_app.evaluation.extractors import ClassifierExtractor


def code_digit_table(gan, per_code: int, seed: int) -> np.ndarray:
    """`[K, 10]` counts of classifier-predicted digits for `per_code` samples of each categorical code."""
    classifier = ClassifierExtractor.shipped("mnist")
    table = np.zeros((gan.num_categories, 10), np.int64)
    for code in range(gan.num_categories):
        samples = gan.generate(per_code, seed=seed + code, labels=[code])
        predicted = classifier(image_utils.to_uint8(samples)).probabilities.argmax(axis=1)
        table[code] = np.bincount(predicted, minlength=10)
    return table


def matched_accuracy(table: np.ndarray) -> float:
    """One-to-one code↔digit matching (Hungarian) accuracy of a `[K, 10]` count table."""
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / table.sum())


class CodeAccuracyCallback(keras.callbacks.Callback):
    """Prints the matched code↔digit accuracy after every epoch (the learning curve of the criterion)."""

    def __init__(self, per_code: int):
        super().__init__()
        self.per_code = per_code

    def on_epoch_end(self, epoch, logs=None):
        table = code_digit_table(self.model, self.per_code, seed=5000)
        print(f"epoch {epoch + 1}: matched_accuracy={matched_accuracy(table):.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: the preset's (8)")
    parser.add_argument("--steps_per_epoch", type=int, default=None)
    parser.add_argument("--per_code", type=int, default=200)
    parser.add_argument("--output_dir", default="runs/infogan_mnist")
    parser.add_argument("--set", action="append", default=[], help="preset override field=value (repeatable)")
    args = parser.parse_args()

    overrides = ([f"epochs={args.epochs}"] if args.epochs else []) + args.set
    if args.steps_per_epoch:
        overrides.append(f"steps_per_epoch={args.steps_per_epoch}")
    preset = presets.apply_overrides(presets.load_preset("infogan_mnist"), overrides)
    start = time.time()
    result = training.train(preset, args.output_dir, verbose=2, extra_callbacks=[CodeAccuracyCallback(100)])
    gan = result.gan
    table = code_digit_table(gan, args.per_code, seed=1000)
    matched = matched_accuracy(table)
    purity = table.max(axis=1).sum() / table.sum()
    print("code -> classifier digit counts")
    for code, counts in enumerate(table):
        print(f"  code {code}: " + " ".join(f"{c:4d}" for c in counts) + f"   majority digit {counts.argmax()}")
    grid = np.concatenate([gan.generate(10, seed=7, labels=[code]) for code in range(gan.num_categories)])
    path = image_utils.save_grid(os.path.join(args.output_dir, "codes_by_row.png"), grid, cols=10)
    print(f"RESULT infogan epochs={preset.epochs} purity={purity:.3f} matched_accuracy={matched:.3f} "
          f"(chance 0.1) train_seconds={result.seconds:.0f} total_seconds={time.time() - start:.0f} grid={path}")


if __name__ == "__main__":
    main()
