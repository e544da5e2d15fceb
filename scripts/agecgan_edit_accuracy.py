"""Held-out quality of an Age-cGAN run (`agecgan_mnist`): do edits change the class and keep the style?

Takes the first `--num_images` MNIST test digits, gives each a target class (its label + 1 + i mod 9, never its
own), edits it with the run's model (`AgeCGAN.edit`: encoder, `--steps` of identity-preserving latent
optimisation, generator) and prints:

* the share of edited digits the shipped classifier reads as the target class (`digit_quality_report`);
* the identity loss (pixel MSE, images in [-1, 1]) of the reconstruction G(z, y0) at the encoder's latent E(x)
  and after the optimisation, with the true label as y0: the optimisation's gain;
* the share of the conditional generator's own samples read as their requested class (label accuracy);
* for reference, the source digits' own accuracy. The last line gives the 1-minute load average.

Usage:
  python scripts/agecgan_edit_accuracy.py runs/agecgan_mnist --num_images=500 --steps=100
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf

import tfgan_app.gans  # noqa: F401  (registers AgeCGAN for load_model)
from tfgan_app.data.arrays import load_mnist
from tfgan_app.evaluation import digit_quality_report
from tfgan_app.images import tf_from_uint8, to_uint8
from tfgan_app.latent import sample_latents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--num_images", type=int, default=500)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch_size", type=int, default=100)
    args = parser.parse_args()
    gan = keras.saving.load_model(os.path.join(args.run_dir, "gan.keras"), compile=False)
    images, labels = load_mnist("test")
    digits = np.asarray(tf_from_uint8(images[:args.num_images]))
    labels = labels[:args.num_images].astype(np.int32)
    targets = ((labels + 1 + np.arange(len(labels)) % 9) % 10).astype(np.int32)
    edited, start, end = [], [], []
    for i in range(0, len(digits), args.batch_size):
        x, y, t = digits[i:i + args.batch_size], labels[i:i + args.batch_size], targets[i:i + args.batch_size]
        latents, history = gan.invert(x, y, steps=args.steps)
        start.append(history[0])
        end.append(history[-1])
        edited.append(np.asarray(gan.sampling_generator([tf.constant(latents), tf.constant(t)], training=False)))
    edited = np.concatenate(edited)
    source = digit_quality_report(to_uint8(digits), labels=labels)["label_accuracy"]
    accuracy = digit_quality_report(to_uint8(edited), labels=targets)["label_accuracy"]
    requested = np.arange(2000, dtype=np.int32) % 10
    samples = gan.sampling_generator([sample_latents(2000, gan.latent_dim, 0), tf.constant(requested)],
                                     training=False)
    sample_accuracy = digit_quality_report(to_uint8(np.asarray(samples)), labels=requested)["label_accuracy"]
    print(f"source digits read as their label:        {source:.3f}")
    print(f"edited digits read as the target class:   {accuracy:.3f}  ({len(edited)} edits, {args.steps} steps)")
    print(f"identity loss (pixel MSE) at E(x): {np.concatenate(start).mean():.4f}  after optimisation: "
          f"{np.concatenate(end).mean():.4f}")
    print(f"generator samples read as the requested class (2,000): {sample_accuracy:.3f}")
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
