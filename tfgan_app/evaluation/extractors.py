"""Feature extractors: images (uint8) → feature vectors (and class probabilities).

Every metric in `tfgan_app.evaluation.metrics` works on the output of a
`FeatureExtractor`. Extractors take uint8 `[N, H, W, C]` images (generator
outputs are quantised with `tfgan_app.images.to_uint8` first, exactly like real
data) and apply their own preprocessing.

* `InceptionExtractor`: InceptionV3 pool3 (2048-d) features and 1000-class
  ImageNet probabilities, for the standard FID / KID / IS / precision-recall.
  Preprocessing convention (as TF-GAN and most FID code): uint8 images → float,
  grayscale repeated to RGB, resized **bilinearly to 299×299** (no antialias),
  scaled to [-1, 1]. Uses the Keras application weights; offline, put the
  `.h5` file in the Keras cache (`~/.keras/models/`) or pass its path.
  Note: scores from Keras' InceptionV3 are close to, but not bit-identical
  with, the TF1 "pt_inception-2015-12-05" graph used by the reference FID code.
* `ClassifierExtractor`: the small MNIST / Fashion-MNIST CNNs shipped in
  `classifiers/` (trained by `scripts/train_classifiers.py`): 128-d features
  for "classifier FID" (FCD) and 10-class probabilities for the classifier
  score and per-class coverage.

Example:
>>> extractor = get_extractor("mnist")
>>> out = extractor(images_uint8)           # [N, 28, 28, 1] uint8
>>> out.features.shape, out.probabilities.shape
((N, 128), (N, 10))
"""

import abc
import os
from typing import NamedTuple, Optional

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.errors import MissingResourceError, UsageError
from tfgan_app.images import tf_from_uint8
from tfgan_app.names import SHIPPED_CLASSIFIERS  # TF-free, for the CLI flags
from tfgan_app.paths import CLASSIFIER_DIR

INCEPTION_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
INCEPTION_TOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
INCEPTION_NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_SIZE = 299


class Features(NamedTuple):
    """What an extractor returns for a batch: `[N, D]` features and `[N, K]` probabilities (or None).

    Example:
    >>> out = get_extractor("mnist")(np.zeros((4, 28, 28, 1), np.uint8))
    >>> out.features.shape, out.probabilities.shape
    ((4, 128), (4, 10))
    """

    features: np.ndarray
    probabilities: Optional[np.ndarray]


class FeatureExtractor(abc.ABC):
    """Base class: maps uint8 `[N, H, W, C]` images to `Features`, in batches of `batch_size`.

    Subclasses set `name`, `feature_dim`, `num_classes` (None without a
    classifier head) and `_model` (a keras.Model with outputs
    `[features, probabilities]`), and implement `_preprocess`.

    Args:
      batch_size: images per forward pass.

    Example:
    >>> class Pixels(FeatureExtractor):
    ...     name, feature_dim = "pixels", 784
    ...     def __init__(self):
    ...         super().__init__(batch_size=100)
    ...         inputs = keras.Input((28, 28, 1))
    ...         flat = keras.layers.Flatten()(inputs)
    ...         self._model = keras.Model(inputs, [flat, flat])
    ...     def _preprocess(self, images):
    ...         return tf.cast(images, tf.float32) / 255.0
    >>> Pixels()(np.zeros((3, 28, 28, 1), np.uint8)).features.shape
    (3, 784)
    """

    name: str = "extractor"
    feature_dim: int = 0
    num_classes: Optional[int] = None

    def __init__(self, batch_size: int = 50) -> None:
        self.batch_size = batch_size
        self._model: Optional[keras.Model] = None
        self._forward = tf.function(self._forward_impl, reduce_retracing=True, autograph=False)

    @abc.abstractmethod
    def _preprocess(self, images: tf.Tensor) -> tf.Tensor:
        """uint8 images → the model's input."""

    def _forward_impl(self, images: tf.Tensor):
        return self._model(self._preprocess(images), training=False)

    def __call__(self, images) -> Features:
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise UsageError(
                f"{type(self).__name__} expects uint8 images [N, H, W, 1 or 3], received {images.dtype} "
                f"{images.shape}. Quantise generator outputs with tfgan_app.images.to_uint8 first.")
        features, probabilities = [], []
        for start in range(0, len(images), self.batch_size):
            f, p = self._forward(tf.constant(images[start:start + self.batch_size]))
            features.append(f.numpy())
            probabilities.append(p.numpy())
        if not features:
            return Features(np.zeros((0, self.feature_dim), np.float32),
                            None if self.num_classes is None else np.zeros((0, self.num_classes), np.float32))
        return Features(np.concatenate(features),
                        None if self.num_classes is None else np.concatenate(probabilities))


def keras_cache_dir() -> str:
    """Folder where Keras keeps downloaded application weights (`$KERAS_HOME/models`, default `~/.keras/models`)."""
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return os.path.join(home, "models")


class InceptionExtractor(FeatureExtractor):
    """InceptionV3 pool3 features (2048-d) and ImageNet class probabilities (1000).

    Args:
      weights: `"auto"` (the Keras weights file from the Keras cache), a path
        to an InceptionV3 `.h5` weights file, or `None` for random weights
        (only for testing the structure and preprocessing; scores are meaningless).
      with_probabilities: also build the classification top (needed for the
        Inception score). Needs the full weights file
        (`inception_v3_weights_tf_dim_ordering_tf_kernels.h5`); pool3 features
        alone also work with the `_notop` file.
      batch_size: images per forward pass.

    Raises:
      MissingResourceError: if a `weights` path does not exist, or `"auto"` finds no weights file in the Keras
        cache.
      UsageError: for `with_probabilities=True` with the `_notop` weights file.

    Example:
    >>> extractor = InceptionExtractor(weights=None, with_probabilities=False)  # random weights: structure only
    >>> extractor(np.zeros((2, 28, 28, 1), np.uint8)).features.shape
    (2, 2048)
    """

    name = "inception"
    feature_dim = 2048

    def __init__(self, weights: Optional[str] = "auto", with_probabilities: bool = True,
                 batch_size: int = 50) -> None:
        super().__init__(batch_size)
        path, include_top = self._resolve_weights(weights, with_probabilities)
        self.num_classes = 1000 if include_top else None
        if include_top:
            full = keras.applications.InceptionV3(include_top=True, weights=path)
            pool = full.get_layer("avg_pool").output
            self._model = keras.Model(full.inputs, [pool, full.output])
        else:
            base = keras.applications.InceptionV3(include_top=False, weights=path, pooling="avg")
            self._model = keras.Model(base.inputs, [base.output, base.output])

    @staticmethod
    def _resolve_weights(weights: Optional[str], with_probabilities: bool):
        if weights is None:
            return None, with_probabilities
        if weights != "auto":
            if not os.path.isfile(weights):
                raise MissingResourceError(
                    f"InceptionV3 weights file {weights!r} does not exist. Pass the path of "
                    f"{INCEPTION_TOP_FILE} (or {INCEPTION_NOTOP_FILE} for FID/KID/PR without IS).")
            include_top = os.path.basename(weights) != INCEPTION_NOTOP_FILE
            if with_probabilities and not include_top:
                raise UsageError(f"The Inception score needs the classification top, but {weights!r} is the "
                                 f"'notop' file. Use {INCEPTION_TOP_FILE}, or drop `is` from the metrics.")
            return weights, include_top
        cache = keras_cache_dir()
        candidates = [INCEPTION_TOP_FILE] if with_probabilities else [INCEPTION_NOTOP_FILE, INCEPTION_TOP_FILE]
        for file_name in candidates:
            path = os.path.join(cache, file_name)
            if os.path.isfile(path):
                return path, file_name == INCEPTION_TOP_FILE
        needed = " or ".join(candidates)
        raise MissingResourceError(
            f"InceptionV3 weights not found: expected {needed} in the Keras cache {cache}/ (this machine "
            "cannot download them). On a machine with internet, fetch "
            f"{INCEPTION_WEIGHTS_URL}{candidates[0]} and copy it to {cache}/, or pass its path with "
            "--inception_weights=PATH. Without Inception weights, use a shipped classifier instead "
            "(--extractor=mnist or --extractor=fashion_mnist).")

    def _preprocess(self, images: tf.Tensor) -> tf.Tensor:
        x = tf.cast(images, tf.float32)
        if x.shape[-1] == 1:
            x = tf.tile(x, [1, 1, 1, 3])
        x = tf.image.resize(x, (INCEPTION_SIZE, INCEPTION_SIZE), method="bilinear", antialias=False)
        return tf_from_uint8(x)


class ClassifierExtractor(FeatureExtractor):
    """Features and probabilities from a Keras classifier with a `features` layer and a logits output.

    The classifier takes uint8-valued `[N, H, W, C]` images (scaling is part of
    the model, as in the shipped ones). Inputs of another size are resized
    bilinearly and RGB is converted to grayscale when the classifier expects 1 channel.

    Args:
      path: a `.keras` classifier file.
      name: the name used in metric tables (e.g. "mnist"); default: the file name without extension.
      batch_size: images per forward pass.

    Raises:
      MissingResourceError: if `path` does not exist.
      UsageError: if the classifier has no layer named `features`.

    Example:
    >>> extractor = ClassifierExtractor.shipped("mnist")
    >>> extractor.feature_dim, extractor.num_classes, extractor.input_shape
    (128, 10, (28, 28, 1))
    """

    def __init__(self, path: str, name: Optional[str] = None, batch_size: int = 500) -> None:
        super().__init__(batch_size)
        if not os.path.isfile(path):
            raise MissingResourceError(f"Classifier file {path!r} does not exist. Pass an existing .keras "
                                       f"classifier, or one of the shipped ones: {', '.join(SHIPPED_CLASSIFIERS)}.")
        classifier = keras.models.load_model(path, compile=False)
        try:
            features = classifier.get_layer("features").output
        except ValueError as e:
            raise UsageError(f"Classifier {path!r} has no layer named 'features'; a classifier extractor needs "
                             "one (the feature vector used for FID), followed by the logits output.") from e
        self.name = name or os.path.splitext(os.path.basename(path))[0]
        self.input_shape = tuple(int(d) for d in classifier.inputs[0].shape[1:])
        self.feature_dim = int(features.shape[-1])
        self.num_classes = int(classifier.output.shape[-1])
        self._model = keras.Model(classifier.inputs, [features, keras.ops.softmax(classifier.output)])

    @classmethod
    def shipped(cls, dataset: str) -> "ClassifierExtractor":
        """The classifier shipped for `dataset` ("mnist" or "fashion_mnist")."""
        if dataset not in SHIPPED_CLASSIFIERS:
            raise UsageError(f"No shipped classifier for {dataset!r}; available: {', '.join(SHIPPED_CLASSIFIERS)}.")
        path = os.path.join(CLASSIFIER_DIR, f"{dataset}_classifier.keras")
        if not os.path.isfile(path):
            raise MissingResourceError(f"The shipped classifier {path} is missing; recreate it with "
                                       "`python scripts/train_classifiers.py`.")
        return cls(path, name=dataset)

    def _preprocess(self, images: tf.Tensor) -> tf.Tensor:
        x = tf.cast(images, tf.float32)
        height, width, channels = self.input_shape
        if x.shape[-1] == 3 and channels == 1:
            x = tf.image.rgb_to_grayscale(x)
        elif x.shape[-1] == 1 and channels == 3:
            x = tf.tile(x, [1, 1, 1, 3])
        if tuple(x.shape[1:3]) != (height, width):
            x = tf.image.resize(x, (height, width), method="bilinear")
        return x


from tfgan_app.names import EXTRACTOR_NAMES  # noqa: E402  (TF-free, for the CLI flags)


def get_extractor(name: str, inception_weights: Optional[str] = "auto",
                  with_probabilities: bool = True) -> FeatureExtractor:
    """Returns an extractor by name: "inception", "mnist", "fashion_mnist", or a path to a `.keras` classifier.

    `inception_weights` and `with_probabilities` are passed to `InceptionExtractor`.

    Args:
      name: "inception", a shipped classifier ("mnist", "fashion_mnist") or a `.keras` file path.
      inception_weights: weights of the Inception extractor (`"auto"`, a path or None).
      with_probabilities: whether the Inception extractor builds its classification top.

    Returns:
      An `InceptionExtractor` or a `ClassifierExtractor`.

    Raises:
      UsageError: for an unknown name (neither a known extractor nor a `.keras` path), or from the extractor.
      MissingResourceError: for missing weights or classifier files.

    Example:
    >>> extractor = get_extractor("fashion_mnist")
    >>> type(extractor).__name__, extractor.name
    ('ClassifierExtractor', 'fashion_mnist')
    """
    if name == "inception":
        return InceptionExtractor(weights=inception_weights, with_probabilities=with_probabilities)
    if name in SHIPPED_CLASSIFIERS:
        return ClassifierExtractor.shipped(name)
    if name.endswith(".keras"):
        return ClassifierExtractor(name)
    raise UsageError(f"Unknown feature extractor {name!r}; expected one of {', '.join(EXTRACTOR_NAMES)} "
                     "or the path of a .keras classifier with a 'features' layer.")
