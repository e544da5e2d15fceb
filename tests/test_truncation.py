"""Truncation ψ: 0 gives the mean latent's image, 1 the plain one; the same in Python, SavedModel, TFLite, CLI."""

import os
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import (LATENT_DIM, NUM_CLASSES, keras_images, tiny_conditional_generator,  # noqa: E402
                              tiny_generator)

from tfgan_app.architectures.mlp import mlp_discriminator  # noqa: E402
from tfgan_app.cli.main import main  # noqa: E402
from tfgan_app.errors import UsageError  # noqa: E402
from tfgan_app.export import export_generator  # noqa: E402
from tfgan_app.artifacts.generators import generate_images, open_generator  # noqa: E402
from tfgan_app.gans import GAN, ConditionalGAN  # noqa: E402
from tfgan_app.images import to_uint8  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402

N, SEED = 4, 5


def mean_image(generator, n=N, labels=None):
    return keras_images(generator, np.zeros([n, LATENT_DIM], np.float32), labels)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("export"))
    generator = tiny_generator()
    return generator, export_generator(generator, "trunc", base, quantizations=["float32"])


def test_python_generate_truncation():
    generator = tiny_generator()
    gan = GAN(generator, mlp_discriminator((8, 8, 1), hidden_units=(4,)))
    plain = keras_images(generator, sample_latents(N, LATENT_DIM, SEED).numpy())
    np.testing.assert_allclose(gan.generate(N, seed=SEED, truncation=1.0), plain, atol=1e-6)
    np.testing.assert_allclose(gan.generate(N, seed=SEED, truncation=0.0), mean_image(generator), atol=1e-6)
    half = keras_images(generator, 0.5 * sample_latents(N, LATENT_DIM, SEED).numpy())
    np.testing.assert_allclose(gan.generate(N, seed=SEED, truncation=0.5), half, atol=1e-6)
    assert not np.allclose(plain, mean_image(generator), atol=1e-3)  # the two ends differ
    for bad in (-0.1, 1.5, True, "0.5"):
        with pytest.raises(UsageError, match="truncation"):
            gan.generate(2, truncation=bad)


def test_conditional_truncation_keeps_labels():
    generator = tiny_conditional_generator()
    gan = ConditionalGAN(generator, mlp_discriminator((8, 8, 1), hidden_units=(4,), num_classes=NUM_CLASSES),
                         num_classes=NUM_CLASSES)
    labels = [2, 0, 1, 2]
    np.testing.assert_allclose(gan.generate(N, seed=SEED, labels=labels, truncation=0.0),
                               mean_image(generator, labels=labels), atol=1e-6)


def test_savedmodel_generate_truncated(exported):
    generator, result = exported
    loaded = tf.saved_model.load(result.version_dir)
    truncated = loaded.signatures["generate_truncated"]
    args = {"seed": np.int64(SEED), "num_images": np.int32(N)}
    plain = loaded.signatures["generate"](**args)["images"].numpy()
    np.testing.assert_array_equal(truncated(**args, truncation=np.float32(1.0))["images"].numpy(), plain)
    np.testing.assert_array_equal(truncated(**args, truncation=np.float32(0.0))["images"].numpy(),
                                  to_uint8(mean_image(generator)))
    pngs = loaded.signatures["generate_truncated_png"](**args, truncation=np.float32(0.0))["png_bytes"].numpy()
    import io  # pylint: disable=import-outside-toplevel
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(p))) for p in pngs])
    np.testing.assert_array_equal(decoded, to_uint8(mean_image(generator))[..., 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="truncation must be in"):
        truncated(**args, truncation=np.float32(1.5))


@pytest.mark.parametrize("artifact", ["keras", "savedmodel", "tflite"])
def test_every_artifact_truncates_the_same_way(exported, tmp_path, artifact):
    generator, result = exported
    if artifact == "keras":
        spec = str(tmp_path / "g.keras")
        generator.save(spec)
    elif artifact == "savedmodel":
        spec = result.version_dir
    else:
        spec = os.path.join(result.version_dir, "tflite", "generator_float32.tflite")
    atol = 1e-5 if artifact != "tflite" else 2e-3
    with open_generator(spec) as source:
        np.testing.assert_allclose(generate_images(source, N, SEED, truncation=0.0), mean_image(generator), atol=atol)
        np.testing.assert_allclose(generate_images(source, N, SEED, truncation=1.0),
                                   keras_images(generator, sample_latents(N, LATENT_DIM, SEED).numpy()), atol=atol)


def test_cli_truncation_zero_writes_the_mean_image(exported, tmp_path):
    generator, result = exported
    out = tmp_path / "imgs"
    assert main(["tfgan", "generate", f"--model={result.version_dir}", f"--num_images={N}", f"--seed={SEED}",
                 "--truncation=0", f"--output_dir={out}"]) == 0
    images = np.stack([np.asarray(Image.open(out / f"image_{i:04d}.png")) for i in range(N)])
    np.testing.assert_array_equal(images, to_uint8(mean_image(generator))[..., 0])
    assert main(["tfgan", "generate", f"--model={result.version_dir}", "--truncation=2",
                 f"--output_dir={out}"]) == 2
