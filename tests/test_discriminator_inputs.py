"""One discriminator input order for every path (issue #13 item 4).

Pix2Pix's discriminator takes `[condition, samples]`. Unrolled steps and feature
matching used to call it with `[samples, condition]`; both now go through the
`GAN.discriminator_inputs` hook, so an unrolled or improved pix2pix feeds D in
the same order as `Pix2Pix.discriminate`. The condition here has 3 channels and
the samples 1, so the two orders give different logits.
"""

import keras
import numpy as np
import tensorflow as tf

from tfgan_app.architectures.patchgan import patchgan_discriminator
from tfgan_app.architectures.unet import unet_generator
from tfgan_app.gans import ConditionalGAN, GAN, Pix2Pix, UnrolledGAN
from tfgan_app.gans.image_to_image import l1_distance
from tfgan_app.gans.improved import feature_matching_loss

INPUT, TARGET = (8, 8, 3), (8, 8, 1)


class UnrolledPix2Pix(UnrolledGAN, Pix2Pix):
    """pix2pix whose generator loss goes through unrolled discriminator steps."""


def networks():
    keras.utils.set_random_seed(0)
    generator = unet_generator(INPUT, output_channels=1, base_filters=4, depth=2, dropout=0.0, norm="none")
    discriminator = patchgan_discriminator(TARGET, condition_shape=INPUT, base_filters=4, num_layers=1, norm="none")
    for variable in discriminator.trainable_variables:  # logits of order 1 rather than 1e-3
        variable.assign(variable * 10.0)
    return generator, discriminator


def batch():
    rng = np.random.default_rng(0)
    condition = tf.constant(rng.uniform(-1, 1, (2,) + INPUT), tf.float32)
    real = tf.constant(rng.uniform(-1, 1, (2,) + TARGET), tf.float32)
    fake = tf.constant(rng.uniform(-1, 1, (2,) + TARGET), tf.float32)
    return condition, real, fake


def test_variants_state_their_discriminator_input_order():
    condition, _, fake = batch()
    assert Pix2Pix(*networks()).discriminator_inputs(fake, condition) == [condition, fake]
    assert GAN(*networks()).discriminator_inputs(fake, condition) is fake
    assert ConditionalGAN.discriminator_inputs(None, fake, condition) == [fake, condition]


def test_unrolled_pix2pix_feeds_the_discriminator_like_pix2pix():
    condition, real, fake = batch()
    gan = UnrolledPix2Pix(*networks(), unroll_steps=1, unroll_learning_rate=1e-12, l1_weight=3.0)
    gan.compile()
    # A negligible unrolling step leaves D as it is, so the loss is pix2pix's on D([condition, fake]).
    logits = gan.discriminator([condition, fake], training=True)
    expected = gan.loss_pair.generator(logits) + 3.0 * l1_distance(real, fake)
    np.testing.assert_allclose(gan.generator_loss(None, fake, real, condition), expected, rtol=1e-5)
    # The order matters here: the swapped call gives other patch logits (compared per patch, not after the
    # loss averages 16 patches, which depends on the initial weights' draw).
    swapped = gan.discriminator([fake, condition], training=True)
    assert np.max(np.abs(swapped - logits)) > 1e-1


def test_feature_matching_on_pix2pix_uses_condition_then_samples_and_keeps_l1():
    condition, real, fake = batch()
    gan = Pix2Pix(*networks(), feature_matching=True, l1_weight=3.0)
    gan.compile()
    np.testing.assert_allclose(gan._features(fake, condition), gan._feature_model([condition, fake], training=True),
                               rtol=1e-6)
    matching = feature_matching_loss(gan._feature_model([condition, real], training=True),
                                     gan._feature_model([condition, fake], training=True))
    expected = float(matching) + 3.0 * l1_distance(real, fake)
    np.testing.assert_allclose(gan.generator_loss(None, fake, real, condition), expected, rtol=1e-5)
