"""An option a variant cannot honour is an error, never a no-op (issue #13 items 3 and 7).

`with_techniques(CycleGAN)` (now: CycleGAN's technique options) used to accept instance noise, historical averaging and
feature matching and ignore them (its own `train_step` bypasses the hooks); feature
matching on ACGAN / pix2pix silently dropped their own generator terms; CycleGAN's
`from_preset` turned every TypeError, internal bugs included, into "bad options".
"""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app.architectures.variants import extended_discriminator
from tfgan_app.architectures.mlp import mlp_generator
from tfgan_app.data.unpaired import load_unpaired
from tfgan_app.errors import UsageError
from tfgan_app.gans import ACGAN, GAN, CycleGAN, UnrolledGAN
from tfgan_app.gans.acgan import class_cross_entropy, split_heads
from tfgan_app.gans.improved import feature_matching_loss
from tfgan_app.presets import load_preset

SHAPE = (8, 8, 3)


def tiny_cyclegan(cls=CycleGAN, **options):
    return cls.from_shapes(SHAPE, SHAPE, base_filters=2, num_layers=1, depth=1, **options)


@pytest.mark.parametrize("option", [{"instance_noise": 0.1}, {"historical_averaging": 1e-3},
                                    {"feature_matching": True}])
def test_cyclegan_rejects_techniques_its_train_step_cannot_apply(option):
    with pytest.raises(UsageError, match=f"CycleGAN cannot apply {next(iter(option))}"):
        tiny_cyclegan(CycleGAN, **option)


def test_cyclegan_rejects_d_steps_it_would_ignore():
    with pytest.raises(UsageError, match="d_steps must be 1"):
        tiny_cyclegan(d_steps=3)


def test_cyclegan_label_smoothing_is_applied():
    gan = tiny_cyclegan(CycleGAN, label_smoothing=0.9)
    gan.compile(loss="non_saturating")
    real, fake = tf.constant([[2.0]]), tf.constant([[-1.0]])
    expected = -(0.9 * np.log(1 / (1 + np.exp(-2.0))) + 0.1 * np.log(1 - 1 / (1 + np.exp(-2.0)))) + np.log1p(np.e ** -1)
    np.testing.assert_allclose(gan.loss_pair.discriminator(real, fake), [expected], rtol=1e-5)


@pytest.mark.parametrize("option", [{"instance_noise": 0.1}, {"feature_matching": True}])
def test_unrolled_rejects_techniques_that_bypass_its_unrolled_loss(option):
    g = mlp_generator(4, (2,), hidden_units=(8,), output_activation="linear")
    with pytest.raises(UsageError, match=f"cannot apply {next(iter(option))}"):
        UnrolledGAN(g, extended_discriminator((2,), base="mlp", hidden_units=(8,)), **option)


@pytest.mark.parametrize("options,match", [({"feature_layer": "dense"}, "feature_layer.*feature_matching"),
                                           ({"instance_noise_decay_steps": 10}, "instance_noise_decay_steps")])
def test_options_that_depend_on_an_unset_option_are_errors(options, match):
    g = mlp_generator(4, (2,), hidden_units=(8,), output_activation="linear")
    with pytest.raises(UsageError, match=match):
        GAN(g, extended_discriminator((2,), base="mlp", hidden_units=(8,)), **options)


def test_feature_matching_on_acgan_replaces_only_the_adversarial_term():
    keras.utils.set_random_seed(0)
    g = mlp_generator(4, (2,), 2, hidden_units=(8,), output_activation="linear")
    d = extended_discriminator((2,), base="mlp", hidden_units=(8,), num_classes=2, class_head=True)
    gan = ACGAN(g, d, num_classes=2, class_weight=2.0, feature_matching=True)
    gan.compile()
    rng = np.random.default_rng(0)
    real, fake = (tf.constant(rng.normal(size=(4, 2)), tf.float32) for _ in range(2))
    labels = tf.constant([0, 1, 1, 0])
    fake_outputs = d(fake, training=True)
    matching = feature_matching_loss(gan._feature_model(real, training=True), gan._feature_model(fake, training=True))
    expected = float(matching) + 2.0 * class_cross_entropy(labels, split_heads(fake_outputs)[1])
    np.testing.assert_allclose(gan.generator_loss(fake_outputs, fake, real, labels), expected, rtol=1e-5)


def test_cyclegan_preset_with_an_unknown_option_names_it():
    preset = load_preset("cyclegan_mnist_recolored")
    info = load_unpaired("mnist_recolored", 2, split="test")
    with pytest.raises(UsageError, match="Unknown CycleGAN gan_options 'cycle_wieght'.*cycle_weight"):
        CycleGAN.from_preset(dataclasses.replace(preset, gan_options={"cycle_wieght": 3.0}), info)
    with pytest.raises(UsageError, match="Unknown CycleGAN generator_options.*'filters'.*base_filters"):
        CycleGAN.from_preset(dataclasses.replace(preset, generator_options={"filters": 3}), info)


def test_cyclegan_preset_does_not_turn_internal_type_errors_into_bad_options(monkeypatch):
    def broken(cls, shape_a, shape_b, base_filters=64, num_layers=3, depth=None, **kwargs):
        raise TypeError("an internal bug")

    monkeypatch.setattr(CycleGAN, "from_shapes", classmethod(broken))
    preset = load_preset("cyclegan_mnist_recolored")
    with pytest.raises(TypeError, match="an internal bug"):
        CycleGAN.from_preset(preset, load_unpaired("mnist_recolored", 2, split="test"))
