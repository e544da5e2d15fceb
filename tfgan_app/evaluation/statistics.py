"""Streaming first and second moments of feature vectors.

FID only needs the mean and covariance of the features of each image set, so
`StreamingMoments` accumulates them batch by batch (Chan et al.'s parallel
update, in float64) instead of holding every feature vector in memory. The
result equals `np.mean(x, 0)` / `np.cov(x, rowvar=False)` over all batches.

Example:
>>> moments = StreamingMoments()
>>> for batch in np.array_split(np.random.randn(1000, 8), 7):
...     moments.update(batch)
>>> mean, cov = moments.mean, moments.covariance
"""

from typing import Optional

import numpy as np

from tfgan_app.errors import UsageError


class StreamingMoments:
    """Running mean and (unbiased, ddof=1) covariance of `[N, D]` feature batches.

    Example:
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> moments = StreamingMoments()
    >>> moments.update(x[:40]); moments.update(x[40:])
    >>> np.allclose(moments.covariance, np.cov(x, rowvar=False))
    True
    """

    def __init__(self) -> None:
        self.count = 0
        self._mean: Optional[np.ndarray] = None
        self._m2: Optional[np.ndarray] = None  # sum of outer products of deviations

    @classmethod
    def from_moments(cls, count: int, mean: np.ndarray, covariance: np.ndarray) -> "StreamingMoments":
        """The moments of `count` vectors with `mean` and (unbiased) `covariance`, e.g. read from a file."""
        moments = cls()
        moments.count = int(count)
        moments._mean = np.asarray(mean, np.float64)
        moments._m2 = np.asarray(covariance, np.float64) * (moments.count - 1)
        return moments

    def update(self, features) -> None:
        """Adds a `[B, D]` batch of feature vectors."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2:
            raise UsageError(f"StreamingMoments.update expects [batch, dim] features, received shape {x.shape}.")
        if not np.all(np.isfinite(x)):
            raise UsageError("StreamingMoments.update expects finite features, received NaN or Inf values; check "
                             "the generator outputs (a diverged run gives NaN images) or the feature extractor.")
        if self._mean is not None and x.shape[1] != self._mean.shape[0]:
            raise UsageError(
                f"Feature dimension changed: expected {self._mean.shape[0]}, received {x.shape[1]}.")
        n_b = x.shape[0]
        if n_b == 0:
            return
        mean_b = x.mean(axis=0)
        centred = x - mean_b
        m2_b = centred.T @ centred
        if self._mean is None:
            self.count, self._mean, self._m2 = n_b, mean_b, m2_b
            return
        n_a = self.count
        total = n_a + n_b
        delta = mean_b - self._mean
        self._mean = self._mean + delta * (n_b / total)
        self._m2 = self._m2 + m2_b + np.outer(delta, delta) * (n_a * n_b / total)
        self.count = total

    @property
    def mean(self) -> np.ndarray:
        """`[D]` mean of every vector seen so far."""
        self._check(1)
        return self._mean

    @property
    def covariance(self) -> np.ndarray:
        """`[D, D]` unbiased covariance (divides by N - 1), like `np.cov(x, rowvar=False)`."""
        self._check(2)
        return self._m2 / (self.count - 1)

    def _check(self, minimum: int) -> None:
        if self.count < minimum:
            raise UsageError(
                f"Need at least {minimum} feature vectors for these statistics, received {self.count}. "
                "Evaluate more samples (e.g. raise --num_samples).")
