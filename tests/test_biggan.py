"""BigGAN-style model (`tfgan_app.gans.biggan`, `tfgan_app.architectures.biggan`): its mechanisms vs the paper.

Conditional batch norm with γ = 1 + W_γ·[e, z_i], β = W_β·[e, z_i] on the hierarchical latent; the orthogonal
penalty β‖WᵀW ⊙ (1 − I)‖²_F (off-diagonal only) and that it enters G's loss and gradient on a real train step;
the projection discriminator's ⟨V y, φ(x)⟩ term; SAGAN self-attention (identity at γ = 0); the hinge pair;
ψ-truncation of every latent chunk; save/load; the preset's CLI path (train, export, generate --labels).
"""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app import losses
from tfgan_app.architectures import biggan_discriminator, biggan_generator
from tfgan_app.architectures.biggan import ClassProjection, ConditionalBatchNorm, HierarchicalLatent, SelfAttention
from tfgan_app.cli.main import main
from tfgan_app.errors import UsageError
from tfgan_app.gans import BigGAN
from tfgan_app.latent import sample_latents

SHAPE, CLASSES, LATENT = (16, 16, 1), 3, 12  # 4 → 8 → 16: two up-blocks, three latent chunks of 4


def tiny(orthogonal_weight=1e-4, spectral_norm=True, **options):
    keras.utils.set_random_seed(0)
    g = biggan_generator(LATENT, SHAPE, CLASSES, base_filters=4, embedding_dim=3, spectral_norm=spectral_norm)
    d = biggan_discriminator(SHAPE, CLASSES, base_filters=4, spectral_norm=spectral_norm)
    gan = BigGAN(g, d, num_classes=CLASSES, orthogonal_weight=orthogonal_weight, **options)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0), g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0),
                loss="hinge", run_eagerly=True)  # tiny networks: eager steps beat tracing the graph
    return gan


def batch(num=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (num, *SHAPE)).astype(np.float32), rng.integers(0, CLASSES, num).astype(np.int32)


def train_batch(num=8, seed=0):
    """`batch` as tensors, what an eager train step is fed."""
    return tuple(tf.constant(a) for a in batch(num, seed))


def test_conditional_batch_norm_is_one_plus_linear_gain_and_linear_offset_of_the_condition():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, (4, 3, 3, 5)).astype(np.float32)
    condition = rng.normal(size=(4, 6)).astype(np.float32)
    cbn = ConditionalBatchNorm(spectral_norm=False)
    out = cbn([x, condition], training=True).numpy()
    w_gain, w_offset = cbn.gain.kernel.numpy(), cbn.offset.kernel.numpy()
    normalised = (x - x.mean(axis=(0, 1, 2))) / np.sqrt(x.var(axis=(0, 1, 2)) + cbn.epsilon)
    expected = normalised * (1 + condition @ w_gain)[:, None, None, :] + (condition @ w_offset)[:, None, None, :]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    # Inference: the moving statistics, which the training call has just updated.
    mean, var = cbn.norm.moving_mean.numpy(), cbn.norm.moving_variance.numpy()
    assert not np.allclose(mean, 0.0)
    expected = ((x - mean) / np.sqrt(var + cbn.epsilon) * (1 + condition @ w_gain)[:, None, None, :]
                + (condition @ w_offset)[:, None, None, :])
    np.testing.assert_allclose(cbn([x, condition], training=False).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_generator_cbn_conditions_on_the_shared_class_embedding_and_its_own_z_chunk():
    g = tiny().generator
    z = sample_latents(2, LATENT, 3).numpy()
    labels = np.array([2, 0], np.int32)
    chunks = HierarchicalLatent(3)([z, np.ones((2, 5), np.float32)])
    np.testing.assert_array_equal(chunks[0], z[:, :4])
    np.testing.assert_array_equal(chunks[2], np.concatenate([np.ones((2, 5)), z[:, 8:12]], axis=1))
    # The CBN of block 2 (spectrally normalised; at inference its kernels are used as stored) against the formula.
    cbn = g.get_layer("block2_cbn1")
    x_in = keras.Model(g.inputs, g.get_layer("block2_cbn1").input[0])([z, labels]).numpy()
    out = keras.Model(g.inputs, cbn.output)([z, labels]).numpy()
    condition = np.concatenate([g.get_layer("shared_embedding").embeddings.numpy()[labels], z[:, 8:12]], axis=1)
    normalised = (x_in - cbn.norm.moving_mean.numpy()) / np.sqrt(cbn.norm.moving_variance.numpy() + cbn.epsilon)
    expected = (normalised * (1 + condition @ cbn.gain.kernel.numpy())[:, None, None, :]
                + (condition @ cbn.offset.kernel.numpy())[:, None, None, :])
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    # Hierarchy: chunk 2 reaches block 2 only; chunk 1 already block 1.
    block1 = keras.Model(g.inputs, g.get_layer("block1_out").output)
    other = z.copy()
    other[:, 8:] += 1.0
    np.testing.assert_allclose(block1([other, labels]), block1([z, labels]), atol=1e-6)
    other = z.copy()
    other[:, 4:8] += 1.0
    assert not np.allclose(block1([other, labels]), block1([z, labels]), atol=1e-4)


def test_orthogonal_penalty_matches_numpy_and_ignores_the_diagonal():
    rng = np.random.default_rng(0)
    kernels = [rng.normal(size=(3, 3, 2, 4)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)]

    def numpy_penalty(weight):
        matrix = weight.reshape(-1, weight.shape[-1])
        gram = matrix.T @ matrix
        return np.sum((gram * (1 - np.eye(len(gram)))) ** 2)

    expected = 1e-2 * sum(numpy_penalty(k) for k in kernels)
    assert float(losses.orthogonal_penalty(kernels, beta=1e-2)) == pytest.approx(expected, rel=1e-5)
    # Orthogonal columns of different norms: no penalty (‖WᵀW − I‖² would charge the norms).
    scaled = np.diag([1.0, 2.0, 3.0]).astype(np.float32)
    assert float(losses.orthogonal_penalty([scaled], beta=1.0)) == pytest.approx(0.0, abs=1e-7)
    assert float(losses.orthogonal_penalty([], beta=1.0)) == 0.0
    with pytest.raises(UsageError, match="beta=-1"):
        losses.orthogonal_penalty(kernels, beta=-1)


def test_projection_discriminator_adds_the_class_embedding_inner_product():
    d = tiny(spectral_norm=False).discriminator
    images, labels = batch(4)
    features = keras.Model(d.inputs, d.get_layer("sum_pool").output)([images, labels]).numpy()
    linear, projection = d.get_layer("linear"), d.get_layer("projection")
    v = projection.embedding.kernel.numpy()  # [classes, features]
    expected = features @ linear.kernel.numpy() + linear.bias.numpy() + np.sum(v[labels] * features, axis=1,
                                                                                keepdims=True)
    np.testing.assert_allclose(d([images, labels]).numpy(), expected, rtol=1e-4, atol=1e-4)
    alone = ClassProjection(CLASSES, spectral_norm=False)
    term = alone([features, labels]).numpy()
    np.testing.assert_allclose(term, np.sum(alone.embedding.kernel.numpy()[labels] * features, axis=1, keepdims=True),
                               rtol=1e-5)


def test_self_attention_is_the_identity_at_gamma_zero_and_sagan_otherwise():
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 16)).astype(np.float32)
    attention = SelfAttention(spectral_norm=False)
    np.testing.assert_array_equal(attention(x).numpy(), x)
    assert float(attention.gamma) == 0.0
    attention.gamma.assign(0.5)
    flat = x.reshape(2, 9, 16)

    def conv(layer, values):
        return values @ layer.kernel.numpy()[0, 0]

    scores = conv(attention.theta, flat) @ conv(attention.phi, flat).transpose(0, 2, 1)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    expected = flat + 0.5 * conv(attention.out, weights @ conv(attention.values, flat))
    np.testing.assert_allclose(attention(x).numpy(), expected.reshape(x.shape), rtol=1e-4, atol=1e-5)


def test_hinge_losses():
    real, fake = np.array([[2.0], [0.5], [-1.0]], np.float32), np.array([[-2.0], [0.3], [1.5]], np.float32)
    expected_d = np.maximum(0, 1 - real[:, 0]) + np.maximum(0, 1 + fake[:, 0])
    pair = losses.get("hinge")
    np.testing.assert_allclose(pair.discriminator(real, fake), expected_d, rtol=1e-6)
    np.testing.assert_allclose(pair.generator(fake), -fake[:, 0], rtol=1e-6)


def test_orthogonal_penalty_enters_the_generator_loss_and_its_gradient_on_a_train_step():
    plain, penalised = tiny(orthogonal_weight=0.0), tiny(orthogonal_weight=0.5)
    names = [v.path for v in penalised.orthogonal_weights()]
    assert not any("embedding" in n for n in names)  # the shared class embedding is left out, as in BigGAN
    kernels = [v for v in penalised.generator.trainable_variables if v.path.endswith("kernel")]
    assert len(names) == len(kernels) > 10
    logs_plain = {k: float(v) for k, v in plain.train_on_batch(*train_batch(), return_dict=True).items()}
    logs = {k: float(v) for k, v in penalised.train_on_batch(*train_batch(), return_dict=True).items()}
    assert logs["orthogonal"] > 1e-3 and logs_plain["orthogonal"] == 0.0
    assert logs["d_loss"] == pytest.approx(logs_plain["d_loss"], rel=1e-5)  # the same D step
    assert logs["g_loss"] - logs_plain["g_loss"] == pytest.approx(logs["orthogonal"], rel=1e-3)
    moved = [not np.allclose(a, b, atol=1e-7) for a, b in zip(plain.generator.get_weights(),
                                                              penalised.generator.get_weights())]
    assert any(moved)  # the penalty's gradient changed G's update


def test_truncation_scales_every_latent_chunk_by_psi():
    gan = tiny()
    seen = []
    original = gan.generator_inputs
    gan.generator_inputs = lambda z, condition: seen.append(np.asarray(z)) or original(z, condition)
    labels = [0, 1, 2, 1]
    truncated = gan.generate(4, seed=7, labels=labels, truncation=0.3)
    z = sample_latents(4, LATENT, 7).numpy()
    np.testing.assert_allclose(seen[-1], 0.3 * z, rtol=1e-6)
    assert np.abs(seen[-1]).max() <= 0.3 * np.abs(z).max() + 1e-6
    expected = gan.sampling_generator([0.3 * z, np.array(labels, np.int32)], training=False).numpy()
    np.testing.assert_allclose(truncated, expected, atol=1e-6)
    # ψ = 0: every seed gives the mean latent's image of the class.
    np.testing.assert_allclose(gan.generate(4, seed=1, labels=labels, truncation=0.0),
                               gan.generate(4, seed=2, labels=labels, truncation=0.0), atol=1e-6)
    with pytest.raises(UsageError, match="truncation"):
        gan.generate(2, truncation=1.5)


def test_save_and_load_keep_the_model(tmp_path):
    gan = tiny(orthogonal_weight=3e-4, d_steps=2, ema_decay=0.9)
    gan.train_on_batch(*train_batch())
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, BigGAN) and restored.orthogonal_weight == 3e-4 and restored.d_steps == 2
    np.testing.assert_allclose(restored.generate(4, seed=3, labels=[0, 1, 2, 0]),
                               gan.generate(4, seed=3, labels=[0, 1, 2, 0]), atol=1e-6)
    images, labels = batch(4, 1)
    np.testing.assert_allclose(restored.discriminator([images, labels]), gan.discriminator([images, labels]),
                               atol=1e-5)
    restored.run_eagerly = True
    restored.train_on_batch(*train_batch())  # and it trains on (resume)


@pytest.mark.parametrize("build, message", [
    (lambda: BigGAN(biggan_generator(LATENT, SHAPE, CLASSES, base_filters=2),
                    biggan_discriminator(SHAPE, CLASSES, base_filters=2), CLASSES, orthogonal_weight=-1.0),
     "orthogonal_weight=-1.0"),
    (lambda: biggan_generator(10, SHAPE, CLASSES), "latent_dim=10"),
    (lambda: biggan_generator(LATENT, SHAPE, None), "num_classes=None"),
    (lambda: biggan_discriminator(SHAPE, CLASSES, attention_block=3), "attention_block=3")])
def test_bad_options_are_usage_errors(build, message):
    with pytest.raises(UsageError, match=message):
        build()


def test_preset_trains_from_the_cli_exports_and_generates_labels(image_folder, tmp_path):
    out, base, png = str(tmp_path / "run"), str(tmp_path / "export"), str(tmp_path / "grid.png")
    assert main(["tfgan", "train", "--model=biggan_mnist", f"--dataset=folder:{image_folder}", "--epochs=1",
                 "--steps_per_epoch=1", "--batch_size=4", "--latent_dim=8", "--set", "image_size=8",
                 "--set", "generator_options.base_filters=4", "--set", "discriminator_options.base_filters=4",
                 "--set", "mixed_precision=float32", f"--output_dir={out}"]) == 0
    assert main(["tfgan", "export", f"--run_dir={out}", f"--base={base}", "--tflite=float32"]) == 0
    with open(os.path.join(base, "biggan_mnist", "1", "tflite", "generator.json")) as f:
        assert all(e["parity"]["meets_threshold"] for e in json.load(f)["files"].values())
    assert main(["tfgan", "generate", f"--model={os.path.join(base, 'biggan_mnist')}", "--num_images=4",
                 "--labels=0,1,1,0", "--truncation=0.5", f"--grid={png}"]) == 0
    assert os.path.getsize(png) > 0
