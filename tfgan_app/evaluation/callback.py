"""`EvaluationCallback`: FID / KID / IS / precision-recall logged to TensorBoard during training.

Every `every_n_epochs` epochs the callback generates `num_samples` images with
the GAN's generator (fixed seed, so epochs are comparable), extracts features
and logs the chosen metrics as scalars `evaluation/<metric>` under
`log_dir/evaluation` (and into the epoch `logs`, so History and callbacks
placed after it see them). Real-data statistics are computed once, on first use.

Example:
>>> gan.fit(dataset, epochs=20, callbacks=[
...     EvaluationCallback("mnist", metrics="fid,is", every_n_epochs=5, num_samples=2000,
...                        log_dir="runs/dcgan/logs")])
"""

import os
from typing import Dict, Optional

import keras
import tensorflow as tf

from tfgan_app.errors import UsageError
from tfgan_app.evaluation.extractors import get_extractor
from tfgan_app.evaluation.scoring import (compute_metrics, default_extractor, extract, needs_features,
                                          parse_metrics)
from tfgan_app.evaluation.sources import DatasetSource, GeneratorSource


class EvaluationCallback(keras.callbacks.Callback):
    """Logs GAN metrics every `every_n_epochs` epochs.

    Args:
      dataset: dataset spec of the real images (as for training).
      metrics: subset of "fid", "kid", "is", "pr" (comma-separated or list).
      every_n_epochs: evaluation period; the last epoch of `fit` is not forced.
      num_samples: generated (and real) images per evaluation.
      extractor: "auto" (shipped classifier for mnist / fashion_mnist, else
        InceptionV3), or any name `get_extractor` accepts.
      log_dir: TensorBoard folder; None logs only into the epoch `logs`.
      split: dataset split of the real images.
      batch_size: images per generator / extractor call.
      seed: latent seed, the same at every evaluation.
    """

    def __init__(self, dataset: str, metrics="fid", every_n_epochs: int = 5, num_samples: int = 2000,
                 extractor: str = "auto", log_dir: Optional[str] = None, split: str = "train",
                 batch_size: int = 250, seed: int = 0, inception_weights: Optional[str] = "auto") -> None:
        super().__init__()
        if every_n_epochs < 1 or num_samples < 2:
            raise UsageError(f"EvaluationCallback needs every_n_epochs >= 1 and num_samples >= 2, received "
                             f"{every_n_epochs} and {num_samples}.")
        self.dataset, self.metrics = dataset, parse_metrics(metrics)
        self.every_n_epochs, self.num_samples = every_n_epochs, num_samples
        self.extractor_name = default_extractor(dataset) if extractor == "auto" else extractor
        self.log_dir, self.split, self.batch_size, self.seed = log_dir, split, batch_size, seed
        self.inception_weights = inception_weights
        self._extractor = None
        self._real = None
        self._writer = None
        self.history: Dict[int, Dict[str, float]] = {}

    def evaluate_now(self) -> Dict[str, float]:
        """Computes the metrics for the current generator weights."""
        keep = needs_features(self.metrics)
        if self._extractor is None:
            self._extractor = get_extractor(self.extractor_name, self.inception_weights,
                                            with_probabilities="is" in self.metrics)
        num_classes = getattr(self.model, "num_classes", None)
        source = GeneratorSource.from_keras(self.model.generator, num_classes=num_classes)
        if self._real is None and self.metrics != ["is"]:
            real_source = DatasetSource(self.dataset, self.split, source.image_shape)
            self._real = extract(real_source.batches(self.num_samples, self.batch_size, self.seed),
                                 self._extractor, keep)
        fake = extract(source.batches(self.num_samples, self.batch_size, self.seed), self._extractor, keep)
        return compute_metrics(self._real, fake, self.metrics, seed=self.seed)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if (epoch + 1) % self.every_n_epochs:
            return
        results = self.evaluate_now()
        self.history[epoch] = results
        if logs is not None:
            logs.update({f"eval_{name}": value for name, value in results.items()})
        if self.log_dir:
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "evaluation"))
            with self._writer.as_default():
                for name, value in results.items():
                    tf.summary.scalar(f"evaluation/{name}", value, step=epoch + 1)
            self._writer.flush()

    def on_train_end(self, logs=None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
