"""Raw vs EMA vs best generator of MNIST / Fashion-MNIST runs, side by side: the #15 quality table.

For each run folder, judges up to three generators on the same latents with the
shipped classifier:

* `last`: the raw generator at the end of training (`gan.keras`'s `generator`),
* `ema`: the EMA generator (`generator.keras` when the run used `ema_decay`),
* `best`: `best_generator.keras` (keep-best, `tfgan train --eval_every=N`).

Columns: share of samples the classifier reads with p > 0.9, classes covered,
classifier score, for conditional generators the share read as the requested
class (labels 0..K−1 in turn), and FCD (Fréchet distance of the classifier's
features, `tfgan evaluate`'s metric) against as many training images. Each
generator's images are generated once and used for every column. The last line
gives the 1-minute load average (training times are the runs' own, not measured here).

Usage:
  python scripts/compare_generators_mnist.py runs/dcgan_mnist runs/cgan_mnist --num_samples=10000
"""

import argparse
import json
import os

import keras
import numpy as np

from tfgan_app.artifacts.run_dir import float32_generator, load_keras_generator
from tfgan_app.evaluation import digit_quality_report
from tfgan_app.evaluation.extractors import ClassifierExtractor
from tfgan_app.evaluation.scoring import evaluate
from tfgan_app.evaluation.sources import ArraySource, GeneratorSource
from tfgan_app.gans.conditional import labels_in_turn


def generators_of(run_dir: str):
    """(name, keras generator) for last / ema / best, those the run has."""
    found = []
    gan = keras.saving.load_model(os.path.join(run_dir, "gan.keras"), compile=False)
    found.append(("last", float32_generator(gan.generator)))
    if getattr(gan, "ema_decay", None) is not None:
        found.append(("ema", load_keras_generator(os.path.join(run_dir, "generator.keras"))))
    best = os.path.join(run_dir, "best_generator.keras")
    if os.path.exists(best):
        with open(best + ".json", encoding="utf-8") as f:
            info = json.load(f)
        found.append((f"best (epoch {info.get('epoch')})", load_keras_generator(best)))
    return found


def judge(generator: keras.Model, dataset: str, num: int, seed: int, classifier, fcd: bool):
    """Generates `num` images once (conditional generators: the classes in turn) and scores them."""
    source = GeneratorSource.from_keras(generator)
    images = np.concatenate(list(source.batches(num, 500, seed)))
    labels = labels_in_turn(num, source.num_classes) if source.num_classes else None
    report = digit_quality_report(images, dataset, extractor=classifier, labels=labels)
    if fcd:
        report["fcd"] = evaluate(ArraySource(source.name, images), dataset, metrics="fid", num_samples=num,
                                 seed=seed)["metrics"]["fid"]
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--num_samples", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=12345, help="latents (not those of training's evaluations)")
    parser.add_argument("--no_fcd", action="store_true")
    args = parser.parse_args()
    classifier = ClassifierExtractor.shipped(args.dataset)
    print("| run | generator | confident (p > 0.9) | classes | classifier score | requested label read | FCD |")
    print("|---|---|---|---|---|---|---|")
    for run_dir in args.run_dirs:
        for name, generator in generators_of(run_dir):
            r = judge(generator, args.dataset, args.num_samples, args.seed, classifier, not args.no_fcd)
            accuracy = f"{r['label_accuracy']:.1%}" if "label_accuracy" in r else "–"
            fcd = f"{r['fcd']:.2f}" if "fcd" in r else "–"
            print(f"| {os.path.basename(os.path.normpath(run_dir))} | {name} | {r['confident_fraction']:.1%} | "
                  f"{r['classes_covered']}/10 | {r['classifier_score_mean']:.2f} | {accuracy} | {fcd} |", flush=True)
    print(f"\n{args.num_samples} samples per row; 1-minute load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
