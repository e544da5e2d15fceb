"""`EvaluationCallback`: sample-quality metrics logged to TensorBoard during training, and keep-the-best.

Every `every_n_epochs` epochs the callback samples `num_samples` images from the
GAN's `sampling_generator` (the EMA generator when enabled; fixed seed, so epochs
are comparable), computes the chosen metrics and logs them as scalars
`evaluation/<metric>` under `log_dir/evaluation` (and into the epoch `logs` as
`eval_<metric>`, so History and callbacks placed after it see them). Real-data
statistics are computed once, on first use.

Metrics: the feature metrics of `tfgan_app.evaluation.scoring` (`fid`, `kid`,
`is`, `pr`, with the shipped classifier's features on MNIST / Fashion-MNIST and
InceptionV3 elsewhere), `fcd` (MNIST / Fashion-MNIST only: the Fréchet distance in
the shipped classifier's feature space whatever the extractor default; the metric to
keep the best digit generator by, since a collapsed generator cannot win it), plus `confidence` (share of samples the shipped
MNIST / Fashion-MNIST classifier reads with probability > 0.9), `label_accuracy`
(conditional GANs: share of samples, generated for the classes in turn, that the
classifier reads as their requested class) and, for 2-D toy
mixtures (`toy:ring8`, `toy:grid25`), `high_quality` (share of samples within 3σ
of a mode), `modes` (modes covered) and `coverage` (share of modes covered × share
of high-quality samples: a collapsed generator scores low however sharp its one mode).

Keep the best: with `best_path`, the generator is saved there (float32, as
`generator.keras`) whenever `monitor` improves on its best value so far — lower
is better for `fid` / `kid`, higher for the others — and `best_path` + `.json`
records the epoch and value. `tfgan train --eval_every=N --eval_metric=fid` adds
this callback with `best_path=<run>/best_generator.keras`.

Example:
>>> gan.fit(dataset, epochs=20, callbacks=[
...     EvaluationCallback("mnist", metrics="fid,is", every_n_epochs=5, num_samples=2000,
...                        log_dir="runs/dcgan/logs", best_path="runs/dcgan/best_generator.keras")])
"""

import json
import math
import os
from typing import Any, Callable, Dict, List, Optional

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.callbacks import EpochSummaryWriter
from tfgan_app.errors import UsageError
from tfgan_app.images import to_uint8
from tfgan_app.names import SHIPPED_CLASSIFIERS
from tfgan_app.evaluation.coverage import digit_quality_report
from tfgan_app.evaluation.extractors import ClassifierExtractor, get_extractor
from tfgan_app.evaluation.mode_coverage import mode_coverage
from tfgan_app.evaluation.scoring import (METRICS, compute_metrics, default_extractor, extract, needs_features,
                                         parse_metrics)
from tfgan_app.evaluation.sources import DatasetSource, GeneratorSource
from tfgan_app.gans.conditional import ConditionalGAN, labels_in_turn

# Metrics computed from samples, without a feature extractor.
SAMPLE_METRICS = ("confidence", "label_accuracy", "high_quality", "modes", "coverage")
# FCD: the Fréchet distance in the shipped MNIST / Fashion-MNIST classifier's feature space ("classifier FID"),
# always with that classifier. What keep-best on digits should use: a generator drawing one class scores far
# worse than one drawing all ten, however confidently read its one class is (`confidence` alone rewards it).
CLASSIFIER_METRICS = ("fcd",)
ALL_METRICS = METRICS + CLASSIFIER_METRICS + SAMPLE_METRICS
# The logged value a metric name is judged by when it is monitored, and whether lower is better.
MONITORED = {"fid": ("fid", True), "fcd": ("fcd", True), "kid": ("kid_mean", True), "is": ("is_mean", False),
             "pr": ("precision", False), "confidence": ("confidence", False),
             "label_accuracy": ("label_accuracy", False),
             "high_quality": ("high_quality", False), "modes": ("modes", False), "coverage": ("coverage", False)}
TOY_METRICS = ("high_quality", "modes", "coverage")


def default_eval_metric(dataset: str) -> str:
    """The metric `auto` stands for: fcd on MNIST / Fashion-MNIST, coverage on 2-D toy data, else fid."""
    if dataset in SHIPPED_CLASSIFIERS:
        return "fcd"
    return "coverage" if dataset.startswith("toy:") else "fid"


def parse_eval_metrics(metrics, dataset: Optional[str] = None) -> List[str]:
    """Checks metric names (a comma-separated string or a list) against `ALL_METRICS`.

    `auto` (with `dataset`) becomes `default_eval_metric(dataset)`.
    """
    if metrics == "auto" and dataset is not None:
        metrics = default_eval_metric(dataset)
    return parse_metrics(metrics, ALL_METRICS, "--eval_metric", "evaluation metric")


class EvaluationCallback(keras.callbacks.Callback):
    """Logs GAN metrics every `every_n_epochs` epochs and optionally keeps the best generator.

    Args:
      dataset: dataset spec of the real images (as for training).
      metrics: subset of `ALL_METRICS` (comma-separated or list), or "auto" (`default_eval_metric(dataset)`).
      every_n_epochs: evaluation period; the last epoch of `fit` is also evaluated when `best_path` is set.
      num_samples: generated (and real) samples per evaluation.
      extractor: "auto" (shipped classifier for mnist / fashion_mnist, else InceptionV3), or any name
        `get_extractor` accepts.
      log_dir: TensorBoard folder; None logs only into the epoch `logs`.
      split: dataset split of the real images.
      batch_size: images per generator / extractor call.
      seed: latent seed, the same at every evaluation.
      best_path: where to save the generator when `monitor` improves (None: no keep-best).
      monitor: the metric judged for keep-best (default: the first of `metrics`).
      inception_weights: weights of the InceptionV3 extractor (`"auto"`, a path or None), when it is used.
      save_generator: `fn(generator, path)` used to save the best generator (default: `generator.save`).

    Raises:
      UsageError: for `every_n_epochs` < 1 or `num_samples` < 2, unknown metrics, `fcd` on a dataset without a
        shipped classifier or with another `extractor`, feature metrics on a 2-D toy dataset, toy metrics on
        images, `confidence` / `label_accuracy` off MNIST / Fashion-MNIST, or a `monitor` that is not among
        the evaluated metrics.

    Example:
    >>> callback = EvaluationCallback("mnist", metrics="fcd,confidence", every_n_epochs=1, num_samples=500,
    ...                               best_path="/tmp/run/best_generator.keras")
    >>> callback.metrics, callback.monitor
    (['fcd', 'confidence'], 'fcd')
    >>> gan.fit(info.dataset, epochs=3, callbacks=[callback])  # logs eval_fcd, eval_confidence each epoch
    """

    def __init__(self, dataset: str, metrics="auto", every_n_epochs: int = 5, num_samples: int = 2000,
                 extractor: str = "auto", log_dir: Optional[str] = None, split: str = "train",
                 batch_size: int = 250, seed: int = 0, inception_weights: Optional[str] = "auto",
                 best_path: Optional[str] = None, monitor: Optional[str] = None,
                 save_generator: Optional[Callable[[keras.Model, str], None]] = None) -> None:
        super().__init__()
        if every_n_epochs < 1 or num_samples < 2:
            raise UsageError(f"EvaluationCallback needs every_n_epochs >= 1 and num_samples >= 2, received "
                             f"{every_n_epochs} and {num_samples}.")
        self.dataset, self.metrics = dataset, parse_eval_metrics(metrics, dataset)
        self.feature_metrics = [m for m in self.metrics if m in METRICS]
        if "fcd" in self.metrics:
            if dataset not in SHIPPED_CLASSIFIERS:
                raise UsageError(f"fcd uses the shipped MNIST / Fashion-MNIST classifier; dataset {dataset!r} has "
                                 "none. Use fid or kid.")
            if extractor not in ("auto", dataset):
                raise UsageError(f"fcd is measured with the {dataset} classifier's features; received "
                                 f"extractor={extractor!r}. Use fid for other features.")
            extractor = dataset
            if "fid" not in self.feature_metrics:
                self.feature_metrics.append("fid")  # computed as fid with the classifier, reported as fcd
        toy = dataset.startswith("toy:")
        if toy and self.feature_metrics:
            raise UsageError(f"Metrics {self.feature_metrics} need images; for the 2-D toy dataset {dataset!r} use "
                             "high_quality or modes.")
        if not toy and (set(TOY_METRICS) & set(self.metrics)):
            raise UsageError("high_quality, modes and coverage are for 2-D toy mixtures (toy:ring8, toy:grid25), "
                             f"not {dataset!r}.")
        for name in ("confidence", "label_accuracy"):
            if name in self.metrics and dataset not in ("mnist", "fashion_mnist"):
                raise UsageError(f"{name} uses the shipped MNIST / Fashion-MNIST classifier; dataset {dataset!r} has "
                                 "none. Use fid or kid.")
        self.monitor = monitor or self.metrics[0]
        if self.monitor not in self.metrics:
            raise UsageError(f"monitor={self.monitor!r} must be one of the evaluated metrics {self.metrics}.")
        self.every_n_epochs, self.num_samples = every_n_epochs, num_samples
        self.extractor_name = (default_extractor(dataset) if extractor == "auto" else extractor) if not toy else None
        self.log_dir, self.split, self.batch_size, self.seed = log_dir, split, batch_size, seed
        self.inception_weights = inception_weights
        self.best_path = best_path
        self.save_generator = save_generator or (lambda generator, path: generator.save(path))
        self.best: Optional[float] = None
        self.best_epoch: Optional[int] = None
        self._extractor = None
        self._classifier = None
        self._real = None
        self._summaries = EpochSummaryWriter(os.path.join(log_dir, "evaluation")) if log_dir else None
        self.history: Dict[int, Dict[str, float]] = {}

    # --- metrics --------------------------------------------------------------------------------

    def evaluate_now(self) -> Dict[str, float]:
        """Computes the metrics for the current (sampling) generator."""
        results: Dict[str, float] = {}
        if self.feature_metrics:
            results.update(self._feature_metrics())
        if {"confidence", "label_accuracy"} & set(self.metrics):
            labels = None
            if "label_accuracy" in self.metrics:
                if not isinstance(self.model, ConditionalGAN):
                    raise UsageError(f"label_accuracy needs a conditional GAN (labels in, e.g. cgan_mnist); "
                                     f"received a {type(self.model).__name__}. Use confidence.")
                labels = labels_in_turn(self.num_samples, self.model.num_classes)
            if self._classifier is None:
                self._classifier = ClassifierExtractor.shipped(self.dataset)
            report = digit_quality_report(to_uint8(self.model.generate(self.num_samples, seed=self.seed, labels=labels)),
                                          self.dataset, extractor=self._classifier, labels=labels)
            results["confidence"] = float(report["confident_fraction"])
            results["classes_covered"] = float(report["classes_covered"])
            if labels is not None:
                results["label_accuracy"] = float(report["label_accuracy"])
        if set(TOY_METRICS) & set(self.metrics):
            report = mode_coverage(self.model.generate(self.num_samples, seed=self.seed), self.dataset.split(":", 1)[1])
            results["high_quality"] = float(report["high_quality_fraction"])
            results["modes"] = float(report["modes_covered"])
            results["coverage"] = float(report["modes_covered"] / report["num_modes"] * report["high_quality_fraction"])
        return results

    def _feature_metrics(self) -> Dict[str, float]:
        keep = needs_features(self.feature_metrics)
        if self._extractor is None:
            self._extractor = get_extractor(self.extractor_name, self.inception_weights,
                                            with_probabilities="is" in self.feature_metrics)
        num_classes = getattr(self.model, "num_classes", None)
        generator = getattr(self.model, "sampling_generator", self.model.generator)
        source = GeneratorSource.from_keras(generator, num_classes=num_classes)
        if self._real is None and self.feature_metrics != ["is"]:
            real_source = DatasetSource(self.dataset, self.split, source.image_shape)
            self._real = extract(real_source.batches(self.num_samples, self.batch_size, self.seed),
                                 self._extractor, keep)
        fake = extract(source.batches(self.num_samples, self.batch_size, self.seed), self._extractor, keep)
        results = compute_metrics(self._real, fake, self.feature_metrics, seed=self.seed)
        if "fcd" in self.metrics:
            results["fcd"] = results["fid"] if "fid" in self.metrics else results.pop("fid")
        return results

    # --- keep the best --------------------------------------------------------------------------

    def improved(self, value: float) -> bool:
        """Whether `value` of the monitored metric beats the best so far (NaN never does)."""
        if value is None or not math.isfinite(value):
            return False
        if self.best is None:
            return True
        lower_is_better = MONITORED[self.monitor][1]
        return value < self.best if lower_is_better else value > self.best

    def resume_best(self) -> None:
        """Continues keep-best from the record of an interrupted run (`best_path` + `.json`), if any.

        Without it, the first evaluation after resuming from a backup would count as an improvement and
        replace the interrupted run's best generator, however much worse it is.

        Raises:
          UsageError: the record was kept by another metric than `monitor`.
        """
        record_path = self.best_path + ".json" if self.best_path else None
        if not record_path or not os.path.isfile(record_path) or not os.path.isfile(self.best_path):
            return
        with open(record_path, encoding="utf-8") as f:
            record = json.load(f)
        if record.get("metric") != self.monitor:
            raise UsageError(f"The interrupted run kept {self.best_path} by {record.get('metric')!r}; resume with "
                             f"--eval_metric={record.get('metric')} (received {self.monitor!r}), or pass "
                             "--overwrite to start over.")
        self.best, self.best_epoch = float(record["value"]), int(record["epoch"])

    def _keep_best(self, epoch: int, results: Dict[str, Any]) -> None:
        value = results.get(MONITORED[self.monitor][0])
        if not self.improved(value):
            return
        self.best, self.best_epoch = float(value), epoch + 1
        generator = getattr(self.model, "sampling_generator", self.model.generator)
        os.makedirs(os.path.dirname(os.path.abspath(self.best_path)), exist_ok=True)
        self.save_generator(generator, self.best_path)
        with open(self.best_path + ".json", "w", encoding="utf-8") as f:
            json.dump({"epoch": self.best_epoch, "metric": self.monitor, "value": self.best,
                       "results": {k: v for k, v in results.items() if np.ndim(v) == 0}}, f, indent=2)

    # --- callback hooks -------------------------------------------------------------------------

    def _evaluate_epoch(self, epoch: int, logs=None) -> None:
        if epoch in self.history:
            return
        results = self.evaluate_now()
        self.history[epoch] = results
        if logs is not None:
            logs.update({f"eval_{name}": value for name, value in results.items()})
        if self._summaries is not None:
            with self._summaries.recording():
                for name, value in results.items():
                    if np.ndim(value) == 0:
                        tf.summary.scalar(f"evaluation/{name}", value, step=epoch + 1)
        if self.best_path:
            self._keep_best(epoch, results)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        last = self.best_path and self.params and epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every_n_epochs and not last:
            return
        self._evaluate_epoch(epoch, logs)

    def on_train_end(self, logs=None) -> None:
        if self._summaries is not None:
            self._summaries.close()
