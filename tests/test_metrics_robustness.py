"""Metrics give the right numbers for offset features and refuse inputs they cannot score (issue #13 item 6)."""

import numpy as np
import pytest

from tfgan_app.errors import UsageError
from tfgan_app.evaluation.metrics import (frechet_distance, inception_score, kernel_inception_distance,
                                          precision_recall)
from tfgan_app.evaluation.statistics import StreamingMoments


def brute_force_precision_recall(real, fake, k):
    """Kynkäänniemi et al. 2019 from explicit float64 differences (no expanded squares, no blocks)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)

    def distances(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    real_radii = np.sort(distances(real, real), axis=1)[:, k]
    fake_radii = np.sort(distances(fake, fake), axis=1)[:, k]
    precision = (distances(fake, real) <= real_radii[None, :]).any(1).mean()
    recall = (distances(real, fake) <= fake_radii[None, :]).any(1).mean()
    return precision, recall


def test_precision_recall_with_a_large_common_offset_matches_brute_force():
    rng = np.random.default_rng(0)
    real = 1e4 + rng.normal(size=(300, 16))
    fake = 1e4 + rng.normal(size=(300, 16))
    expected = brute_force_precision_recall(real, fake, k=3)
    assert 0.2 < expected[0] < 0.95 and 0.2 < expected[1] < 0.95  # a case where (1.0, 1.0) is wrong
    assert precision_recall(real, fake, k=3, batch_size=128) == pytest.approx(expected, abs=1e-12)
    # translation invariance: the same sets without the offset give the same numbers
    assert precision_recall(real - 1e4, fake - 1e4, k=3) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_metrics_reject_non_finite_features(bad):
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(20, 4)), rng.normal(size=(20, 4))
    fake[3, 2] = bad
    with pytest.raises(UsageError, match="precision_recall expects finite fake features"):
        precision_recall(real, fake)
    with pytest.raises(UsageError, match="kernel_inception_distance expects finite fake features"):
        kernel_inception_distance(real, fake, num_subsets=2, subset_size=10)
    with pytest.raises(UsageError, match="frechet_distance expects finite mu2"):
        frechet_distance(real.mean(0), np.cov(real, rowvar=False), fake.mean(0), np.cov(fake, rowvar=False))
    with pytest.raises(UsageError, match="finite"):
        StreamingMoments().update(fake)
    probabilities = np.full((10, 2), 0.5)
    probabilities[0, 0] = bad
    with pytest.raises(UsageError, match="inception_score expects finite probabilities"):
        inception_score(probabilities, splits=2)


@pytest.mark.parametrize("options,match", [({"k": 0}, "k >= 1"), ({"k": -2}, "k >= 1"), ({"k": 2.5}, "k >= 1"),
                                           ({"batch_size": 0}, "batch_size >= 1"),
                                           ({"batch_size": -5}, "batch_size >= 1")])
def test_precision_recall_rejects_bad_k_and_batch_size(options, match):
    rng = np.random.default_rng(2)
    with pytest.raises(UsageError, match=match):
        precision_recall(rng.normal(size=(10, 3)), rng.normal(size=(10, 3)), **options)


def test_metrics_reject_empty_sets():
    empty, some = np.zeros((0, 4)), np.random.default_rng(3).normal(size=(10, 4))
    with pytest.raises(UsageError, match="at least 4 real and fake samples, received 0 and 10"):
        precision_recall(empty, some)
    with pytest.raises(UsageError, match="at least 2 real and fake samples"):
        kernel_inception_distance(some, empty)
    with pytest.raises(UsageError, match="same D >= 1"):
        precision_recall(np.zeros((10, 0)), np.zeros((10, 0)))


def test_kid_refuses_subsets_that_hold_a_whole_set():
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(50, 4)), rng.normal(size=(40, 4))
    with pytest.raises(UsageError, match="subset_size <= the smaller set \\(40 samples\\).*--kid_subset_size"):
        kernel_inception_distance(real, fake, num_subsets=10, subset_size=100)
    with pytest.raises(UsageError, match="subset_size <= the smaller set"):
        kernel_inception_distance(real, fake, num_subsets=10, subset_size=45)
    mean, std = kernel_inception_distance(real, fake, num_subsets=10, subset_size=20)
    assert std > 1e-6  # subsets really differ
    one = kernel_inception_distance(real[:40], fake, num_subsets=1, subset_size=1000)  # the full-set MMD²
    assert one[1] == 0.0
    with pytest.raises(UsageError, match="num_subsets >= 1"):
        kernel_inception_distance(real, fake, num_subsets=0)
