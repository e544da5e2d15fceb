"""Latent-space tools: interpolation, walks, arithmetic, rendering, PNG strips and GIFs."""

import numpy as np
import pytest
from PIL import Image

from tfgan_app import latent
from tfgan_app.architectures import mlp_generator
from tfgan_app.errors import UsageError


def test_slerp_keeps_the_norm_and_moves_at_constant_angle():
    z0, z1 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    path = latent.slerp(z0, z1, 5)
    np.testing.assert_allclose(path[0], z0, atol=1e-6)
    np.testing.assert_allclose(path[-1], z1, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.degrees(np.arctan2(path[:, 1], path[:, 0])), [0, 22.5, 45, 67.5, 90], atol=1e-4)
    # Linear interpolation cuts the corner: its midpoint has norm 1/√2.
    assert np.linalg.norm(latent.linear_interpolation(z0, z1, 3)[1]) == pytest.approx(2 ** -0.5)
    # Parallel vectors fall back to the straight line.
    np.testing.assert_allclose(latent.slerp(z0, 3 * z0, 3)[1], 2 * z0, rtol=1e-6)


def test_interpolate_walk_and_arithmetic():
    with pytest.raises(UsageError):
        latent.interpolate(np.zeros(2), np.ones(2), 4, method="cubic")
    with pytest.raises(UsageError):
        latent.slerp(np.zeros(2), np.ones(2), 1)
    points = np.eye(3, dtype=np.float32)
    open_walk = latent.latent_walk(points, 4, method="linear")
    assert open_walk.shape == (7, 3)
    np.testing.assert_allclose(open_walk[[0, 3, 6]], points)
    closed = latent.latent_walk(points, 4, method="slerp", closed=True)
    assert closed.shape == (9, 3)  # 3 segments of 3 new points; the start is not repeated at the end
    np.testing.assert_allclose(closed[[0, 3, 6]], points, atol=1e-6)
    a, b, c = np.array([[1.0, 1.0], [3.0, 1.0]]), np.array([[1.0, 0.0]]), np.array([[0.0, 5.0], [0.0, 7.0]])
    np.testing.assert_allclose(latent.vector_arithmetic(a, b, c), [2 - 1 + 0, 1 - 0 + 6])


def test_class_walk_rows_share_one_path():
    latents, labels = latent.class_walk(3, 5, 8, seed=4)
    assert latents.shape == (15, 8) and labels.tolist() == [0] * 5 + [1] * 5 + [2] * 5
    np.testing.assert_allclose(latents[:5], latents[10:])
    ends = latent.sample_latents(2, 8, 4).numpy()
    np.testing.assert_allclose(latents[[0, 4]], ends, atol=1e-5)


def test_render_strip_and_gif(tmp_path):
    generator = mlp_generator(4, (6, 5, 1), num_classes=3, hidden_units=(8,))
    latents, labels = latent.class_walk(3, 4, 4, seed=0, method="linear")
    images = latent.render(generator, latents, labels, batch_size=5)
    assert images.shape == (12, 6, 5, 1)
    np.testing.assert_allclose(images[:1], np.asarray(generator([latents[:1], labels[:1]])), atol=1e-6)
    with pytest.raises(UsageError):
        latent.render(generator, latents)
    # Any (latents, labels) -> images callable works, e.g. an opened export source.
    assert latent.render(lambda z, y: np.zeros((len(z), 2, 2, 1)), latents).shape == (12, 2, 2, 1)
    png = Image.open(latent.save_strip(str(tmp_path / "walk.png"), images, cols=4))
    assert png.size == (4 * (5 + 2) + 2, 3 * (6 + 2) + 2)
    gif = Image.open(latent.save_gif(str(tmp_path / "walk.gif"), images[:4], duration_ms=50))
    assert gif.n_frames == 4 and gif.size == (5, 6) and gif.info["loop"] == 0
    gif.seek(2)
    expected = latent.to_uint8(images[2, ..., 0])
    assert np.abs(np.asarray(gif.convert("L"), np.int32) - expected).max() <= 1
    with pytest.raises(UsageError):
        latent.save_gif(str(tmp_path / "bad.gif"), np.zeros((2, 3)))
