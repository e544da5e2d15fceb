"""GAN metrics on feature vectors / class probabilities: FID, KID, Inception score, precision/recall.

These functions are pure NumPy and know nothing of models: they take features
from any extractor (InceptionV3 pool3 for the standard numbers, the shipped
MNIST / Fashion-MNIST classifiers for "classifier FID"), so they can be checked
against closed forms and used with any feature space.

Example:
>>> real, fake = np.random.randn(500, 16), np.random.randn(500, 16) + 0.5
>>> fid = frechet_distance(real.mean(0), np.cov(real, rowvar=False),
...                        fake.mean(0), np.cov(fake, rowvar=False))
>>> kid_mean, kid_std = kernel_inception_distance(real, fake, num_subsets=10, subset_size=200)
"""

from typing import Tuple

import numpy as np
from scipy import special

from tfgan_app.errors import UsageError


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    d² = ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^{1/2}). The trace of the matrix square
    root is computed as Σ sqrt(eig(√Σ1 Σ2 √Σ1)): that matrix is symmetric positive
    semi-definite with the same eigenvalues as Σ1 Σ2, so no complex parts appear
    (other implementations drop a tiny imaginary part of `scipy.linalg.sqrtm`).

    Args:
      mu1: `[D]` mean of the first set of features (e.g. the real images').
      sigma1: `[D, D]` covariance of the first set.
      mu2: `[D]` mean of the second set (e.g. the generated images').
      sigma2: `[D, D]` covariance of the second set.

    Returns:
      The squared Fréchet distance d² (the number reported as FID), a Python float >= 0.

    Raises:
      UsageError: for NaN or Inf values, or means and covariances that are not `[D]` and `[D, D]` of one D.

    Example:
    >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))
    2.0
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    for label, value in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        _check_finite("frechet_distance", label, value)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise UsageError(
            "frechet_distance expects means [D] and covariances [D, D] of the same D, received "
            f"{mu1.shape}, {sigma1.shape}, {mu2.shape}, {sigma2.shape}.")
    sqrt_sigma1 = _psd_sqrt(sigma1)
    inner = sqrt_sigma1 @ sigma2 @ sqrt_sigma1
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt, 0.0))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix (negative round-off eigenvalues → 0)."""
    eigenvalues, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T


def polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² between `x` [m, D] and `y` [n, D] with kernel k(a, b) = (aᵀb / D + 1)³.

    Args:
      x: `[m, D]` feature vectors, m >= 2.
      y: `[n, D]` feature vectors, n >= 2.

    Returns:
      The unbiased estimate of MMD², a Python float (near 0, possibly slightly negative, for one distribution).

    Example:
    >>> rng = np.random.default_rng(0)
    >>> polynomial_mmd2(rng.normal(size=(200, 4)), rng.normal(size=(200, 4)) + 1.0) > 0.1
    True
    """
    d = x.shape[1]
    k_xx = (x @ x.T / d + 1.0) ** 3
    k_yy = (y @ y.T / d + 1.0) ** 3
    k_xy = (x @ y.T / d + 1.0) ** 3
    m, n = x.shape[0], y.shape[0]
    term_xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    term_yy = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(term_xx + term_yy - 2.0 * k_xy.mean())


def kernel_inception_distance(real_features, fake_features, num_subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> Tuple[float, float]:
    """KID (Bińkowski et al. 2018): mean ± std of the unbiased polynomial MMD² over random subsets.

    Each subset draws `subset_size` real and fake vectors without replacement.
    With `num_subsets=1` the subset is capped at the smaller set (all of both sets
    of equal size: the plain unbiased MMD², std 0). With several subsets,
    `subset_size` must not exceed either set: subsets holding a whole set would
    repeat it, and the std would understate the spread (≈1e-16 when both sets are
    whole), so that is a `UsageError` (torch-fidelity refuses it too).
    Published KIDs are often printed ×1000. Returns `(mean, std)`.

    Args:
      real_features: `[N, D]` features of real images, N >= 2.
      fake_features: `[M, D]` features of generated images, M >= 2.
      num_subsets: number of random subsets averaged.
      subset_size: vectors drawn from each set per subset (>= 2).
      seed: seed of the subset draws.

    Returns:
      `(mean, std)` of the MMD² over the subsets, Python floats.

    Raises:
      UsageError: for features that are not `[N, D]` of one D, non-finite values, fewer than 2 samples, a
        `num_subsets` < 1 or `subset_size` < 2, or `subset_size` above the smaller set with `num_subsets` > 1.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> real, fake = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    >>> kid_mean, kid_std = kernel_inception_distance(real, fake, num_subsets=10, subset_size=100)
    >>> abs(kid_mean) < 0.05
    True
    """
    real, fake = _features("kernel_inception_distance", real_features, fake_features, minimum=2)
    _check_positive_int("kernel_inception_distance", "num_subsets", num_subsets)
    _check_positive_int("kernel_inception_distance", "subset_size", subset_size, minimum=2)
    smaller = min(real.shape[0], fake.shape[0])
    if num_subsets > 1 and subset_size > smaller:
        raise UsageError(
            f"KID with num_subsets={num_subsets} needs subset_size <= the smaller set ({smaller} samples), received "
            f"subset_size={subset_size}: larger subsets would hold a whole set every time and the std over "
            "subsets would mean nothing. Lower subset_size (--kid_subset_size), evaluate more samples, or use "
            "num_subsets=1 (--kid_subsets=1) for the MMD² of the full sets.")
    size = min(subset_size, smaller)
    rng = np.random.default_rng(seed)
    values = [
        polynomial_mmd2(real[rng.choice(real.shape[0], size, replace=False)],
                        fake[rng.choice(fake.shape[0], size, replace=False)])
        for _ in range(num_subsets)
    ]
    return float(np.mean(values)), float(np.std(values))


def inception_score(probabilities, splits: int = 10) -> Tuple[float, float]:
    """Inception score exp(E_x KL(p(y|x) ‖ p(y))), mean ± std over `splits` equal parts.

    `probabilities` is `[N, K]` class probabilities (rows sum to 1) from any
    classifier; the score lies in [1, K]. With the shipped digit classifiers this
    is the "classifier score".

    Args:
      probabilities: `[N, K]` class probabilities, N >= `splits`.
      splits: number of equal parts the score is computed on.

    Returns:
      `(mean, std)` of the score over the splits, Python floats.

    Raises:
      UsageError: for NaN or Inf values, a shape other than `[N, K]` with N >= `splits` >= 1, or rows that are
        not probabilities (negative, or not summing to 1: logits).

    Example:
    >>> mean, std = inception_score(np.eye(10)[np.arange(100) % 10], splits=2)  # confident and balanced
    >>> round(mean, 6), std
    (10.0, 0.0)
    """
    p = np.asarray(probabilities, np.float64)
    _check_finite("inception_score", "probabilities", p)
    if p.ndim != 2 or p.shape[0] < splits or splits < 1:
        raise UsageError(
            f"inception_score expects [N, K] probabilities with N >= splits >= 1, received shape {p.shape} "
            f"and splits={splits}. Evaluate more samples or lower the number of splits.")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise UsageError("inception_score expects probabilities (non-negative rows summing to 1), not logits; "
                         "apply a softmax first.")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = (special.xlogy(part, part) - special.xlogy(part, marginal)).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def precision_recall(real_features, fake_features, k: int = 3,
                     batch_size: int = 1024) -> Tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN manifolds.

    Each set's manifold is the union of balls around its points with radius the
    distance to the point's k-th nearest neighbour (itself excluded). Precision is
    the share of fake points inside the real manifold (quality); recall the share
    of real points inside the fake manifold (coverage). Distances are computed in
    row blocks of `batch_size`, so memory stays O(batch_size · N), in float64 on
    features centred on the real mean: the expanded ‖a‖² − 2aᵀb + ‖b‖² loses every
    digit of a distance that is small next to the features' common offset otherwise
    (features 1e4 + N(0, 1) gave (1.0, 1.0) in float32).
    Returns `(precision, recall)`.

    Args:
      real_features: `[N, D]` features of real images, N > k.
      fake_features: `[M, D]` features of generated images, M > k.
      k: the neighbour whose distance is a point's radius (3 in the paper).
      batch_size: rows per block of the distance computation.

    Returns:
      `(precision, recall)`, Python floats in [0, 1].

    Raises:
      UsageError: for a `k` or `batch_size` < 1, features that are not `[N, D]` of one D, non-finite values, or
        k or fewer samples in a set.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(500, 2))
    >>> precision, recall = precision_recall(real, 0.1 * rng.normal(size=(500, 2)))
    >>> precision > 0.9, recall < 0.5
    (True, True)
    """
    _check_positive_int("precision_recall", "k", k)
    _check_positive_int("precision_recall", "batch_size", batch_size)
    real, fake = _features("precision_recall", real_features, fake_features, minimum=k + 1)
    centre = real.mean(axis=0)
    real, fake = real - centre, fake - centre
    real_radii = _kth_neighbour_distances(real, k, batch_size)
    fake_radii = _kth_neighbour_distances(fake, k, batch_size)
    precision = _inside_manifold(fake, real, real_radii, batch_size).mean()
    recall = _inside_manifold(real, fake, fake_radii, batch_size).mean()
    return float(precision), float(recall)


def _pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (a * a).sum(1)[:, None] - 2.0 * a @ b.T + (b * b).sum(1)[None, :]
    return np.sqrt(np.clip(squared, 0.0, None))


def _kth_neighbour_distances(points: np.ndarray, k: int, batch_size: int) -> np.ndarray:
    radii = np.empty(points.shape[0], np.float64)
    for start in range(0, points.shape[0], batch_size):
        distances = _pairwise_distances(points[start:start + batch_size], points)
        # Column k of the sorted row is the k-th neighbour: column 0 is the point itself (distance 0).
        radii[start:start + batch_size] = np.partition(distances, k, axis=1)[:, k]
    return radii


def _inside_manifold(queries: np.ndarray, points: np.ndarray, radii: np.ndarray, batch_size: int) -> np.ndarray:
    inside = np.empty(queries.shape[0], bool)
    for start in range(0, queries.shape[0], batch_size):
        distances = _pairwise_distances(queries[start:start + batch_size], points)
        inside[start:start + batch_size] = (distances <= radii[None, :]).any(axis=1)
    return inside


def _features(name: str, real_features, fake_features, minimum: int) -> Tuple[np.ndarray, np.ndarray]:
    """Real and fake features as float64 `[N, D]` arrays, checked (shapes, sizes, finite values)."""
    real = np.asarray(real_features, np.float64)
    fake = np.asarray(fake_features, np.float64)
    _check_features(name, real, fake, minimum)
    return real, fake


def _check_finite(name: str, label: str, values: np.ndarray) -> None:
    if not np.all(np.isfinite(values)):
        bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise UsageError(f"{name} expects finite {label}, received {bad} NaN or Inf value(s); check the generator "
                         "outputs (a diverged run gives NaN images) or the feature extractor.")


def _check_positive_int(name: str, field: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise UsageError(f"{name} expects an integer {field} >= {minimum}, received {field}={value!r}.")


def _check_features(name: str, real: np.ndarray, fake: np.ndarray, minimum: int) -> None:
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1] or real.shape[1] == 0:
        raise UsageError(f"{name} expects [N, D] real and fake features of the same D >= 1, "
                         f"received {real.shape} and {fake.shape}.")
    if min(real.shape[0], fake.shape[0]) < minimum:
        raise UsageError(f"{name} needs at least {minimum} real and fake samples, received "
                         f"{real.shape[0]} and {fake.shape[0]}. Evaluate more samples.")
    _check_finite(name, "real features", real)
    _check_finite(name, "fake features", fake)
