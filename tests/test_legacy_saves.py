"""A `gan.keras` saved by the code before issue #16 item 4 still loads.

That code saved models trained with Improved-GAN techniques as generated classes
`Improved<Name>` (registered `tfgan_app>Improved<Name>`, module `tfgan_app.gans.improved`),
and image-to-image models (pix2pix, SRGAN, CycleGAN) with the latent base's `latent_dim`
(their input channels) in the config. The files here are written by the current code and
their `config.json` rewritten to what the old code wrote (checked against files the old
code saved: same class names, registered names, modules and config keys).
"""

import json
import zipfile

import keras
import numpy as np
import pytest

from tfgan_app.architectures.mlp import mlp_generator
from tfgan_app.architectures.dcgan import dcgan_discriminator
from tfgan_app.architectures.patchgan import patchgan_discriminator
from tfgan_app.architectures.srgan import srgan_generator
from tfgan_app.architectures.unet import unet_generator
from tfgan_app.architectures.variants import extended_discriminator
from tfgan_app.gans import GAN, SRGAN, WGANGP, CycleGAN, ImageToImageGAN, Pix2Pix


def rewrite_config(path: str, edit) -> None:
    """Rewrites `config.json` of the `.keras` zip at `path` with `edit(config)` (in place)."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(entries["config.json"])
    edit(config)
    entries["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def as_improved_class(config) -> None:
    """What `with_techniques(cls)`'s generated class wrote."""
    name = config["class_name"]
    config.update(class_name=f"Improved{name}", registered_name=f"tfgan_app>Improved{name}",
                  module="tfgan_app.gans.improved")


def randomise(model: keras.Model) -> list:
    """Sets every float weight to distinct random values (so a weight loaded into the wrong slot shows)."""
    rng = np.random.default_rng(0)
    for variable in model.weights:
        if "float" in str(variable.dtype):
            variable.assign(rng.normal(size=variable.shape).astype(variable.dtype))
    return [v.numpy() for v in model.weights]


def save_and_load(gan, tmp_path, edit):
    expected = randomise(gan)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    rewrite_config(path, edit)
    loaded = keras.saving.load_model(path)
    assert len(loaded.weights) == len(expected)
    for variable, value in zip(loaded.weights, expected):
        np.testing.assert_array_equal(variable.numpy(), value, err_msg=variable.path)
    return loaded


def test_improved_wgangp_saved_as_generated_class_loads_as_wgangp_with_its_options(tmp_path):
    g = mlp_generator(4, (2,), hidden_units=(8,), output_activation="linear")
    d = extended_discriminator((2,), base="mlp", hidden_units=(8,))
    gan = WGANGP(g, d, gp_weight=3.0, feature_matching=True, historical_averaging=0.5, instance_noise=0.1,
                 instance_noise_decay_steps=7)
    gan.compile(loss="wasserstein")
    loaded = save_and_load(gan, tmp_path, as_improved_class)
    assert type(loaded) is WGANGP
    assert (loaded.gp_weight, loaded.feature_matching, loaded.historical_averaging, loaded.instance_noise,
            loaded.instance_noise_decay_steps) == (3.0, True, 0.5, 0.1, 7)
    # The running means (the model's own weights) are back in their slots.
    for loaded_average, average in zip(loaded._d_history[0] + loaded._g_history[0], gan._d_history[0] + gan._g_history[0]):
        np.testing.assert_array_equal(loaded_average.numpy(), average.numpy())
    # The plain class keeps serialising under its own name.
    assert keras.saving.get_registered_name(WGANGP) == "tfgan_app>WGANGP"


def test_improved_gan_with_label_smoothing_recompiles_smoothed(tmp_path):
    g = mlp_generator(4, (2,), hidden_units=(8,), output_activation="linear")
    gan = GAN(g, extended_discriminator((2,), base="mlp", hidden_units=(8,)), label_smoothing=0.9)
    gan.compile(loss="non_saturating")
    loaded = save_and_load(gan, tmp_path, as_improved_class)
    assert type(loaded) is GAN and loaded.label_smoothing == 0.9
    assert loaded.loss_pair.name == "non_saturating_smoothed"
    assert loaded.get_compile_config()["loss"] == "non_saturating"  # the option is in the config, not the loss


def test_an_unknown_improved_name_still_fails_to_load(tmp_path):
    """Only the former generated names are aliases: a misspelt class is Keras's usual error."""
    g = mlp_generator(4, (2,), hidden_units=(8,), output_activation="linear")
    gan = GAN(g, extended_discriminator((2,), base="mlp", hidden_units=(8,)))
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    rewrite_config(path, lambda c: c.update(class_name="ImprovedNoSuchGAN",
                                            registered_name="tfgan_app>ImprovedNoSuchGAN"))
    with pytest.raises(TypeError, match="ImprovedNoSuchGAN"):
        keras.saving.load_model(path)


def with_latent_dim(channels: int):
    """What the latent base wrote for an image-to-image model: latent_dim = the input channels."""
    return lambda config: config["config"].update(latent_dim=channels)


def test_pix2pix_saved_with_a_latent_dim_loads(tmp_path):
    gan = Pix2Pix(unet_generator((8, 8, 1), base_filters=2, depth=1),
                  patchgan_discriminator((8, 8, 1), (8, 8, 1), base_filters=2, num_layers=1), l1_weight=3.0,
                  ema_decay=0.9)
    gan.compile()
    loaded = save_and_load(gan, tmp_path, with_latent_dim(1))
    assert type(loaded) is Pix2Pix and loaded.l1_weight == 3.0 and not hasattr(loaded, "latent_dim")
    edges = np.random.default_rng(1).uniform(-1, 1, (2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(loaded.translate(edges), gan.translate(edges), rtol=1e-6)


def test_srgan_and_improved_cyclegan_saved_with_a_latent_dim_load(tmp_path):
    srgan = SRGAN(srgan_generator((4, 4, 1), scale=2, filters=2, num_blocks=1),
                  dcgan_discriminator((8, 8, 1), base_filters=2), feature_extractor=None)
    srgan.compile()
    assert type(save_and_load(srgan, tmp_path, with_latent_dim(1))) is SRGAN
    cyclegan = CycleGAN.from_shapes((8, 8, 1), (8, 8, 1), base_filters=2, num_layers=1, depth=1, label_smoothing=0.9)
    cyclegan.compile()

    def old_cyclegan(config):
        as_improved_class(config)
        with_latent_dim(1)(config)

    (tmp_path / "cycle").mkdir()
    loaded = save_and_load(cyclegan, tmp_path / "cycle", old_cyclegan)
    assert type(loaded) is CycleGAN and isinstance(loaded, ImageToImageGAN) and loaded.label_smoothing == 0.9
