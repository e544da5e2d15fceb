"""`tfgan export --direction=b_to_a`: CycleGAN's B->A generator, from generator_b_to_a.keras (written by training)
or, for older runs, from gan.keras; clear errors for runs that have no B->A generator."""

import os
import shutil
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import tiny_generator, write_run_dir  # noqa: E402

from tfgan_app import training  # noqa: E402
from tfgan_app.cli.main import main  # noqa: E402
from tfgan_app.errors import UsageError  # noqa: E402
from tfgan_app.export import export_run, load_run  # noqa: E402
from tfgan_app.artifacts.layout import read_metadata  # noqa: E402
from tfgan_app.gans import GAN  # noqa: E402
from tfgan_app.presets import apply_overrides, load_preset  # noqa: E402

IMAGES = np.random.default_rng(0).uniform(-1.0, 1.0, size=(3, 8, 8, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def cyclegan_run(tmp_path_factory):
    """One training step of a tiny CycleGAN on an 8x8 RGB unpaired folder (dark A images, bright B images)."""
    root = tmp_path_factory.mktemp("cyclegan")
    rng = np.random.default_rng(0)
    for domain, level in (("trainA", 60), ("trainB", 190)):
        os.makedirs(root / "data" / domain)
        for i in range(4):
            pixels = np.clip(rng.normal(level, 20, (8, 8, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / "data" / domain / f"{i}.png")
    preset = apply_overrides(load_preset("cyclegan_mnist_recolored"), [
        f"dataset=unpaired:folder:{root / 'data'}", "batch_size=2", "epochs=1", "steps_per_epoch=1",
        "generator_options.base_filters=4", "discriminator_options.num_layers=1", "gan_options.pool_size=2"])
    return training.train(preset, str(root / "run"), verbose=0)


def _serve(version_dir, images):
    return tf.saved_model.load(version_dir).signatures["serving_default"](images=tf.constant(images))["images"].numpy()


def test_training_writes_the_reverse_generator_and_export_matches_it(cyclegan_run, tmp_path):
    gan, run_dir = cyclegan_run.gan, cyclegan_run.output_dir
    assert os.path.isfile(os.path.join(run_dir, "generator_b_to_a.keras"))
    base = str(tmp_path / "export")
    reverse = export_run(run_dir, base_dir=base, quantizations=("float32",), direction="b_to_a")
    assert reverse.name == "cyclegan_mnist_recolored_b_to_a" and reverse.version == 1
    expected = np.asarray(gan.generator_b_to_a(IMAGES, training=False))
    np.testing.assert_allclose(_serve(reverse.version_dir, IMAGES), expected, atol=1e-5)
    assert read_metadata(reverse.version_dir)["kind"] == "image_to_image"
    assert reverse.tflite["files"]["float32"]["parity"]["meets_threshold"]
    forward = export_run(run_dir, base_dir=base, quantizations=())
    assert forward.name == "cyclegan_mnist_recolored"
    a_to_b = _serve(forward.version_dir, IMAGES)
    np.testing.assert_allclose(a_to_b, np.asarray(gan.generator(IMAGES, training=False)), atol=1e-5)
    assert np.abs(a_to_b - expected).max() > 1e-3  # the two directions are different networks


def test_older_run_without_the_file_exports_from_gan_keras(cyclegan_run, tmp_path, capsys):
    run_dir = str(tmp_path / "old_run")
    shutil.copytree(cyclegan_run.output_dir, run_dir)
    os.remove(os.path.join(run_dir, "generator_b_to_a.keras"))
    base = str(tmp_path / "export")
    assert main(["tfgan", "export", f"--run_dir={run_dir}", f"--base={base}", "--direction=b_to_a",
                 "--name=reverse", "--tflite="]) == 0
    assert "model 'reverse'" in capsys.readouterr().out
    expected = np.asarray(cyclegan_run.gan.generator_b_to_a(IMAGES, training=False))
    np.testing.assert_allclose(_serve(os.path.join(base, "reverse", "1"), IMAGES), expected, atol=1e-5)


def test_runs_without_a_reverse_generator_get_a_clear_error(tmp_path, capsys):
    run_dir = write_run_dir(str(tmp_path / "dcgan_run"), name="dcgan")
    base = str(tmp_path / "export")
    assert main(["tfgan", "export", f"--run_dir={run_dir}", f"--base={base}", "--direction=b_to_a"]) == 2
    err = capsys.readouterr().err
    assert "generator_b_to_a.keras" in err and "needs a CycleGAN run" in err
    discriminator = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    GAN(tiny_generator(), discriminator, latent_dim=8).save(os.path.join(run_dir, "gan.keras"))
    assert main(["tfgan", "export", f"--run_dir={run_dir}", f"--base={base}", "--direction=b_to_a"]) == 2
    assert "holds a GAN, which has one direction only" in capsys.readouterr().err
    assert not os.path.exists(base)
    assert main(["tfgan", "export", f"--run_dir={run_dir}", f"--base={base}", "--direction=up"]) == 2
    with pytest.raises(UsageError, match="direction"):
        load_run(run_dir, direction="sideways")
