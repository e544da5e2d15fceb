"""Short pix2pix and CycleGAN runs: held-out pix2pix L1 and CycleGAN cycle error, for several seeds.

Used to compare the patch-loss reduction before/after a change (issue #13 item 1): run it with the
same arguments on both code versions (e.g. `PYTHONPATH=<checkout> python scripts/image_to_image_losses.py`).

pix2pix: the `pix2pix_mnist_edges` preset networks (U-Net 32 filters, PatchGAN 2 layers), non-saturating
loss + 100·L1, batch 16, Adam 2e-4; reports the mean per-image L1 between G(edges) and the digits of the
first `--held_out` MNIST test images. CycleGAN: the `cyclegan_mnist_recolored` preset networks, LSGAN, batch 8,
Adam 2e-4; reports the mean cycle error ‖F(G(a)) − a‖₁ + ‖G(F(b)) − b‖₁ on held-out test pairs.
The initial weights are the same for every seed (see the note at the imports); the seed sets data order
and the per-step random draws.

Usage:
  python scripts/image_to_image_losses.py --steps=300 --seeds=0,1,2
"""

import argparse
import dataclasses
import time

import keras
import numpy as np

# The U-Net / PatchGAN builders share module-level unseeded Keras initializers, whose seed is drawn once,
# at import, from Python's random state: seed it before importing tfgan_app so that the initial weights
# are the same in every process (and so in the before/after runs this script compares).
keras.utils.set_random_seed(0)

from tfgan_app import gans, presets  # noqa: E402
from tfgan_app.data.paired import load_paired  # noqa: E402
from tfgan_app.data.unpaired import load_unpaired  # noqa: E402
from tfgan_app.gans.image_to_image import l1_distance  # noqa: E402


def build(preset_name: str, seed: int, info):
    preset = dataclasses.replace(presets.load_preset(preset_name), seed=seed)
    keras.utils.set_random_seed(seed)
    gan = gans.get_gan_class(preset.gan).from_preset(preset, info)
    gan.compile(d_optimizer=presets.build_optimizer(preset.d_optimizer),
                g_optimizer=presets.build_optimizer(preset.g_optimizer), loss=preset.loss)
    return gan


def pix2pix_l1(steps: int, seed: int, held_out: int) -> tuple:
    edges, digits = next(iter(load_paired("mnist_edges", held_out, split="test", shuffle=False).dataset))
    info = load_paired("mnist_edges", 16, seed=seed)
    gan = build("pix2pix_mnist_edges", seed, info)
    before = float(np.mean(l1_distance(digits, gan.translate(edges))))
    gan.fit(info.dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    return before, float(np.mean(l1_distance(digits, gan.translate(edges))))


def cyclegan_cycle(steps: int, seed: int, held_out: int) -> tuple:
    a, b = next(iter(load_unpaired("mnist_recolored", held_out, split="test", shuffle=False).dataset))
    info = load_unpaired("mnist_recolored", 8, seed=seed)
    gan = build("cyclegan_mnist_recolored", seed, info)
    before = float(np.mean(gan.cycle_losses(a, b, training=False)["cycle"]))
    gan.fit(info.dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    return before, float(np.mean(gan.cycle_losses(a, b, training=False)["cycle"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--held_out", type=int, default=256)
    parser.add_argument("--only", choices=("pix2pix", "cyclegan"), default=None)
    args = parser.parse_args()
    for name, measure in (("pix2pix held-out L1", pix2pix_l1), ("cyclegan held-out cycle error", cyclegan_cycle)):
        if args.only and not name.startswith(args.only):
            continue
        results = []
        for seed in (int(s) for s in args.seeds.split(",")):
            start = time.time()
            before, after = measure(args.steps, seed, args.held_out)
            results.append(after)
            print(f"{name} seed={seed} steps={args.steps}: {before:.4f} -> {after:.4f} ({time.time() - start:.0f} s)",
                  flush=True)
        print(f"{name}: mean {np.mean(results):.4f} ± {np.std(results):.4f} over {len(results)} seeds", flush=True)


if __name__ == "__main__":
    main()
