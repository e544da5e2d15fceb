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
import json
import os
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

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
    """What an image set leaves after extraction: moments, optionally all features, probabilities.

    Args:
      moments: `StreamingMoments` of the features (mean and covariance, for FID).
      features: `[N, D]` float32 features when kept (KID, precision/recall), else None.
      probabilities: `[N, K]` float32 class probabilities when the extractor has a classifier head, else None.

    Example:
    >>> images, _ = load_mnist("test")
    >>> fake = extract([images[:500], images[500:1000]], get_extractor("mnist"), keep_features=True)
    >>> fake.count, fake.features.shape, fake.probabilities.shape
    (1000, (1000, 128), (1000, 10))
    """

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
      batches: an iterable of uint8 `[B, H, W, C]` arrays (e.g. `ImageSource.batches(...)`).
      extractor: the `FeatureExtractor` to run.
      keep_features: keep every feature vector (needed by KID and precision/recall), not only the moments.
      progress: `(title, number of images)` to print the title and a Keras progress bar on stdout.

    Returns:
      A `FeatureSet`: the streaming moments, the `[N, D]` features (None unless `keep_features`) and the
      `[N, K]` probabilities (None for an extractor without a classifier head).

    Example:
    >>> real = extract(DatasetSource("mnist", "test").batches(1000, 250), get_extractor("mnist"), False)
    >>> real.count, real.moments.mean.shape, real.features is None
    (1000, (128,), True)
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
    """Computes the requested metrics of `fake` against `real` (IS needs only `fake`).

    Args:
      real: the real images' `FeatureSet`, or None when only "is" is asked for.
      fake: the generated images' `FeatureSet`.
      metrics: subset of "fid", "kid", "is", "pr" (list or comma-separated).
      kid_subsets: `num_subsets` of `kernel_inception_distance`.
      kid_subset_size: `subset_size` of `kernel_inception_distance`.
      is_splits: `splits` of `inception_score`.
      pr_k: `k` of `precision_recall`.
      seed: seed of the KID subsets.

    Returns:
      A flat dict of floats: `fid`; `kid_mean`, `kid_std`; `is_mean`, `is_std`; `precision`, `recall` (the
      keys of the requested metrics).

    Raises:
      UsageError: for unknown metrics, "is" without probabilities, a comparing metric without `real`, "kid" or
        "pr" on sets extracted without `keep_features`, or an error of the metric itself.

    Example:
    >>> images, _ = load_mnist("test")
    >>> extractor = get_extractor("mnist")
    >>> real = extract([images[:1000]], extractor, keep_features=True)
    >>> fake = extract([images[1000:2000]], extractor, keep_features=True)
    >>> sorted(compute_metrics(real, fake, "fid,kid,is", kid_subsets=10, kid_subset_size=500))
    ['fid', 'is_mean', 'is_std', 'kid_mean', 'kid_std']
    """
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


def _shape(shape) -> str:
    height, width, channels = shape
    return f"{height}x{width} {'grayscale' if channels == 1 else 'RGB'}"


def _adaptation(have, want) -> str:
    steps = []
    if have[-1] != want[-1]:
        steps.append("converted to grayscale" if want[-1] == 1 else "repeated to 3 channels")
    if tuple(have[:2]) != tuple(want[:2]):
        steps.append(f"resized to {want[0]}x{want[1]}")
    return " and ".join(steps)


@dataclasses.dataclass
class ReferenceStats:
    """What a saved set of real-image features was made from; a file made otherwise is refused."""

    extractor: str
    dataset: str
    split: str
    num_samples: int
    image_shape: Tuple[int, int, int]
    seed: int
    features: bool

    @classmethod
    def describe(cls, extractor: str, dataset: str, split: str, num_samples: int, image_shape, seed: int,
                 features: bool) -> "ReferenceStats":
        return cls(extractor, dataset, split, int(num_samples), tuple(int(d) for d in image_shape), int(seed),
                   bool(features))

    def _key(self) -> str:
        return json.dumps({**dataclasses.asdict(self), "image_shape": list(self.image_shape)}, sort_keys=True)

    def save(self, path: str, real: FeatureSet) -> None:
        """Writes `real` (moments, and the features when kept) with this description to `path` (.npz)."""
        arrays = {"description": np.array(self._key()), "count": np.array(real.moments.count),
                  "mean": real.moments.mean, "covariance": real.moments.covariance}
        if real.features is not None:
            arrays["features"] = real.features
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            np.savez(f, **arrays)

    def load(self, path: str) -> FeatureSet:
        """Reads `path`; raises UsageError unless it was made with this description."""
        try:
            with np.load(path, allow_pickle=False) as data:
                stored = str(data["description"])
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, KeyError) as e:
            raise UsageError(f"--reference_stats={path!r} is not a reference statistics file written by "
                             f"tfgan evaluate ({e}). Delete it or pass another path.") from e
        if stored != self._key():
            theirs, ours = json.loads(stored), json.loads(self._key())
            differences = ", ".join(f"{k}={theirs.get(k)!r} (now {ours[k]!r})" for k in ours if theirs.get(k) != ours[k])
            raise UsageError(f"--reference_stats={path!r} was made for another setup: {differences}. Delete it, "
                             "or pass another path to write new ones.")
        moments = StreamingMoments.from_moments(int(arrays["count"]), arrays["mean"], arrays["covariance"])
        return FeatureSet(moments, arrays.get("features"), None)


def evaluate(generator: Union[str, ImageSource], dataset: str, metrics="fid,kid,is,pr", num_samples: int = 10000,
             extractor: str = "auto", inception_weights: Optional[str] = "auto", split: str = "train",
             batch_size: int = 250, seed: int = 0, kid_subsets: int = 100, kid_subset_size: int = 1000,
             is_splits: int = 10, pr_k: int = 3, data_dir: Optional[str] = None, verbose: int = 0,
             reference_stats: Optional[str] = None) -> Dict:
    """Scores `num_samples` generated images against `num_samples` real images of `dataset`.

    Args:
      generator: an `ImageSource` or what `load_image_source` accepts (run dir,
        `.keras`, SavedModel, image folder).
      dataset: a dataset spec (`mnist`, `fashion_mnist`, `tfds:NAME`, `folder:/PATH`);
        real images are resized to the generator's output shape like in training.
      metrics: subset of "fid", "kid", "is", "pr" (list or comma-separated).
      extractor: "auto" (shipped classifier for mnist / fashion_mnist, else
        "inception"), "inception", "mnist", "fashion_mnist" or a `.keras` classifier path.
      verbose: 1 prints a progress bar per image set (generated, then real) and every note on stdout.
      reference_stats: a `.npz` file of the real images' features: written after they are extracted if it
        does not exist, read instead of extracting them if it does. A file made with another extractor,
        dataset, split, sample count, image shape or seed is refused.
      Other arguments: see `compute_metrics` and `InceptionExtractor`.

    Returns:
      A JSON-serialisable dict: `metrics` (numbers), the extractor, sample
      counts, timing and `notes` (what was adapted: fewer samples than asked, smaller batches or KID
      subsets, images converted for the extractor). Keys: `generator`, `dataset`, `split`, `extractor`,
      `num_generated`, `num_real`, `metrics`, `notes`, `seconds`.

    Raises:
      UsageError / MissingResourceError: before any feature is computed, for what cannot be adapted
        (unknown metrics or extractor, missing Inception weights, an unreadable dataset, a reference
        statistics file of another setup), and `num_samples` < 2 or `batch_size` < 1.

    Example:
    >>> result = evaluate("runs/dcgan_mnist", "mnist", metrics="fid,is", num_samples=2000)
    >>> result["extractor"], sorted(result["metrics"])
    ('mnist', ['fid', 'is_mean', 'is_std'])
    """
    names = parse_metrics(metrics)
    if num_samples < 2 or batch_size < 1:
        raise UsageError(f"num_samples must be >= 2 and batch_size >= 1, received {num_samples}, {batch_size}.")
    start = time.time()
    notes: List[str] = []
    say = (lambda text: (notes.append(text), print(f"note: {text}", flush=True))) if verbose else notes.append
    source = load_image_source(generator) if isinstance(generator, str) else generator
    # Everything that can be checked is checked before any feature is computed.
    real_source = None
    if names != ["is"]:
        real_source = DatasetSource(dataset, split, source.image_shape, data_dir)
        available = real_source.num_examples
        if available is not None and available < num_samples:
            say(f"{dataset} ({split}) has {available} images, fewer than num_samples={num_samples}: "
                f"comparing {available} generated with {available} real images.")
            num_samples = available
    if batch_size > num_samples:
        say(f"batch_size={batch_size} is more than the {num_samples} images; using batches of {num_samples}.")
        batch_size = num_samples
    if "kid" in names and kid_subset_size > num_samples:
        say(f"kid_subset_size={kid_subset_size} is more than the {num_samples} images; KID uses subsets of "
            f"{num_samples}.")
        kid_subset_size = num_samples
    extractor_name = default_extractor(dataset) if extractor == "auto" else extractor
    feature_extractor = get_extractor(extractor_name, inception_weights, with_probabilities="is" in names)
    expected = getattr(feature_extractor, "input_shape", None)
    if expected is not None and tuple(expected) != tuple(source.image_shape):
        say(f"the {feature_extractor.name} classifier reads {_shape(expected)} images; the "
            f"{_shape(source.image_shape)} images are {_adaptation(source.image_shape, expected)} before it "
            "reads them (its features were learnt on its own dataset: compare such scores only with each other).")
    keep = needs_features(names)
    reference = ReferenceStats.describe(feature_extractor.name, dataset, split, num_samples, source.image_shape,
                                        seed, keep) if reference_stats else None
    real = reference.load(reference_stats) if reference and os.path.exists(reference_stats) else None

    def progress(title: str) -> Optional[Tuple[str, int]]:
        return (f"{title}: {num_samples} images, {feature_extractor.name} features", num_samples) if verbose else None

    fake = extract(source.batches(num_samples, batch_size, seed), feature_extractor, keep,
                   progress(f"Generated images ({source.name})"))
    if real_source is not None and real is None:
        real = extract(real_source.batches(num_samples, batch_size, seed), feature_extractor, keep,
                       progress(f"Real images ({dataset}, {split})"))
        if reference:
            reference.save(reference_stats, real)
            say(f"wrote the reference statistics of {dataset} ({split}) to {reference_stats}; later runs with "
                "the same --reference_stats read them instead of extracting the real images again.")
    elif real is not None:
        say(f"read the reference statistics of {dataset} ({split}) from {reference_stats}.")
    results = compute_metrics(real, fake, names, kid_subsets, kid_subset_size, is_splits, pr_k, seed)
    return {"generator": source.name, "dataset": dataset, "split": split, "extractor": feature_extractor.name,
            "num_generated": fake.count, "num_real": 0 if real is None else real.count,
            "metrics": results, "notes": notes, "seconds": round(time.time() - start, 1)}
