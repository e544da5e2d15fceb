"""BEGAN under MirroredStrategy (2 logical CPUs): k_t follows the global batch, as on one device.

BEGAN updates k_t (a non-trainable weight) inside the replicated train step from the batch means of
L(x) and L(G(z_G)); every replica's copy must hold the k of the one-device run with the same global
batch, and the logged k / convergence must match it. Same set-up as test_distribute_zoo.py (SGD, the
same initial weights, latents drawn for the global batch and sliced per replica, a subprocess).
"""

import json
import subprocess
import sys

import numpy as np
import pytest

STEPS = 6  # 48 examples / global batch 8


def _run() -> dict:
    from tfgan_app import distribute
    distribute.use_logical_cpus(2)

    import keras
    import tensorflow as tf
    from tfgan_app.architectures import autoencoder_discriminator, mlp_generator
    from tfgan_app.gans.energy import BEGAN

    tf.config.experimental.enable_op_determinism()

    from _distribute_fixtures import GlobalBatchLatents

    class ParityBEGAN(GlobalBatchLatents, BEGAN):
        pass

    images = np.random.default_rng(0).uniform(-1, 1, (48, 8, 8, 1)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(48, np.int32))).batch(8, drop_remainder=True)

    def train(strategy):
        keras.utils.set_random_seed(1)
        with strategy.scope():
            gan = ParityBEGAN(mlp_generator(8, (8, 8, 1), hidden_units=(16,)),  # no batch norm: per-replica statistics
                              autoencoder_discriminator((8, 8, 1), base_filters=4, code_dim=4),
                              gamma=0.5, lambda_k=0.5, initial_k=0.3)
            gan.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05))
        history = gan.fit(dataset, epochs=1, verbose=0).history
        value = gan.k.value
        copies = [float(c.numpy()) for c in getattr(value, "values", (value,))]
        return {"logs": {k: float(v[-1]) for k, v in history.items()}, "k_copies": copies}

    default, mirrored = tf.distribute.get_strategy(), distribute.get_strategy("mirrored")
    return {"replicas": mirrored.num_replicas_in_sync, "one": train(default), "mirrored": train(mirrored)}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("energy") / "energy.json"
    proc = subprocess.run([sys.executable, __file__, str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["replicas"] == 2
    return data


def test_began_k_under_mirrored_matches_one_device(results):
    one, mirrored = results["one"], results["mirrored"]
    assert len(mirrored["k_copies"]) == 2 and mirrored["k_copies"][0] == mirrored["k_copies"][1]
    assert one["k_copies"][0] != pytest.approx(0.3)  # k moved
    np.testing.assert_allclose(mirrored["k_copies"][0], one["k_copies"][0], rtol=1e-5)
    for key in ("k", "convergence", "d_loss", "g_loss", "d_real", "d_fake"):
        np.testing.assert_allclose(mirrored["logs"][key], one["logs"][key], rtol=1e-4, atol=1e-6, err_msg=key)


if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(_run(), f)
