"""`import tfgan_app` is enough for `keras.saving.load_model` of a saved GAN, in either import order.

Keras looks custom classes up in its registry only, so a fresh process that imported just `tfgan_app` used to
fail with "Could not locate class 'GAN'". The package registers its classes once Keras has loaded, without
importing TensorFlow itself (`tfgan --help` stays TF-free: tests/test_cli_quiet.py).
"""

import subprocess
import sys

import pytest

from tfgan_app import architectures
from tfgan_app.gans import WGANGP, ConditionalGAN, GAN

SHAPE = (8, 8, 1)


def _save_gans(folder):
    """Saves three GAN classes (with tfgan_app layers inside) and returns {file: class name}."""
    made = {
        "gan.keras": GAN(architectures.dcgan_generator(4, SHAPE, base_filters=4),
                         architectures.dcgan_discriminator(SHAPE, base_filters=4), latent_dim=4),
        "cgan.keras": ConditionalGAN(architectures.mlp_generator(4, SHAPE, num_classes=3, hidden_units=(8,)),
                                     architectures.mlp_discriminator(SHAPE, num_classes=3, hidden_units=(8,)),
                                     num_classes=3, latent_dim=4),
        "wgan_gp.keras": WGANGP(architectures.mlp_generator(4, SHAPE, hidden_units=(8,)),
                                architectures.mlp_discriminator(SHAPE, hidden_units=(8,)), latent_dim=4),
    }
    for name, gan in made.items():
        gan.compile(d_optimizer="adam", g_optimizer="adam", loss="wasserstein" if "wgan" in name else "non_saturating")
        gan.save(folder / name)
    return {name: type(gan).__name__ for name, gan in made.items()}


@pytest.mark.parametrize("imports", ["import tfgan_app, keras", "import keras, tfgan_app"])
def test_import_tfgan_app_is_enough_to_load_a_saved_gan(tmp_path, imports):
    expected = _save_gans(tmp_path)
    code = "\n".join([imports, "import sys", "for name in sys.argv[1:]:",
                      "    print(name, type(keras.saving.load_model(name)).__name__)"])
    proc = subprocess.run([sys.executable, "-c", code, *expected], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = dict(line.split() for line in proc.stdout.splitlines())
    assert loaded == expected
