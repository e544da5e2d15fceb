"""Per-step random streams never collide across replicas (issue #13 item 2).

Under MirroredStrategy with 3 logical CPUs (in a subprocess: this file run as a
script, as in test_distribute_parity.py) every replica draws:

* the seeds `sampling.stream_seed` gives for every stream number: all (replica, stream)
  pairs must be different;
* StyleGAN's training latents: main latents (D and G steps) and the style-mixing
  latents drawn inside `mixed_styles`; all rows must be different (before the fix
  replica r's mixing latents were replica r+1's main latents);
* instance noise of an improved GAN: different on every replica and every call,
  and the same when the step is repeated (stateless, so resumable).
"""

import json
import subprocess
import sys

import numpy as np
import pytest

REPLICAS = 3


def _draw_everything() -> dict:
    from tfgan_app import distribute
    distribute.use_logical_cpus(REPLICAS)

    import threading

    import keras
    import tensorflow as tf
    from tfgan_app.architectures.mlp import mlp_generator
    from tfgan_app.architectures.stylegan import stylegan_discriminator, stylegan_generator
    from tfgan_app.gans import GAN, StyleGAN, sampling

    strategy = distribute.get_strategy("mirrored")
    assert strategy.num_replicas_in_sync == REPLICAS
    records = {}

    class RecordingStyleGAN(StyleGAN):
        def sample_latents(self, batch_size, stream, counter):
            z = super().sample_latents(batch_size, stream, counter)
            records.setdefault(threading.get_ident(), []).append(z)
            return z

    with strategy.scope():
        keras.utils.set_random_seed(0)
        stylegan = RecordingStyleGAN(stylegan_generator(8, (8, 8, 1), filters=8, max_filters=8),
                                     stylegan_discriminator((8, 8, 1), filters=8, max_filters=8),
                                     style_mixing_prob=1.0, seed=5)
        x = keras.Input((4,))
        identity_d = keras.Model(x, keras.layers.Identity(name="logits")(x))
        noisy = GAN(mlp_generator(2, (4,), hidden_units=(4,)), identity_d, instance_noise=1.0,
                                     seed=5)
        noisy.compile()

    counter = tf.constant(7, tf.int64)

    @tf.function
    def seeds():
        return strategy.run(lambda: tf.stack([sampling.stream_seed(5, s, counter)
                                               for s in range(sampling.NUM_STREAMS)]))

    @tf.function
    def latents():
        def replica_fn():
            records[threading.get_ident()] = []
            for stream in (0, 1):
                z = stylegan.sample_latents(4, stream, counter)
                stylegan.mixed_styles(z, stream, counter, training=False)
            return tf.stack(records[threading.get_ident()])  # [draws, 4, latent_dim]
        return strategy.run(replica_fn)

    @tf.function
    def noise():
        def replica_fn():
            zeros = tf.zeros([4, 4])
            return tf.stack([noisy.discriminate(zeros, None, training=True) for _ in range(2)])
        return strategy.run(replica_fn)

    def per_replica(values):
        return [np.asarray(v).tolist() for v in strategy.experimental_local_results(values)]

    return {"seeds": per_replica(seeds()), "latents": per_replica(latents()),
            "noise": per_replica(noise()), "noise_again": per_replica(noise())}


@pytest.fixture(scope="module")
def draws(tmp_path_factory):
    out = tmp_path_factory.mktemp("seeds") / "draws.json"
    proc = subprocess.run([sys.executable, __file__, str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def _assert_rows_distinct(rows: np.ndarray) -> None:
    rows = rows.reshape(len(rows), -1)
    assert len(np.unique(rows, axis=0)) == len(rows), "two (replica, stream) draws are identical"


def test_every_replica_stream_pair_has_its_own_seed(draws):
    seeds = np.array(draws["seeds"])  # [replicas, streams, 2]
    assert seeds.shape[0] == REPLICAS
    _assert_rows_distinct(seeds.reshape(-1, 2))


def test_stylegan_main_and_mixing_latents_differ_across_replicas(draws):
    latents = np.array(draws["latents"])  # [replicas, draws (z_D, z2_D, z_G, z2_G), 4, latent_dim]
    assert latents.shape[:2] == (REPLICAS, 4)
    _assert_rows_distinct(latents.reshape(REPLICAS * 4, -1))


def test_instance_noise_differs_per_replica_and_call_and_repeats_for_the_same_step(draws):
    noise = np.array(draws["noise"])  # [replicas, calls, 4, 4]
    assert noise.shape[:2] == (REPLICAS, 2) and np.std(noise) > 0.5
    _assert_rows_distinct(noise.reshape(REPLICAS * 2, -1))
    np.testing.assert_array_equal(noise, np.array(draws["noise_again"]))  # stateless in (seed, step, call)


if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(_draw_everything(), f)
