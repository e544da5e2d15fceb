"""Metric functions against closed forms and independent NumPy/SciPy references."""

import numpy as np
import pytest
from scipy import linalg

from tfgan_app.errors import UsageError
from tfgan_app.evaluation.metrics import (frechet_distance, inception_score, kernel_inception_distance,
                                          polynomial_mmd2, precision_recall)
from tfgan_app.evaluation.statistics import StreamingMoments


def _random_gaussian(rng, dim):
    a = rng.normal(size=(dim, dim))
    return rng.normal(size=dim), a @ a.T / dim + 0.1 * np.eye(dim)


def _reference_fid(mu1, s1, mu2, s2):
    """The textbook formula with scipy's general matrix square root (as in the reference FID code)."""
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2.0 * covmean))


def test_frechet_distance_matches_scipy_reference_on_random_gaussians():
    rng = np.random.default_rng(0)
    for dim in (1, 5, 40):
        mu1, s1 = _random_gaussian(rng, dim)
        mu2, s2 = _random_gaussian(rng, dim)
        assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(_reference_fid(mu1, s1, mu2, s2), rel=1e-7)
        assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(frechet_distance(mu2, s2, mu1, s1), rel=1e-9)


def test_frechet_distance_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=7), rng.normal(size=7)
    var1, var2 = rng.uniform(0.1, 3.0, size=7), rng.uniform(0.1, 3.0, size=7)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_of_identical_and_singular_gaussians_is_zero():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 30))  # 5 samples in 30-d: rank-deficient covariance, as with few samples
    mu, sigma = x.mean(0), np.cov(x, rowvar=False)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(UsageError, match="same D"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def _brute_force_mmd2(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b / d + 1.0) ** 3  # noqa: E731
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_matches_brute_force_unbiased_mmd():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(30, 6)), rng.normal(0.3, 1.2, size=(30, 6))
    expected = _brute_force_mmd2(x, y)
    assert polynomial_mmd2(x, y) == pytest.approx(expected, rel=1e-10)
    # One subset holding every sample is a permutation of the full sets: MMD² is permutation invariant.
    mean, std = kernel_inception_distance(x, y, num_subsets=1, subset_size=30)
    assert mean == pytest.approx(expected, rel=1e-10) and std == 0.0


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(4)
    same = kernel_inception_distance(rng.normal(size=(400, 8)), rng.normal(size=(400, 8)),
                                     num_subsets=20, subset_size=200)
    shifted = kernel_inception_distance(rng.normal(size=(400, 8)), rng.normal(1.0, 1.0, size=(400, 8)),
                                        num_subsets=20, subset_size=200)
    assert abs(same[0]) < 3 * same[1] + 1e-3
    assert shifted[0] > 10 * max(abs(same[0]), same[1])
    assert shifted[1] > 0


def test_inception_score_bounds():
    classes = 10
    confident_uniform = np.eye(classes)[np.arange(1000) % classes]
    mean, std = inception_score(confident_uniform, splits=10)
    assert mean == pytest.approx(classes, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)
    constant = np.tile(np.array([0.7, 0.2, 0.1] + [0.0] * 7), (1000, 1))
    assert inception_score(constant, splits=5)[0] == pytest.approx(1.0, rel=1e-9)
    mode_collapsed = np.eye(classes)[np.zeros(1000, int)]
    assert inception_score(mode_collapsed, splits=4)[0] == pytest.approx(1.0, rel=1e-9)


def test_inception_score_matches_direct_formula():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(200, 4)) * 3
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    py = p.mean(0)
    expected = np.exp(np.mean(np.sum(p * (np.log(p) - np.log(py)), axis=1)))
    assert inception_score(p, splits=1)[0] == pytest.approx(expected, rel=1e-10)


def test_inception_score_rejects_logits():
    with pytest.raises(UsageError, match="probabilities"):
        inception_score(np.random.default_rng(0).normal(size=(20, 5)), splits=2)


def test_precision_recall_identical_disjoint_and_partial_sets():
    rng = np.random.default_rng(6)
    real = rng.normal(size=(300, 4))
    assert precision_recall(real, real.copy(), k=3) == (1.0, 1.0)
    assert precision_recall(real, real + 100.0, k=3) == (0.0, 0.0)
    # Fakes from half of the real support: high precision, recall about one half.
    two_modes = np.concatenate([rng.normal(-10, 1, (300, 2)), rng.normal(10, 1, (300, 2))])
    one_mode = rng.normal(-10, 1, (300, 2))
    precision, recall = precision_recall(two_modes, one_mode, k=3, batch_size=64)
    assert precision > 0.9
    assert 0.35 < recall < 0.65


def test_streaming_moments_equal_batch_statistics():
    rng = np.random.default_rng(7)
    x = rng.normal(3.0, 2.0, size=(1001, 12)) @ rng.normal(size=(12, 12))
    moments = StreamingMoments()
    for part in np.split(x, [1, 7, 300, 301, 800]):
        moments.update(part)
    np.testing.assert_allclose(moments.mean, x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(moments.covariance, np.cov(x, rowvar=False), rtol=1e-6, atol=1e-6)
    assert moments.count == 1001


def test_streaming_moments_need_two_samples():
    moments = StreamingMoments()
    moments.update(np.ones((1, 3)))
    with pytest.raises(UsageError, match="at least 2"):
        _ = moments.covariance
