"""The post-training quality report as a Keras callback the caller attaches (as Keras attaches `BackupAndRestore`).

`tfgan train` attaches `DigitQualityReport` to runs on MNIST / Fashion-MNIST; `tfgan_app.training` itself
never imports evaluation. At the end of `fit` the callback judges `QUALITY_SAMPLES` samples of the GAN
(`GAN.generate(QUALITY_SAMPLES, seed)`) with the shipped classifier (`digit_quality_report`) and writes
the report to `<output_dir>/quality.json`, which `TrainResult.quality` reads back.

Example:
>>> report = DigitQualityReport("mnist", "runs/dcgan_mnist", seed=1)
>>> training.train(preset, "runs/dcgan_mnist", extra_callbacks=[report])
>>> report.report["classes_covered"]
10
"""

import json
import os
from typing import Any, Dict, List, Optional

import keras

from tfgan_app.evaluation.coverage import digit_quality_report
from tfgan_app.gans.conditional import ConditionalGAN, labels_in_turn
from tfgan_app.images import to_uint8

QUALITY_SAMPLES = 2000
QUALITY_FILE = "quality.json"
DIGIT_DATASETS = ("mnist", "fashion_mnist")
DIGIT_SHAPE = (28, 28, 1)


class DigitQualityReport(keras.callbacks.Callback):
    """Writes `digit_quality_report` of the trained GAN's samples to `output_dir/quality.json` when `fit` ends.

    Args:
      dataset: "mnist" or "fashion_mnist": which shipped classifier judges the samples.
      output_dir: the run folder to write `quality.json` into.
      seed: seed of the judged samples (`GAN.generate(num_samples, seed)`).
      num_samples: how many samples are judged.

    A GAN whose generator does not output 28x28x1 images gets no report (the classifier reads only those).
    A conditional GAN (`ConditionalGAN`, ACGAN) generates the classes in turn (0, 1, ..., K−1, 0, ...) and
    the report adds `label_accuracy`: the share of samples the classifier reads as their requested class.
    """

    def __init__(self, dataset: str, output_dir: str, seed: int = 0, num_samples: int = QUALITY_SAMPLES):
        super().__init__()
        self.dataset, self.output_dir, self.seed, self.num_samples = dataset, output_dir, seed, num_samples
        self.report: Optional[Dict[str, Any]] = None

    def on_train_end(self, logs=None):
        if tuple(self.model.generator.outputs[0].shape[1:]) != DIGIT_SHAPE:
            return
        print(f"Sample quality: generating {self.num_samples} images and classifying them with the shipped "
              f"{self.dataset} classifier...", flush=True)
        labels = (labels_in_turn(self.num_samples, self.model.num_classes)
                  if isinstance(self.model, ConditionalGAN) else None)
        images = to_uint8(self.model.generate(self.num_samples, seed=self.seed, labels=labels, progress=True))
        self.report = digit_quality_report(images, self.dataset, labels=labels)
        os.makedirs(self.output_dir, exist_ok=True)
        with open(os.path.join(self.output_dir, QUALITY_FILE), "w", encoding="utf-8") as f:
            json.dump(self.report, f, indent=2)


def quality_callbacks(dataset: str, output_dir: str, seed: int) -> List[keras.callbacks.Callback]:
    """`[DigitQualityReport(...)]` for the digit datasets, else `[]` (what `tfgan train` attaches).

    The samples use `seed + 1`, so they differ from the fixed sample-grid latents (`seed`).
    """
    return [DigitQualityReport(dataset, output_dir, seed + 1)] if dataset in DIGIT_DATASETS else []
