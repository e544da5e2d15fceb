"""Per-class quality and coverage of generated images, judged by a shipped classifier.

For MNIST-like generators the classifier's opinion answers the questions FID
hides: are the digits recognisable (confidence), and are all ten digits
produced (mode coverage)?

Example (e.g. at the end of training):
>>> report = digit_quality_report(to_uint8(gan.generate(1000)))
>>> print(format_quality_report(report))
"""

from typing import Dict, Optional

import numpy as np

from tfgan_app.errors import UsageError
from tfgan_app.evaluation.extractors import ClassifierExtractor, FeatureExtractor
from tfgan_app.evaluation.metrics import inception_score


def kl_to_uniform(fractions) -> float:
    """KL(histogram ‖ uniform) in nats of a histogram given as fractions summing to 1 (0 = perfectly balanced)."""
    fractions = np.asarray(fractions, np.float64)
    nonzero = fractions > 0
    return float(np.sum(fractions[nonzero] * np.log(fractions[nonzero] * len(fractions))))


def class_coverage(probabilities, confidence: float = 0.9, min_share: float = 0.1) -> Dict:
    """Class histogram statistics of `[N, K]` classifier probabilities.

    Returns a dict with:
      * `confident_fraction`: share of samples whose top probability exceeds `confidence`;
      * `class_fractions`: share of samples predicted as each class (argmax);
      * `classes_covered`: classes receiving at least `min_share` of their uniform
        share (with the defaults, ≥ 1 % of the samples for 10 classes);
      * `kl_to_uniform`: KL(class histogram ‖ uniform) in nats (0 = perfectly balanced).

    Args:
      probabilities: `[N, K]` class probabilities, N > 0.
      confidence: top probability above which a sample counts as confident.
      min_share: fraction of the uniform share 1/K a class needs to count as covered.

    Returns:
      The dict above.

    Raises:
      UsageError: unless `probabilities` has shape `[N, K]` with N > 0.

    Example:
    >>> class_coverage(np.eye(10)[[0, 0, 1, 1]])["classes_covered"]
    2
    """
    p = np.asarray(probabilities, np.float64)
    if p.ndim != 2 or p.shape[0] == 0:
        raise UsageError(f"class_coverage expects [N, K] probabilities with N > 0, received shape {p.shape}.")
    num_classes = p.shape[1]
    fractions = np.bincount(p.argmax(axis=1), minlength=num_classes) / p.shape[0]
    return {
        "confident_fraction": float((p.max(axis=1) > confidence).mean()),
        "class_fractions": [round(float(f), 4) for f in fractions],
        "classes_covered": int((fractions >= min_share / num_classes).sum()),
        "kl_to_uniform": kl_to_uniform(fractions),
    }


def digit_quality_report(images_uint8, dataset: str = "mnist",
                         extractor: Optional[FeatureExtractor] = None, splits: int = 10,
                         labels=None) -> Dict:
    """Classifier score, confident share and per-class coverage of generated MNIST / Fashion-MNIST images.

    Args:
      images_uint8: `[N, 28, 28, 1]` uint8 images (quantise generator output with
        `tfgan_app.images.to_uint8`). N ≥ `splits`; 1,000+ gives stable numbers.
      dataset: which shipped classifier judges them ("mnist" or "fashion_mnist").
      extractor: a classifier extractor to use instead (e.g. one already loaded).
      labels: for a conditional generator, the `[N]` class each image was generated for; adds
        `label_accuracy`, the share of images the classifier reads as their requested class.

      splits: splits of the classifier score (capped at N).

    Returns:
      `class_coverage(...)` plus `classifier_score_mean` / `classifier_score_std`
      (the Inception score computed with the classifier; 10 at best), `num_samples` and, with
      `labels`, `label_accuracy`.

    Raises:
      UsageError: for `labels` that are not one class per image, images that are not uint8 `[N, H, W, 1 or 3]`,
        or an unknown `dataset`.
      MissingResourceError: if the shipped classifier file is missing.

    Example:
    >>> images, labels = load_mnist("test")
    >>> report = digit_quality_report(images[:1000], labels=labels[:1000])
    >>> report["classes_covered"], report["label_accuracy"] > 0.95
    (10, True)
    """
    extractor = extractor or ClassifierExtractor.shipped(dataset)
    probabilities = extractor(images_uint8).probabilities
    score_mean, score_std = inception_score(probabilities, splits=min(splits, len(probabilities)))
    report = {"classifier_score_mean": score_mean, "classifier_score_std": score_std,
              **class_coverage(probabilities), "num_samples": int(len(probabilities))}
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if labels.shape != (len(probabilities),):
            raise UsageError(f"labels must give one class per image: expected shape ({len(probabilities)},), "
                             f"received {labels.shape}.")
        report["label_accuracy"] = float((np.asarray(probabilities).argmax(axis=1) == labels).mean())
    return report


def format_quality_report(report: Dict) -> str:
    """One-paragraph text form of `digit_quality_report` for logs.

    Args:
      report: a dict from `digit_quality_report`.

    Returns:
      One line: label accuracy (if present), classifier score, confident share, classes covered, KL to
      uniform and the per-class shares.

    Example:
    >>> images, _ = load_mnist("test")
    >>> print(format_quality_report(digit_quality_report(images[:1000])))  # or to_uint8(gan.generate(1000))
    classifier score 9.38 ± 0.16 | confident (>0.9): 98.2% | classes covered: 10/10 | KL to uniform 0.009 | ...
    """
    fractions = " ".join(f"{i}:{f:.0%}" for i, f in enumerate(report["class_fractions"]))
    accuracy = (f"requested label read: {report['label_accuracy']:.1%} | " if "label_accuracy" in report else "")
    return (f"{accuracy}classifier score {report['classifier_score_mean']:.2f} ± {report['classifier_score_std']:.2f} | "
            f"confident (>0.9): {report['confident_fraction']:.1%} | classes covered: "
            f"{report['classes_covered']}/{len(report['class_fractions'])} | KL to uniform "
            f"{report['kl_to_uniform']:.3f} | per class {fractions}")
