"""EMA generator: the closed-form average, BatchNorm statistics, warm-up, saving, sampling and MirroredStrategy."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_app.architectures.mlp import mlp_discriminator
from tfgan_app.errors import UsageError
from tfgan_app.gans import GAN, CycleGAN


def bn_generator(latent_dim: int = 4) -> keras.Model:
    """z → Dense → BatchNorm → ReLU → Dense(2): a tiny generator with moving statistics."""
    z = keras.Input((latent_dim,))
    x = keras.layers.Dense(8)(z)
    x = keras.layers.BatchNormalization(momentum=0.5)(x)
    x = keras.layers.ReLU()(x)
    return keras.Model(z, keras.layers.Dense(2)(x), name="generator")


class RecordGenerator(keras.callbacks.Callback):
    """Keeps the generator's weights (BN moving statistics included) after every batch."""

    def __init__(self, generator):
        super().__init__()
        self.generator = generator
        self.history = [[w.copy() for w in generator.get_weights()]]

    def on_train_batch_end(self, batch, logs=None):
        self.history.append([w.copy() for w in self.generator.get_weights()])


def closed_form(history, decay, start):
    """θ̄_t = θ_t for t ≤ start, else β θ̄_{t−1} + (1 − β) θ_t, over the recorded weights."""
    average = history[0]
    for step, weights in enumerate(history[1:], start=1):
        beta = 0.0 if step <= start else decay
        average = [beta * a + (1 - beta) * w for a, w in zip(average, weights)]
    return average


def train_tiny(decay=0.8, start=0, steps=6):
    keras.utils.set_random_seed(0)
    generator = bn_generator()
    gan = GAN(generator, mlp_discriminator((2,), hidden_units=(8,)), ema_decay=decay, ema_start=start, seed=3)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.5))
    data = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    record = RecordGenerator(generator)
    gan.fit(tf.data.Dataset.from_tensor_slices(data).batch(8).repeat(), epochs=1, steps_per_epoch=steps,
            verbose=0, callbacks=[record])
    return gan, record.history


@pytest.mark.parametrize("start", [0, 2])
def test_ema_equals_closed_form_average_including_batchnorm_statistics(start):
    gan, history = train_tiny(decay=0.8, start=start)
    expected = closed_form(history, 0.8, start)
    names = [w.path for w in gan.ema_generator.weights]
    assert any("moving_mean" in n for n in names) and any("moving_variance" in n for n in names)
    for name, want, got in zip(names, expected, gan.ema_generator.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)
    # The average lags the trained generator: it is not simply a copy of it.
    raw = gan.generator.get_weights()
    assert max(np.abs(a - b).max() for a, b in zip(gan.ema_generator.get_weights(), raw)) > 1e-3
    # Moving statistics moved during training (so the BN check above is not comparing initial values).
    assert np.abs(history[-1][names.index(next(n for n in names if "moving_mean" in n))]).max() > 1e-3


def test_generate_samples_from_the_ema_generator_and_raw_weights_are_not_averaged():
    gan, _ = train_tiny()
    z = tfgan_latents(gan, 5)
    np.testing.assert_allclose(gan.generate(5, seed=7), gan.ema_generator(z, training=False), atol=1e-6)
    assert not np.allclose(gan.generate(5, seed=7), gan.generator(z, training=False), atol=1e-4)
    assert gan.sampling_generator is gan.ema_generator


def tfgan_latents(gan, num, seed=7):
    from tfgan_app.latent import sample_latents  # pylint: disable=import-outside-toplevel
    return sample_latents(num, gan.latent_dim, seed)


def test_ema_survives_save_and_load(tmp_path):
    gan, _ = train_tiny()
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.ema_decay == 0.8 and loaded.ema_start == 0
    for a, b in zip(loaded.ema_generator.get_weights(), gan.ema_generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.generate(4, seed=1), gan.generate(4, seed=1), atol=1e-6)


def test_bad_ema_options_are_usage_errors():
    g, d = bn_generator(), mlp_discriminator((2,), hidden_units=(8,))
    for kwargs, match in [({"ema_decay": 1.0}, "ema_decay must be in"), ({"ema_decay": -0.1}, "ema_decay"),
                          ({"ema_start": 10}, "only applies with ema_decay"),
                          ({"ema_decay": 0.9, "ema_start": -1}, "ema_start must be")]:
        with pytest.raises(UsageError, match=match):
            GAN(g, d, **kwargs)


def test_cyclegan_rejects_ema():
    g = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(1, 1)])
    with pytest.raises(UsageError, match="CycleGAN cannot apply ema_decay"):
        CycleGAN(g, keras.models.clone_model(g), keras.models.clone_model(g), keras.models.clone_model(g),
                 ema_decay=0.9)


def _mirrored_run() -> dict:
    """Runs in a subprocess with 2 logical CPUs: the EMA under MirroredStrategy."""
    from tfgan_app import distribute  # pylint: disable=import-outside-toplevel
    distribute.use_logical_cpus(2)
    strategy = distribute.get_strategy("mirrored")
    keras.utils.set_random_seed(0)
    with strategy.scope():
        generator = bn_generator()
        gan = GAN(generator, mlp_discriminator((2,), hidden_units=(8,)), ema_decay=0.7, ema_start=1)
        gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.5))
    data = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    record = RecordGenerator(generator)
    gan.fit(tf.data.Dataset.from_tensor_slices(data).batch(8, drop_remainder=True).repeat(), epochs=1,
            steps_per_epoch=5, verbose=0, callbacks=[record])
    expected = closed_form(record.history, 0.7, 1)
    trainable = {id(v) for v in gan.ema_generator.trainable_weights + gan.ema_generator.non_trainable_weights
                 if "moving" not in v.path}
    diffs, replica_spread = [], []
    for variable, want in zip(gan.ema_generator.weights, expected):
        if id(variable) in trainable:
            diffs.append(float(np.abs(variable.numpy() - want).max()))
        locals_ = [np.asarray(x) for x in strategy.experimental_local_results(variable.value)]
        replica_spread.append(max(float(np.abs(x - locals_[0]).max()) for x in locals_))
    return {"replicas": strategy.num_replicas_in_sync, "max_diff": max(diffs), "replica_spread": max(replica_spread),
            "steps": int(gan.g_optimizer.iterations.numpy())}


def test_ema_under_mirrored_strategy_matches_closed_form_and_replicas_agree():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.dirname(__file__)),
                                                         os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, __file__], capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2 and result["steps"] == 5
    assert result["max_diff"] < 1e-5, result
    assert result["replica_spread"] == 0.0, result


if __name__ == "__main__":
    print(json.dumps(_mirrored_run()))


def test_run_folder_generator_and_export_are_the_ema_generator(tmp_path):
    from tfgan_app import presets, training  # pylint: disable=import-outside-toplevel
    from tfgan_app.artifacts.run_dir import load_run  # pylint: disable=import-outside-toplevel
    preset = presets.from_dict({"gan": "gan", "gan_options": {"ema_decay": 0.9}, "generator": "mlp",
                                "discriminator": "mlp", "dataset": "toy:ring8",
                                "generator_options": {"hidden_units": [16], "output_activation": "linear"},
                                "discriminator_options": {"hidden_units": [16]}, "latent_dim": 4,
                                "batch_size": 32, "epochs": 1, "steps_per_epoch": 8}, name="tiny_ema")
    out = str(tmp_path / "run")
    result = training.train(preset, out, verbose=0)
    exported = load_run(out).generator.get_weights()
    for a, b in zip(exported, result.gan.ema_generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(exported, result.gan.generator.get_weights()))
    raw = keras.saving.load_model(os.path.join(out, "gan.keras"))  # the raw generator stays in gan.keras
    for a, b in zip(raw.generator.get_weights(), result.gan.generator.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_standing_statistics_are_the_average_of_batch_statistics():
    from tfgan_app.gans.ema import standing_statistics  # pylint: disable=import-outside-toplevel
    generator = bn_generator()
    batches = [tf.random.stateless_normal([32, 4], seed=[i, 0]) for i in range(3)]
    dense = generator.layers[1]
    bn = generator.layers[2]
    standing_statistics(generator, batches)
    means = [np.asarray(dense(z)).mean(0) for z in batches]
    variances = [np.asarray(dense(z)).var(0) for z in batches]
    np.testing.assert_allclose(bn.moving_mean.numpy(), np.mean(means, 0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), np.mean(variances, 0), rtol=1e-3, atol=1e-5)
    assert bn.momentum == 0.5  # restored
