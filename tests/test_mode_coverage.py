"""2-D mixtures of Gaussians and the mode-coverage measure, checked against closed forms."""

import math

import numpy as np
import pytest

from tfgan_app.data.toy import load_toy, mixture_means, mixture_std, sample_mixture
from tfgan_app.errors import UsageError
from tfgan_app.evaluation.mode_coverage import mode_coverage


def test_mixture_geometry():
    ring = mixture_means("ring8")
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 2.0, rtol=1e-6)
    np.testing.assert_allclose(np.sort(np.degrees(np.arctan2(ring[:, 1], ring[:, 0])) % 360), np.arange(0, 360, 45),
                               atol=1e-4)
    grid = mixture_means("grid25")
    assert sorted(set(grid[:, 0])) == [-4, -2, 0, 2, 4] and len({tuple(p) for p in grid}) == 25
    assert (mixture_std("ring8"), mixture_std("grid25")) == (0.02, 0.05)
    with pytest.raises(UsageError, match="ring8"):
        mixture_means("ring9")


def test_samples_have_the_mixture_statistics():
    points, modes = sample_mixture("grid25", 50_000, seed=0)
    np.testing.assert_allclose(np.bincount(modes, minlength=25) / 50_000, 1 / 25, atol=0.004)
    offsets = points - mixture_means("grid25")[modes]
    np.testing.assert_allclose(offsets.std(axis=0), 0.05, rtol=0.02)
    np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=0.001)


def test_load_toy_batches_and_info():
    info = load_toy("ring8", batch_size=32, seed=1, num_examples=256)
    assert (info.image_shape, info.num_classes, info.steps_per_epoch) == ((2,), 8, 8)
    points, modes = next(iter(info.dataset))
    assert points.shape == (32, 2) and points.dtype.name == "float32" and modes.dtype.name == "int32"
    np.testing.assert_allclose(np.linalg.norm(points.numpy(), axis=1), 2.0, atol=0.1)
    test_points = next(iter(load_toy("ring8", 32, split="test", seed=1, num_examples=256).dataset))[0]
    assert not np.allclose(np.sort(points.numpy(), 0), np.sort(test_points.numpy(), 0))
    with pytest.raises(UsageError):
        load_toy("ring8", batch_size=0)


def test_true_samples_cover_every_mode_with_the_3_sigma_share():
    """In 2-D, P(‖N(0, σ²I)‖ ≤ 3σ) = 1 − exp(−9/2) ≈ 0.9889."""
    for name in ("ring8", "grid25"):
        points, _ = sample_mixture(name, 20_000, seed=2)
        report = mode_coverage(points, name)
        assert report["modes_covered"] == report["num_modes"]
        assert report["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.005)
        assert report["reverse_kl"] < 0.01


def test_collapsed_and_off_mode_samples():
    one_mode = np.tile(mixture_means("ring8")[3], (2500, 1))
    report = mode_coverage(one_mode, "ring8")
    assert report["modes_covered"] == 1 and report["high_quality_fraction"] == 1.0
    assert report["reverse_kl"] == pytest.approx(math.log(8))
    assert report["mode_counts"][3] == 2500
    half = np.concatenate([mixture_means("ring8")[:4], np.zeros((4, 2))])  # 4 modes hit, 4 points at the centre
    report = mode_coverage(half, "ring8")
    assert report["modes_covered"] == 4 and report["high_quality_fraction"] == 0.5
    assert report["reverse_kl"] == pytest.approx(math.log(2))
    assert mode_coverage(half, "ring8", min_samples=2)["modes_covered"] == 0
    with pytest.raises(UsageError):
        mode_coverage(np.zeros((3, 3)), "ring8")


def test_scatter_image_places_samples_with_y_up():
    from tfgan_app.callbacks import scatter_image
    image = scatter_image(np.array([[0.0, 2.0], [50.0, 50.0]]), "ring8", size=101)
    assert image.shape == (101, 101, 3) and image.dtype == np.uint8
    white = np.argwhere(image.min(axis=-1) == 255)
    assert len(white) == 1  # the far-away sample is outside the view
    row, col = white[0]
    assert col == 50 and row < 50  # (0, 2): centred horizontally, in the upper half
    assert tuple(image[101 - 1 - 50, 50 + 20]) == (0, 0, 0)  # no mode at the centre
