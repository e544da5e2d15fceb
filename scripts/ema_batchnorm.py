"""EMA generator and BatchNorm on MNIST: raw G vs EMA with averaged vs re-estimated (standing) statistics.

Trains the `dcgan_mnist` preset (with `--set` overrides, e.g. a short `steps_per_epoch`) with
`gan_options.ema_decay`, then judges 2,000 samples of each generator with the shipped MNIST
classifier (confident share, classes covered, KL of the class histogram to uniform):

* `raw`: the trained generator,
* `ema (averaged BN statistics)`: the EMA generator as `tfgan train` saves it,
* `ema (standing statistics)`: the EMA weights with BN statistics re-estimated on 16 latent batches
  (`tfgan_app.gans.ema.standing_statistics`).

An EMA that collapses to one class shows up as classes covered ≪ 10.

Usage:
  python scripts/ema_batchnorm.py --set steps_per_epoch=300 --set epochs=2 --set gan_options.ema_decay=0.999
"""

import argparse
import os
import tempfile

import keras

from tfgan_app import presets, training
from tfgan_app.evaluation import digit_quality_report
from tfgan_app.gans.ema import standing_statistics
from tfgan_app.images import to_uint8
from tfgan_app.latent import sample_latents


def judge(generator, latent_dim):
    images = generator.predict(sample_latents(2000, latent_dim, 1), batch_size=250, verbose=0)
    report = digit_quality_report(to_uint8(images), "mnist")
    return report["confident_fraction"], report["classes_covered"], report["kl_to_uniform"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[])
    args = parser.parse_args()
    preset = presets.apply_overrides(presets.load_preset("dcgan_mnist"), ["gan_options.ema_decay=0.999", *args.set])
    with tempfile.TemporaryDirectory() as out:
        result = training.train(preset, out, verbose=0)
    gan = result.gan
    rows = [("raw", judge(gan.generator, gan.latent_dim)),
            ("ema (averaged BN statistics)", judge(gan.ema_generator, gan.latent_dim))]
    standing = keras.models.clone_model(gan.ema_generator)
    standing.set_weights(gan.ema_generator.get_weights())
    standing_statistics(standing, [sample_latents(256, gan.latent_dim, 100 + i) for i in range(16)])
    rows.append(("ema (standing statistics)", judge(standing, gan.latent_dim)))
    print(f"\ndcgan_mnist {preset.gan_options} epochs={preset.epochs} steps_per_epoch={preset.steps_per_epoch}: "
          f"train {result.seconds:.0f} s, load {os.getloadavg()[0]:.1f}")
    print("| generator | confident | classes | KL to uniform |\n|---|---|---|---|")
    for name, (confident, classes, kl) in rows:
        print(f"| {name} | {confident:.1%} | {classes}/10 | {kl:.3f} |")


if __name__ == "__main__":
    main()
