"""Running an extractor over image batches and turning the results into metrics.

`extract(batches, extractor, keep_features)` streams images through a feature
extractor: FID only needs the streaming mean/covariance (`StreamingMoments`),
so per-image features are kept only when KID or precision/recall are asked
for. `compute_metrics(real, fake, metrics)` then returns a flat dict of numbers
such as `{"fid": 12.3, "kid_mean": 0.004, "kid_std": 0.001, "is_mean": 8.1, ...}`.

Example:
>>> extractor = get_extractor("mnist")
>>> real = extract(DatasetSource("mnist", "test").batches(10000, 500), extractor, keep_features=False)
>>> fake = extract(load_image_source("runs/dcgan").batches(10000, 500), extractor, keep_features=False)
>>> compute_metrics(real, fake, ["fid", "is"])
"""

import dataclasses
import time
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

import keras
import numpy as np

from tfgan_app.errors import UsageError
from tfgan_app.evaluation.extractors import SHIPPED_CLASSIFIERS, FeatureExtractor, get_extractor
from tfgan_app.evaluation.metrics import (frechet_distance, inception_score, kernel_inception_distance,
                                          precision_recall)
from tfgan_app.evaluation.sources import DatasetSource, ImageSource, load_image_source
from tfgan_app.evaluation.statistics import StreamingMoments

from tfgan_app.names import METRICS  # noqa: E402  (TF-free, for the CLI flags)
_NEEDS_FEATURES = ("kid", "pr")


@dataclasses.dataclass
class FeatureSet:
    """What an image set leaves after extraction: moments, optionally all features, probabilities."""

    moments: StreamingMoments
    features: Optional[np.ndarray]
    probabilities: Optional[np.ndarray]

    @property
    def count(self) -> int:
        return self.moments.count


def parse_metrics(metrics, allowed=METRICS, flag: str = "--metrics", what: str = "metric") -> list:
    """Checks metric names (a comma-separated string or a list) against `allowed` ("fid", "kid", "is", "pr"
    by default); the error calls them `what` and names `flag`."""
    names = [m.strip().lower() for m in (metrics.split(",") if isinstance(metrics, str) else metrics) if m.strip()]
    unknown = [m for m in names if m not in allowed]
    if unknown or not names:
        raise UsageError(f"Unknown {what}(s) {unknown or metrics!r}; expected a comma-separated subset of "
                         f"{', '.join(allowed)} (e.g. {flag}={allowed[0]}).")
    return names


def needs_features(metrics: Sequence[str]) -> bool:
    """Whether `metrics` need every feature vector kept (KID, precision/recall) rather than moments only."""
    return any(m in _NEEDS_FEATURES for m in metrics)


def extract(batches: Iterable[np.ndarray], extractor: FeatureExtractor, keep_features: bool,
            progress: Optional[Tuple[str, int]] = None) -> FeatureSet:
    """Runs `extractor` over uint8 image batches; keeps per-image features only if `keep_features`.

    Args:
      progress: `(title, number of images)` to print the title and a Keras progress bar on stdout.
    """
    moments = StreamingMoments()
    features, probabilities = [], []
    bar = None
    if progress is not None:
        print(progress[0], flush=True)
        bar = keras.utils.Progbar(progress[1], unit_name="image")
    for batch in batches:
        out = extractor(batch)
        if bar is not None:
            bar.add(len(batch))
        moments.update(out.features)
        if keep_features:
            features.append(out.features.astype(np.float32))
        if out.probabilities is not None:
            probabilities.append(out.probabilities.astype(np.float32))
    return FeatureSet(moments,
                      np.concatenate(features) if features else None,
                      np.concatenate(probabilities) if probabilities else None)


def compute_metrics(real: Optional[FeatureSet], fake: FeatureSet, metrics: Sequence[str],
                    kid_subsets: int = 100, kid_subset_size: int = 1000, is_splits: int = 10,
                    pr_k: int = 3, seed: int = 0) -> Dict[str, float]:
    """Computes the requested metrics of `fake` against `real` (IS needs only `fake`)."""
    results: Dict[str, float] = {}
    for metric in parse_metrics(metrics):
        if metric == "is":
            if fake.probabilities is None:
                raise UsageError("The Inception score needs class probabilities; this extractor has no "
                                 "classification head (e.g. InceptionV3 'notop' weights).")
            results["is_mean"], results["is_std"] = inception_score(fake.probabilities, splits=is_splits)
            continue
        if real is None:
            raise UsageError(f"Metric {metric!r} compares with real data; pass a real image set.")
        if metric == "fid":
            results["fid"] = frechet_distance(real.moments.mean, real.moments.covariance,
                                              fake.moments.mean, fake.moments.covariance)
        elif real.features is None or fake.features is None:
            raise UsageError(f"Metric {metric!r} needs every feature vector; extract with keep_features=True.")
        elif metric == "kid":
            results["kid_mean"], results["kid_std"] = kernel_inception_distance(
                real.features, fake.features, num_subsets=kid_subsets, subset_size=kid_subset_size, seed=seed)
        else:
            results["precision"], results["recall"] = precision_recall(real.features, fake.features, k=pr_k)
    return results


def default_extractor(dataset: str) -> str:
    """The extractor `"auto"` picks: the shipped classifier for mnist / fashion_mnist, else InceptionV3."""
    return dataset if dataset in SHIPPED_CLASSIFIERS else "inception"


def evaluate(generator: Union[str, ImageSource], dataset: str, metrics="fid,kid,is,pr", num_samples: int = 10000,
             extractor: str = "auto", inception_weights: Optional[str] = "auto", split: str = "train",
             batch_size: int = 250, seed: int = 0, kid_subsets: int = 100, kid_subset_size: int = 1000,
             is_splits: int = 10, pr_k: int = 3, data_dir: Optional[str] = None, verbose: int = 0) -> Dict:
    """Scores `num_samples` generated images against `num_samples` real images of `dataset`.

    Args:
      generator: an `ImageSource` or what `load_image_source` accepts (run dir,
        `.keras`, SavedModel, image folder).
      dataset: a dataset spec (`mnist`, `fashion_mnist`, `tfds:NAME`, `folder:/PATH`);
        real images are resized to the generator's output shape like in training.
      metrics: subset of "fid", "kid", "is", "pr" (list or comma-separated).
      extractor: "auto" (shipped classifier for mnist / fashion_mnist, else
        "inception"), "inception", "mnist", "fashion_mnist" or a `.keras` classifier path.
      verbose: 1 prints a progress bar per image set (generated, then real) on stdout.
      Other arguments: see `compute_metrics` and `InceptionExtractor`.

    Returns a JSON-serialisable dict: `metrics` (numbers), the extractor, sample
    counts and timing.
    """
    names = parse_metrics(metrics)
    if num_samples < 2 or batch_size < 1:
        raise UsageError(f"num_samples must be >= 2 and batch_size >= 1, received {num_samples}, {batch_size}.")
    start = time.time()
    source = load_image_source(generator) if isinstance(generator, str) else generator
    extractor_name = default_extractor(dataset) if extractor == "auto" else extractor
    feature_extractor = get_extractor(extractor_name, inception_weights, with_probabilities="is" in names)
    keep = needs_features(names)
    def progress(title: str) -> Optional[Tuple[str, int]]:
        return (f"{title}: {num_samples} images, {feature_extractor.name} features", num_samples) if verbose else None

    fake = extract(source.batches(num_samples, batch_size, seed), feature_extractor, keep,
                   progress(f"Generated images ({source.name})"))
    real = None
    if names != ["is"]:
        real_source = DatasetSource(dataset, split, source.image_shape, data_dir)
        real = extract(real_source.batches(num_samples, batch_size, seed), feature_extractor, keep,
                       progress(f"Real images ({dataset}, {split})"))
    results = compute_metrics(real, fake, names, kid_subsets, kid_subset_size, is_splits, pr_k, seed)
    return {"generator": source.name, "dataset": dataset, "split": split, "extractor": feature_extractor.name,
            "num_generated": fake.count, "num_real": 0 if real is None else real.count,
            "metrics": results, "seconds": round(time.time() - start, 1)}
