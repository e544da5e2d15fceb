"""Trains a text-conditioned GAN preset on captioned MNIST and reports how often images match their captions.

Caption accuracy: generate images for captions of known digits ("the digit seven")
and count how often the shipped MNIST classifier predicts that digit (chance: 10 %).
It is printed after every epoch, so one run gives the learning curve. Too slow for
the test suite; run it by hand:

    python scripts/textgan_caption_accuracy.py --output_dir=/tmp/textgan
    python scripts/textgan_caption_accuracy.py --set discriminator_options.projection=false  # ablation
    python scripts/textgan_caption_accuracy.py --preset=stackgan_mnist --output_dir=/tmp/stackgan  # StackGAN
"""

import argparse
import os

import keras
import numpy as np

from tfgan_app import presets, training
from tfgan_app.data.captions import captions_for
from tfgan_app.evaluation.extractors import ClassifierExtractor
from tfgan_app.gans.text_conditioned import TextConditionedGAN
from tfgan_app.images import save_grid, to_uint8


def caption_accuracy(gan: TextConditionedGAN, classifier: ClassifierExtractor, num: int = 500) -> float:
    """Share of images for "the digit <d>" captions that the classifier reads as d."""
    labels = np.arange(num) % 10
    images = gan.generate(num, seed=1, labels=captions_for("mnist", labels, template=1))
    return float(np.mean(classifier(to_uint8(images)).probabilities.argmax(axis=1) == labels))


class CaptionAccuracyCallback(keras.callbacks.Callback):
    """Prints the caption accuracy after every epoch."""

    def __init__(self, classifier: ClassifierExtractor):
        super().__init__()
        self.classifier = classifier

    def on_epoch_end(self, epoch, logs=None):
        print(f"epoch {epoch + 1}: caption_accuracy={caption_accuracy(self.model, self.classifier):.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="textgan_mnist", help="a captions:mnist preset (textgan_mnist, "
                        "stackgan_mnist)")
    parser.add_argument("--output_dir", default="runs/textgan_mnist")
    parser.add_argument("--set", action="append", default=[], help="preset override field=value (repeatable)")
    args = parser.parse_args()
    preset = presets.apply_overrides(presets.load_preset(args.preset), args.set)
    classifier = ClassifierExtractor.shipped("mnist")
    result = training.train(preset, args.output_dir, verbose=2, extra_callbacks=[CaptionAccuracyCallback(classifier)])
    accuracy = caption_accuracy(result.gan, classifier, num=2000)
    path = save_grid(os.path.join(args.output_dir, "textgan_by_class.png"), result.gan.generate(100, seed=0), cols=10)
    steps = preset.epochs * preset.steps_per_epoch if preset.steps_per_epoch else f"{preset.epochs} epochs"
    print(f"RESULT {args.preset} steps={steps} caption_accuracy={accuracy:.3f} "
          f"(chance 0.1) train_seconds={result.seconds:.0f} grid={path} overrides={args.set}")


if __name__ == "__main__":
    main()
