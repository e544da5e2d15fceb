"""DiffAugment on a 1,000-image MNIST subset vs no augmentation, same budget.

Writes the first `--num_images` MNIST training digits as PNGs into a folder (once),
trains the `dcgan_mnist` preset on `folder:<that folder>` with and without
`gan_options.diff_augment` for `--epochs` epochs (`tfgan_app.training.train`, as
`tfgan train` does), and scores each run's generator on 2,000 samples against the
full MNIST training set with the shipped MNIST classifier: FCD (Fréchet distance of
classifier features, `evaluate(..., "mnist", "fid")`), confident share and classes.
Prints a table with training time and machine load.

Usage:
  python scripts/diffaugment_mnist.py --epochs=40 --policies=none,color,translation,cutout
"""

import argparse
import os
import tempfile

import numpy as np
from PIL import Image

from tfgan_app import presets, training
from tfgan_app.data.arrays import load_mnist
from tfgan_app.evaluation import digit_quality_report, evaluate
from tfgan_app.images import to_uint8


def write_subset(folder: str, num: int) -> str:
    images, _ = load_mnist("train")
    os.makedirs(folder, exist_ok=True)
    for i, image in enumerate(images[:num]):
        path = os.path.join(folder, f"{i:05d}.png")
        if not os.path.exists(path):
            Image.fromarray(np.asarray(image).reshape(28, 28).astype(np.uint8)).save(path)
    return f"folder:{folder}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num_images", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--policies", default="none;color,translation,cutout",
                        help="';'-separated DiffAugment policies to compare; 'none' for no augmentation.")
    parser.add_argument("--folder", default=os.path.join(tempfile.gettempdir(), "mnist_subset"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[])
    args = parser.parse_args()

    spec = write_subset(args.folder, args.num_images)
    rows = []
    for policy in args.policies.split(";"):
        options = [] if policy == "none" else [f"gan_options.diff_augment={policy}"]
        preset = presets.apply_overrides(presets.load_preset("dcgan_mnist"), [
            f"dataset={spec}", "channels=1", f"epochs={args.epochs}", f"seed={args.seed}", *options, *args.set])
        with tempfile.TemporaryDirectory() as out:
            result = training.train(preset, out, verbose=0)
            scores = evaluate(os.path.join(out, "generator.keras"), "mnist", metrics="fid", num_samples=2000)
            fcd = scores["metrics"]["fid"]
            quality = digit_quality_report(to_uint8(result.gan.generate(2000, seed=1)), "mnist")
        rows.append((policy, fcd, quality["confident_fraction"], quality["classes_covered"], result.seconds,
                     os.getloadavg()[0]))
        print(rows[-1], flush=True)
    print(f"\nDCGAN on {args.num_images} MNIST images, {args.epochs} epochs, seed {args.seed}")
    print("| DiffAugment | FCD | confident | classes | train s | load |\n|---|---|---|---|---|---|")
    for policy, fcd, confident, classes, seconds, load in rows:
        print(f"| {policy} | {fcd:.2f} | {confident:.1%} | {classes}/10 | {seconds:.0f} | {load:.1f} |")


if __name__ == "__main__":
    main()
