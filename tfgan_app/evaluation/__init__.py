"""GAN evaluation: FID, KID, Inception score, precision/recall and class coverage.

Layers, from the bottom up:
* `metrics`: pure NumPy metrics on features / probabilities
  (`frechet_distance`, `kernel_inception_distance`, `inception_score`, `precision_recall`).
* `statistics.StreamingMoments`: mean/covariance accumulated batch by batch.
* `extractors`: uint8 images → features (+ probabilities): `InceptionExtractor`
  (InceptionV3 pool3 / ImageNet probabilities) and `ClassifierExtractor` (the
  shipped MNIST / Fashion-MNIST classifiers, for classifier FID "FCD" and score).
* `sources`: uint8 images from generators, SavedModels, folders and datasets.
* `scoring.evaluate(...)`: the whole pipeline (also `tfgan evaluate`).
* `EvaluationCallback`: metrics to TensorBoard during `fit`.
* `digit_quality_report`: classifier score, confident share and per-class coverage.
* `mode_coverage`: modes covered / high-quality share / reverse KL on 2-D Gaussian mixtures.

All metrics quantise generated images to uint8 first (`tfgan_app.images.to_uint8`),
as real data is stored in uint8.

Example:
>>> from tfgan_app.evaluation import evaluate
>>> evaluate("runs/dcgan_mnist", "mnist", metrics="fid,is", num_samples=10000)["metrics"]
{'fid': 1.9, 'is_mean': 9.3, 'is_std': 0.05}
"""

from tfgan_app.evaluation.callback import EvaluationCallback
from tfgan_app.evaluation.coverage import class_coverage, digit_quality_report, format_quality_report
from tfgan_app.evaluation.extractors import (ClassifierExtractor, FeatureExtractor, Features, InceptionExtractor,
                                             get_extractor)
from tfgan_app.evaluation.metrics import (frechet_distance, inception_score, kernel_inception_distance,
                                          polynomial_mmd2, precision_recall)
from tfgan_app.evaluation.scoring import METRICS, FeatureSet, compute_metrics, evaluate, extract
from tfgan_app.evaluation.sources import (ArraySource, DatasetSource, GeneratorSource, ImageSource,
                                          load_image_source)
from tfgan_app.evaluation.statistics import StreamingMoments

__all__ = [
    "EvaluationCallback", "class_coverage", "digit_quality_report", "format_quality_report",
    "ClassifierExtractor", "FeatureExtractor", "Features", "InceptionExtractor", "get_extractor",
    "frechet_distance", "inception_score", "kernel_inception_distance", "polynomial_mmd2", "precision_recall",
    "METRICS", "FeatureSet", "compute_metrics", "evaluate", "extract",
    "ArraySource", "DatasetSource", "GeneratorSource", "ImageSource", "load_image_source", "StreamingMoments",
]
