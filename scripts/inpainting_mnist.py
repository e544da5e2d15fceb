"""Held-out quality of an inpainting run (`inpaint_mnist`): how much of a hidden digit the fill gives back.

Blanks a hole (`--mask=center`, the training hole, or `random`, `data.paired.hole_masks`) in the first
`--num_images` MNIST test digits, fills it with the run's generator (the input outside the hole, the fill
inside, as `tfgan generate --mask` writes), and prints for the intact, blanked and filled digits the share the
shipped classifier reads as their true label (`digit_quality_report(labels=...)`) and the MSE over the hole
(images in [-1, 1]). The last line gives the 1-minute load average.

Usage:
  python scripts/inpainting_mnist.py runs/inpaint_mnist --mask=center
"""

import argparse
import os

import keras
import numpy as np

from tfgan_app.data.arrays import load_mnist
from tfgan_app.data.paired import MASKS, hole_masks
from tfgan_app.evaluation import digit_quality_report
from tfgan_app.images import tf_from_uint8, to_uint8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--mask", choices=MASKS, default="center")
    parser.add_argument("--num_images", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    images, labels = load_mnist("test")
    digits = np.asarray(tf_from_uint8(images[:args.num_images]))
    labels = labels[:args.num_images]
    holes = hole_masks(args.mask, len(digits), digits.shape[1], digits.shape[2], args.seed)
    generator = keras.saving.load_model(os.path.join(args.run_dir, "generator.keras"))
    blanked = digits * (1 - holes)
    filled = blanked + np.asarray(generator.predict(blanked, batch_size=250, verbose=0)) * holes
    for name, batch in (("intact", digits), ("blanked (hole = 0)", blanked), ("filled", filled)):
        accuracy = digit_quality_report(to_uint8(batch), labels=labels)["label_accuracy"]
        hole_mse = float((np.square(batch - digits) * holes).sum() / holes.sum())
        print(f"{args.mask:6s} {name:18s} label accuracy {accuracy:.3f}  hole MSE {hole_mse:.4f}")
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
