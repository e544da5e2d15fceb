"""One epoch under MirroredStrategy (2 logical CPUs) equals one epoch on one device.

With the same data, the same initial weights and the same latents, a correctly
scaled data-parallel step computes the same global-batch gradients as the
single-device step, so losses and weights must agree to float tolerance. The
GAN here adds a gradient penalty (a scalar on the local batch, the path WGAN-GP
and R1 take). SGD is used because Adam normalises gradients and would hide a
scaling error. As controls, two deliberately wrong scalings (per-replica mean
instead of global mean; penalty not divided by the number of replicas) must
*not* match, which shows the comparison can fail.

The devices are split before TensorFlow initialises, so the runs happen in a
subprocess (this file run as a script) and the pytest process is untouched.
"""

import json
import subprocess
import sys

import numpy as np

VARIANTS = ("correct", "wrong_average", "wrong_penalty")


def _run_variants() -> dict:
    """Trains each variant under both strategies; returns losses and weights max-differences."""
    from tfgan_app import distribute
    distribute.use_logical_cpus(2)

    import keras
    import tensorflow as tf
    from tfgan_app.architectures.mlp import mlp_discriminator, mlp_generator

    # Deterministic kernels: the comparison is about loss scaling, so float reductions must not change
    # order between runs (a full-suite run on a loaded machine once differed by 2e-3 without this).
    tf.config.experimental.enable_op_determinism()
    from tfgan_app.gans import GAN

    from _distribute_fixtures import GlobalBatchLatents

    class SameLatentsGAN(GlobalBatchLatents, GAN):
        def discriminator_penalty(self, real, fake, condition):
            with tf.GradientTape() as tape:
                tape.watch(real)
                logits = self.discriminate(real, condition)
            grads = tape.gradient(logits, real)
            return 0.5 * tf.reduce_mean(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))

    class WrongAverage(SameLatentsGAN):
        def _average(self, per_example):  # per-replica mean: gradients come out num_replicas times too big
            return tf.reduce_mean(tf.cast(per_example, tf.float32))

    class WrongPenalty(SameLatentsGAN):
        def _scale_scalar(self, value):  # not divided by the number of replicas
            return tf.cast(value, tf.float32)

    classes = {"correct": SameLatentsGAN, "wrong_average": WrongAverage, "wrong_penalty": WrongPenalty}
    images = np.random.default_rng(0).uniform(-1, 1, (48, 4, 4, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(48, np.int32))).batch(8, drop_remainder=True)

    def train(gan_class, strategy):
        keras.utils.set_random_seed(1)
        with strategy.scope():
            gan = gan_class(mlp_generator(8, (4, 4, 1), hidden_units=(16,)),
                            mlp_discriminator((4, 4, 1), hidden_units=(16,)))
            gan.compile(keras.optimizers.SGD(0.2), keras.optimizers.SGD(0.2))
        history = gan.fit(dataset, epochs=1, verbose=0).history
        return ({k: v[-1] for k, v in history.items()}, [v.numpy() for v in gan.weights],
                int(gan.g_optimizer.iterations.numpy()))

    default, mirrored = tf.distribute.get_strategy(), distribute.get_strategy("mirrored")
    results = {"replicas": mirrored.num_replicas_in_sync}
    for name in VARIANTS:
        one_logs, one_weights, one_steps = train(classes[name], default)
        two_logs, two_weights, two_steps = train(classes[name], mirrored)
        results[name] = {
            "losses_one_device": one_logs, "losses_mirrored": two_logs, "steps": [one_steps, two_steps],
            "weights_max_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(one_weights, two_weights)),
            "weights_max_abs": max(float(np.max(np.abs(a))) for a in one_weights),
        }
    return results


def test_mirrored_matches_single_device_and_wrong_scaling_does_not(tmp_path):
    out = tmp_path / "parity.json"
    proc = subprocess.run([sys.executable, __file__, str(out)], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["replicas"] == 2

    correct = results["correct"]
    assert correct["steps"] == [6, 6]  # 48 examples / global batch 8, under both strategies
    assert correct["weights_max_diff"] < 1e-5, correct
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):  # global values, not replica 0's
        np.testing.assert_allclose(correct["losses_mirrored"][key], correct["losses_one_device"][key],
                                   rtol=1e-5, atol=1e-6)

    for name in ("wrong_average", "wrong_penalty"):
        assert results[name]["weights_max_diff"] > 1e-3, (name, results[name])


if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(_run_variants(), f)
