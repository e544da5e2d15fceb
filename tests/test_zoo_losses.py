"""GAN zoo losses and layers checked against hand computation (no training)."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy.special import erf, logsumexp, softmax

from tfgan_app import losses
from tfgan_app.architectures import mlp_generator
from tfgan_app.architectures.variants import extended_discriminator, infogan_generator
from tfgan_app.errors import UsageError
from tfgan_app.gans import GAN
from tfgan_app.gans.acgan import ACGAN
from tfgan_app.gans.improved import feature_matching_loss
from tfgan_app.gans.infogan import InfoGAN
from tfgan_app.gans.relativistic import relativistic_average_losses
from tfgan_app.gans.sampling import GRADIENT_PENALTY_ALPHA, stream_seed
from tfgan_app.gans.sgan import SGAN, labelled_indices
from tfgan_app.gans.unrolled import UnrolledGAN
from tfgan_app.gans.wgan import WGAN, WGANGP
from tfgan_app.layers import LatentCodes, MinibatchDiscrimination


def softplus(x):
    return np.log1p(np.exp(x))


def linear_critic(w, b=0.3):
    """A 2-D → 1 linear critic D(x) = w·x + b as a keras model."""
    x = keras.Input((2,))
    dense = keras.layers.Dense(1, name="logits")
    model = keras.Model(x, dense(x))
    dense.set_weights([np.asarray(w, np.float32).reshape(2, 1), np.array([b], np.float32)])
    return model


def tiny_generator(latent_dim=4, num_classes=None):
    return mlp_generator(latent_dim, (2,), num_classes, hidden_units=(8,), output_activation="linear")


def test_least_squares_and_hinge_losses_match_formulas():
    r, f = np.array([0.5, 2.0], np.float32), np.array([-1.0, 0.3], np.float32)
    ls = losses.get("least_squares")
    np.testing.assert_allclose(ls.discriminator(r, f), 0.5 * (r - 1) ** 2 + 0.5 * f ** 2, rtol=1e-6)
    np.testing.assert_allclose(ls.generator(f), 0.5 * (f - 1) ** 2, rtol=1e-6)
    hinge = losses.get("hinge")
    np.testing.assert_allclose(hinge.discriminator(r, f), np.maximum(0, 1 - r) + np.maximum(0, 1 + f), rtol=1e-6)
    np.testing.assert_allclose(hinge.generator(f), -f, rtol=1e-6)


def test_relativistic_average_losses_match_formula():
    r, f = np.array([1.0, -0.5, 2.0]), np.array([0.2, -1.0, 0.1])
    d, g = relativistic_average_losses(tf.constant(r, tf.float32), tf.constant(f, tf.float32))
    expected_d = softplus(-(r - f.mean())) + softplus(f - r.mean())
    expected_g = softplus(-(f - r.mean())) + softplus(r - f.mean())
    np.testing.assert_allclose(d, expected_d, rtol=1e-5)
    np.testing.assert_allclose(g, expected_g, rtol=1e-5)


def test_gradient_penalty_of_linear_critic_is_analytic():
    """For D(x) = w·x + b, ∇D = w everywhere: penalty (‖w‖ − 1)², d penalty / dw = 2(‖w‖ − 1)·w/‖w‖."""
    w = np.array([0.6, 1.7], np.float32)
    critic = linear_critic(w)
    real = tf.random.normal((5, 2), seed=1)
    fake = tf.random.normal((5, 2), seed=2)
    alpha = tf.constant([0.0, 0.2, 0.5, 0.9, 1.0])
    kernel = critic.trainable_variables[0]
    with tf.GradientTape() as tape:
        penalty = tf.reduce_mean(losses.gradient_penalty(lambda x: critic(x), real, fake, alpha))
    norm = np.linalg.norm(w)
    np.testing.assert_allclose(float(penalty), (norm - 1) ** 2, rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(penalty, kernel).numpy().ravel(), 2 * (norm - 1) * w / norm, rtol=1e-4)


def test_wgan_gp_penalty_uses_lambda_and_per_sample_alpha():
    """With D(x) = ½‖x‖² the gradient at x̂ is x̂; real = (1, 0), fake = 0 gives x̂ = (α_i, 0), penalty (α_i − 1)²."""
    x = keras.Input((2,))
    critic = keras.Model(x, keras.layers.Lambda(lambda v: 0.5 * tf.reduce_sum(v * v, axis=1, keepdims=True),
                                                name="logits")(x))
    gan = WGANGP(tiny_generator(), critic, gp_weight=10.0, seed=3)
    gan.compile(loss="wasserstein")
    real = tf.tile(tf.constant([[1.0, 0.0]]), [64, 1])
    penalty = float(gan.discriminator_penalty(real, tf.zeros_like(real), None))
    alpha = tf.random.stateless_uniform([64], seed=stream_seed(3, GRADIENT_PENALTY_ALPHA, 0)).numpy()
    assert len(np.unique(alpha)) == 64  # one α per sample
    np.testing.assert_allclose(penalty, 10.0 * np.mean((alpha - 1.0) ** 2), rtol=1e-4)


def test_wgan_clipping_keeps_weights_in_range():
    keras.utils.set_random_seed(0)
    critic = extended_discriminator((2,), base="mlp", hidden_units=(16,))
    gan = WGAN(tiny_generator(), critic, clip_value=0.01, d_steps=2)
    gan.compile(d_optimizer=keras.optimizers.RMSprop(1e-2), g_optimizer="rmsprop", loss="wasserstein")
    assert max(np.abs(v.numpy()).max() for v in critic.trainable_variables) > 0.01  # glorot init is larger
    data = tf.data.Dataset.from_tensor_slices(np.random.default_rng(0).normal(size=(64, 2)).astype("float32"))
    gan.fit(data.batch(16), epochs=1, steps_per_epoch=3, verbose=0)
    values = np.concatenate([v.numpy().ravel() for v in critic.trainable_variables])
    assert np.abs(values).max() <= 0.01 + 1e-7
    assert np.isclose(np.abs(values), 0.01).mean() > 0.25  # clipping is actually active
    with pytest.raises(UsageError):
        WGAN(tiny_generator(), critic, clip_value=0.0)


def test_acgan_losses_match_hand_computation():
    d = extended_discriminator((2,), num_classes=3, base="mlp", hidden_units=(8,), class_head=True)
    gan = ACGAN(tiny_generator(num_classes=3), d, num_classes=3, class_weight=0.5)
    gan.compile(loss="non_saturating")
    real_out = np.array([[1.0, 2.0, 0.0, -1.0], [-0.5, 0.0, 0.0, 3.0]], np.float32)
    fake_out = np.array([[-2.0, 0.5, 0.5, 0.5], [0.3, 1.0, -1.0, 0.0]], np.float32)
    y = np.array([0, 2])
    ce = lambda out: -np.log(softmax(out[:, 1:], axis=1)[np.arange(2), y])  # noqa: E731
    expected_d = softplus(-real_out[:, 0]) + softplus(fake_out[:, 0]) + 0.5 * (ce(real_out) + ce(fake_out))
    expected_g = softplus(-fake_out[:, 0]) + 0.5 * ce(fake_out)
    cond = tf.constant(y, tf.int32)
    np.testing.assert_allclose(gan.discriminator_loss(real_out, fake_out, None, None, cond), expected_d, rtol=1e-5)
    np.testing.assert_allclose(gan.generator_loss(fake_out, None, None, cond), expected_g, rtol=1e-5)
    with pytest.raises(UsageError, match="class_head"):
        ACGAN(tiny_generator(num_classes=3), extended_discriminator((2,), base="mlp"), num_classes=3)


def test_infogan_info_loss_matches_hand_computation():
    g = infogan_generator(7, (2,), num_categories=3, num_continuous=2, base="mlp", hidden_units=(8,),
                          output_activation="linear")
    gan = InfoGAN(g, extended_discriminator((2,), base="mlp", hidden_units=(8,), extra_outputs=5), info_weight=2.0)
    gan.compile(loss="non_saturating")
    codes = np.array([[0.1, 1.5, -0.3, 0.4, -2.0], [2.0, 0.0, 1.0, -0.1, 0.7]], np.float32)  # normal form
    out = np.array([[0.5, 1.0, 2.0, 0.0, 0.3, -0.5], [-1.0, 0.2, 0.1, -0.4, 0.0, 0.9]], np.float32)
    categories = codes[:, :3].argmax(axis=1)  # [1, 0]
    continuous = erf(codes[:, 3:] / math.sqrt(2.0))
    ce = -np.log(softmax(out[:, 1:4], axis=1)[np.arange(2), categories])
    info = ce + 0.5 * np.sum((continuous - out[:, 4:]) ** 2, axis=1)
    np.testing.assert_allclose(gan.info_loss(out, tf.constant(codes)), info, rtol=1e-5)
    np.testing.assert_allclose(gan.generator_loss(out, None, None, tf.constant(codes)),
                               softplus(-out[:, 0]) + 2.0 * info, rtol=1e-5)
    real_out = np.zeros_like(out)
    np.testing.assert_allclose(gan.discriminator_loss(real_out, out, None, None, tf.constant(codes)),
                               softplus(0.0) + softplus(out[:, 0]) + 2.0 * info, rtol=1e-5)


def test_infogan_q_network_can_be_trained_by_the_generator_optimizer():
    """q_optimizer="generator": Q's own layers move from D's variables to G's, and D's loss drops L_Q."""
    g = infogan_generator(7, (2,), num_categories=3, num_continuous=2, base="mlp", hidden_units=(8,),
                          output_activation="linear")

    def discriminator():
        return extended_discriminator((2,), base="mlp", hidden_units=(8,), extra_outputs=5, extra_hidden_units=4)
    gan = InfoGAN(g, discriminator(), q_optimizer="generator")
    gan.compile(loss="non_saturating")
    q_names = {v.path for v in gan.q_variables}
    assert len(gan.q_variables) == 6  # q_hidden kernel + bias, its BatchNorm gamma + beta, extra_logits kernel + bias
    assert q_names <= {v.path for v in gan.generator_variables}
    assert not q_names & {v.path for v in gan.discriminator_variables}
    assert len(gan.generator_variables) + len(gan.discriminator_variables) == \
        len(g.trainable_variables) + len(gan.discriminator.trainable_variables)
    codes = tf.constant([[0.1, 1.5, -0.3, 0.4, -2.0]], np.float32)
    out, real_out = np.array([[0.5, 1.0, 2.0, 0.0, 0.3, -0.5]], np.float32), np.zeros((1, 6), np.float32)
    np.testing.assert_allclose(gan.discriminator_loss(real_out, out, None, None, codes),
                               softplus(0.0) + softplus(out[:, 0]), rtol=1e-5)
    np.testing.assert_allclose(gan.generator_loss(out, None, None, codes),
                               softplus(-out[:, 0]) + gan.info_loss(out, codes), rtol=1e-5)
    default = InfoGAN(g, discriminator())
    assert len(default.discriminator_variables) == len(default.discriminator.trainable_variables)
    with pytest.raises(UsageError, match="extra_hidden_units"):
        InfoGAN(g, extended_discriminator((2,), base="mlp", hidden_units=(8,), extra_outputs=5),
                q_optimizer="generator")


def test_infogan_generate_fixes_the_categorical_code():
    g = infogan_generator(7, (2,), num_categories=3, num_continuous=2, base="mlp", hidden_units=(8,),
                          output_activation="linear")
    gan = InfoGAN(g, extended_discriminator((2,), base="mlp", hidden_units=(8,), extra_outputs=5))
    z = tf.random.normal((6, 7), seed=4)
    forced = gan.generator_inputs(z, gan.condition_for_generation(6, [2]))
    categories, continuous = gan.codes.codes_from_latents(forced)
    assert categories.numpy().tolist() == [2] * 6
    np.testing.assert_allclose(forced[:, :2], z[:, :2])  # noise untouched
    np.testing.assert_allclose(continuous, erf(z.numpy()[:, 5:] / math.sqrt(2)), rtol=1e-5)
    with pytest.raises(UsageError):
        gan.generate(2, labels=[3])


def test_latent_codes_are_uniform_one_hot_and_uniform_continuous():
    layer = LatentCodes(num_categories=4, num_continuous=1)
    out = layer(tf.random.normal((20000, 9), seed=5)).numpy()
    one_hot = out[:, 4:8]
    assert set(np.unique(one_hot)) == {0.0, 1.0} and np.all(one_hot.sum(axis=1) == 1)
    np.testing.assert_allclose(one_hot.mean(axis=0), 0.25, atol=0.015)
    cont = out[:, 8]
    assert cont.min() > -1 and cont.max() < 1
    np.testing.assert_allclose([cont.mean(), cont.var()], [0.0, 1.0 / 3.0], atol=0.015)  # U(−1, 1)


def test_minibatch_discrimination_matches_numpy():
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    f = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    out = layer(f).numpy()
    m = (f @ layer.kernel.numpy()).reshape(4, 3, 2)
    o = np.exp(-np.abs(m[:, None] - m[None]).sum(-1)).sum(axis=1)
    np.testing.assert_allclose(out, np.concatenate([f, o], axis=1), rtol=1e-5)
    assert layer.compute_output_shape((None, 5)) == (None, 8)


def test_sgan_losses_mask_unlabelled_examples():
    gan = SGAN(tiny_generator(), extended_discriminator((2,), base="mlp", hidden_units=(8,), extra_outputs=3),
               num_classes=3, supervised_weight=1.0)
    gan.compile(loss="non_saturating")
    out = np.array([[0.0, 1.0, 2.0, 0.5], [1.0, 0.0, 0.0, 0.0], [-1.0, 3.0, 1.0, 1.0], [0.5, 0.2, 0.1, 0.4]],
                   np.float32)
    labels = np.array([-1, 2, -1, 0])
    real_fake = logsumexp(out[:, 1:], axis=1) - out[:, 0]
    np.testing.assert_allclose(gan.adversarial_logits(out), real_fake, rtol=1e-5)
    supervised = gan.supervised_loss(out, tf.constant(labels, tf.int32)).numpy()
    ce = -np.log(softmax(out[:, 1:], axis=1)[[1, 3], [2, 0]])
    assert supervised[0] == 0 and supervised[2] == 0
    np.testing.assert_allclose(supervised.mean(), ce.mean(), rtol=1e-5)  # batch mean = labelled mean
    picked = labelled_indices(np.repeat(np.arange(3), 10), 6, seed=0)
    assert np.bincount(np.repeat(np.arange(3), 10)[picked]).tolist() == [2, 2, 2]


def test_unrolled_generator_loss_matches_manual_unrolling():
    """One SGD step on the BCE loss of a linear D, then the G loss on the updated D; value and d/dfake."""
    w, b, lr = np.array([0.7, -0.4]), 0.3, 0.5
    gan = UnrolledGAN(tiny_generator(), linear_critic(w, b), unroll_steps=1, unroll_learning_rate=lr)
    gan.compile(loss="non_saturating")
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))

    def manual(fake):
        sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
        lr_, lf = real @ w + b, fake @ w + b
        grad_w = np.mean(-sig(-lr_)[:, None] * real + sig(lf)[:, None] * fake, axis=0)
        grad_b = np.mean(-sig(-lr_) + sig(lf))
        return np.mean(softplus(-(fake @ (w - lr * grad_w) + (b - lr * grad_b))))

    fake_t = tf.constant(fake, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(fake_t)
        loss = tf.reduce_mean(gan.generator_loss(None, fake_t, tf.constant(real, tf.float32), None))
    np.testing.assert_allclose(float(loss), manual(fake), rtol=1e-5)
    eps, numeric = 1e-5, np.zeros_like(fake)
    for i in np.ndindex(fake.shape):
        step = np.zeros_like(fake)
        step[i] = eps
        numeric[i] = (manual(fake + step) - manual(fake - step)) / (2 * eps)
    np.testing.assert_allclose(tape.gradient(loss, fake_t).numpy(), numeric, rtol=1e-3, atol=1e-6)


def test_feature_matching_and_label_smoothing():
    real_f, fake_f = np.array([[1.0, 2.0], [3.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 1.0]])
    assert float(feature_matching_loss(real_f, fake_f)) == pytest.approx((2 - 0.5) ** 2 + (1 - 0.5) ** 2)
    d = extended_discriminator((2,), base="mlp", hidden_units=(8,))
    gan = GAN(tiny_generator(), d, label_smoothing=0.9)
    gan.compile(loss="non_saturating")
    r, f = np.array([2.0], np.float32), np.array([-1.0], np.float32)
    # BCE with target 0.9 on the real logit: −0.9 log σ(r) − 0.1 log(1 − σ(r)).
    expected = 0.9 * softplus(-2.0) + 0.1 * softplus(2.0) + softplus(-1.0)
    np.testing.assert_allclose(gan.discriminator_loss(r, f, None, None, None), [expected], rtol=1e-5)
    with pytest.raises(UsageError, match="label_smoothing"):
        GAN(tiny_generator(), d, label_smoothing=0.9).compile(loss="hinge")


def test_historical_averaging_penalises_distance_to_running_mean():
    x = keras.Input((2,))
    d = keras.Model(x, keras.layers.Dense(1, use_bias=False, name="logits")(x))
    d.set_weights([np.array([[1.0], [1.0]], np.float32)])
    gan = GAN(tiny_generator(), d, historical_averaging=0.5)
    penalty = lambda: float(gan.historical_penalty("d"))  # noqa: E731
    assert penalty() == 0.0  # mean of {θ0} is θ0; now mean of {θ0, θ0}
    d.set_weights([np.array([[3.0], [1.0]], np.float32)])
    assert penalty() == pytest.approx(0.5 * (3 - 1) ** 2)  # now mean of {1, 1, 3} = 5/3 in the first entry
    d.set_weights([np.array([[0.0], [1.0]], np.float32)])
    assert penalty() == pytest.approx(0.5 * (5 / 3) ** 2, rel=1e-5)


def test_instance_noise_has_the_set_std_and_decays():
    x = keras.Input((1,))
    dense = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones", name="logits")
    gan = GAN(mlp_generator(2, (1,), hidden_units=(4,)), keras.Model(x, dense(x)),
                               instance_noise=0.5, instance_noise_decay_steps=10)
    gan.compile()
    samples = tf.fill((20000, 1), 2.0)
    noisy = gan.discriminate(samples, None, training=True).numpy()
    assert np.std(noisy) == pytest.approx(0.5, rel=0.03) and np.mean(noisy) == pytest.approx(2.0, abs=0.02)
    np.testing.assert_allclose(gan.discriminate(samples, None, training=False), 2.0)
    gan.g_optimizer.iterations.assign(5)
    assert np.std(gan.discriminate(samples, None, training=True).numpy()) == pytest.approx(0.25, rel=0.03)
    gan.g_optimizer.iterations.assign(10)
    np.testing.assert_allclose(gan.discriminate(samples, None, training=True), 2.0)
