"""Zoo variants under MirroredStrategy (2 logical CPUs): WGAN weight clipping and historical averaging.

Both variants change variables outside the optimizer inside the replicated train step
(WGAN clips every critic weight after each critic update; historical averaging keeps
running means of both networks' parameters and penalises the distance to them). Under
`MirroredStrategy` every replica runs that code on its own copy of each variable, so
the checks are:

* WGAN: after training, every critic weight on *every replica's copy* is inside
  [-clip, clip], the copies agree, clipping is active (many weights sit on the bound),
  and the weights and losses equal those of the same run on one device with the same
  global batch. Controls: a per-replica mean (gradients twice too big) and clipping on
  replica 0 only must be caught.
* Historical averaging: losses are finite; weights (including the running means and
  their counts) and losses equal the one-device run; the running means equal a hand
  computation from the parameters recorded before every step. Controls: training without
  the penalty differs (it matters), and counting it once per replica (simulated by doubling
  its weight) must be caught.

The comparisons follow test_distribute_parity.py: SGD (Adam would hide a gradient-scale
error), the same initial weights, latents drawn for the global batch and sliced per
replica, deterministic ops. The devices are split before TensorFlow initialises, so the
runs happen in a subprocess (this file run as a script).
"""

import json
import subprocess
import sys

import numpy as np
import pytest

CLIP = 0.05
HA_WEIGHT = 0.5
STEPS = 6  # 48 examples / global batch 8


def _run() -> dict:
    from tfgan_app import distribute
    distribute.use_logical_cpus(2)

    import keras
    import tensorflow as tf
    from tfgan_app.architectures.mlp import mlp_discriminator, mlp_generator
    from tfgan_app.gans import GAN
    from tfgan_app.gans.wgan import WGAN

    tf.config.experimental.enable_op_determinism()

    from _distribute_fixtures import GlobalBatchLatents as SameLatents

    class ParityWGAN(SameLatents, WGAN):
        pass

    class WrongAverageWGAN(ParityWGAN):
        def _average(self, per_example):  # per-replica mean: gradients num_replicas times too big
            return tf.reduce_mean(tf.cast(per_example, tf.float32))

    class ReplicaZeroClipWGAN(ParityWGAN):
        def after_discriminator_step(self):  # the bug class "clipping applied on some replicas only"
            replica = tf.distribute.get_replica_context().replica_id_in_sync_group
            for variable in self.discriminator.trainable_variables:
                clipped = tf.clip_by_value(variable, -self.clip_value, self.clip_value)
                variable.assign(tf.where(tf.equal(replica, 0), clipped, tf.convert_to_tensor(variable)))

    class ParityGAN(SameLatents, GAN):
        pass

    images = np.random.default_rng(0).uniform(-1, 1, (48, 4, 4, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(48, np.int32))).batch(8, drop_remainder=True)

    def copies(variable):
        """Every replica's copy of a Keras variable (one array on the default strategy)."""
        value = variable.value
        return [np.asarray(c.numpy()) for c in getattr(value, "values", (value,))]

    class RecordParameters(keras.callbacks.Callback):
        """Both networks' parameters at the start of every step (what the penalties of that step see)."""

        def __init__(self, gan):
            super().__init__()
            self.gan, self.d, self.g = gan, [], []

        def on_train_batch_begin(self, batch, logs=None):
            self.d.append([v.numpy() for v in self.gan.discriminator.trainable_variables])
            self.g.append([v.numpy() for v in self.gan.generator.trainable_variables])

    def train(make_gan, strategy, loss, record=False):
        keras.utils.set_random_seed(1)
        with strategy.scope():
            gan = make_gan(mlp_generator(8, (4, 4, 1), hidden_units=(16,)),
                           mlp_discriminator((4, 4, 1), hidden_units=(16,)))
            gan.compile(keras.optimizers.SGD(0.2), keras.optimizers.SGD(0.2), loss=loss)
        initial_d = [v.numpy() for v in gan.discriminator.trainable_variables]
        recorder = RecordParameters(gan) if record else None
        history = gan.fit(dataset, epochs=1, verbose=0, callbacks=[recorder] if record else []).history
        return gan, {k: float(v[-1]) for k, v in history.items()}, initial_d, recorder

    def max_diff(a, b):
        return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))

    def all_weights(gan):
        return [c for v in gan.weights for c in copies(v)[:1]]

    default, mirrored = tf.distribute.get_strategy(), distribute.get_strategy("mirrored")
    results = {"replicas": mirrored.num_replicas_in_sync}

    # --- WGAN ---
    wgan = lambda cls: (lambda g, d: cls(g, d, clip_value=CLIP, d_steps=3))  # noqa: E731
    one, one_logs, initial_d, _ = train(wgan(ParityWGAN), default, "wasserstein")
    two, two_logs, _, _ = train(wgan(ParityWGAN), mirrored, "wasserstein")
    critic_copies = [copies(v) for v in two.discriminator.trainable_variables]
    flat = np.concatenate([c[0].ravel() for c in critic_copies])
    results["wgan"] = {
        "steps": [int(one.g_optimizer.iterations.numpy()), int(two.g_optimizer.iterations.numpy())],
        "d_steps": [int(one.d_optimizer.iterations.numpy()), int(two.d_optimizer.iterations.numpy())],
        "num_copies": len(critic_copies[0]),
        "initial_max_abs": max(float(np.max(np.abs(w))) for w in initial_d),
        "max_abs_any_copy": max(float(np.max(np.abs(c))) for cs in critic_copies for c in cs),
        "copies_max_diff": max(float(np.max(np.abs(c - cs[0]))) for cs in critic_copies for c in cs),
        "fraction_on_bound": float(np.isclose(np.abs(flat), CLIP, rtol=0, atol=1e-7).mean()),
        "fraction_inside": float((np.abs(flat) < CLIP - 1e-4).mean()),
        "weights_max_diff": max_diff(all_weights(one), all_weights(two)),
        "losses_one_device": one_logs, "losses_mirrored": two_logs,
    }
    wrong, _, _, _ = train(wgan(WrongAverageWGAN), mirrored, "wasserstein")
    results["wgan"]["wrong_average_weights_max_diff"] = max_diff(all_weights(one), all_weights(wrong))
    zero, _, _, _ = train(wgan(ReplicaZeroClipWGAN), mirrored, "wasserstein")
    zero_copies = [copies(v) for v in zero.discriminator.trainable_variables]
    results["wgan"]["replica_zero_clip"] = {
        "max_abs_any_copy": max(float(np.max(np.abs(c))) for cs in zero_copies for c in cs),
        "copies_max_diff": max(float(np.max(np.abs(c - cs[0]))) for cs in zero_copies for c in cs),
    }

    # --- historical averaging ---
    historical = lambda w: (lambda g, d: ParityGAN(g, d, historical_averaging=w))  # noqa: E731
    one, one_logs, _, one_rec = train(historical(HA_WEIGHT), default, "non_saturating", record=True)
    two, two_logs, _, two_rec = train(historical(HA_WEIGHT), mirrored, "non_saturating", record=True)

    def running_mean_error(gan, recorder):
        """Max |stored running mean − hand mean| over both networks and every replica copy.

        The mean starts as θ0 with count 1 and each step's penalty then adds the parameters it saw,
        so after T steps it is (θ0 + θ(step 0) + ... + θ(step T−1)) / (T + 1), θ(step 0) = θ0.
        """
        error, counts = 0.0, []
        for (averages, count), trajectory in ((gan._d_history, recorder.d), (gan._g_history, recorder.g)):
            counts.extend(float(c) for c in copies(count))
            for i, average in enumerate(averages):
                expected = (trajectory[0][i] + sum(step[i] for step in trajectory)) / (len(trajectory) + 1)
                error = max(error, max(float(np.max(np.abs(c - expected))) for c in copies(average)))
        return error, counts

    def penalty_now(gan, averages_and_count, model):
        averages, _ = averages_and_count
        return HA_WEIGHT * sum(float(np.sum((v.numpy() - copies(a)[0]) ** 2))
                               for v, a in zip(model.trainable_variables, averages))

    one_err, one_counts = running_mean_error(one, one_rec)
    two_err, two_counts = running_mean_error(two, two_rec)
    doubled, _, _, _ = train(historical(2 * HA_WEIGHT), mirrored, "non_saturating")
    without, _, _, _ = train(lambda g, d: ParityGAN(g, d), default, "non_saturating")
    trained = [v.numpy() for v in one.discriminator.trainable_variables + one.generator.trainable_variables]
    results["historical"] = {
        "steps": [int(one.g_optimizer.iterations.numpy()), int(two.g_optimizer.iterations.numpy())],
        "recorded_steps": [len(one_rec.d), len(two_rec.d)],
        "losses_one_device": one_logs, "losses_mirrored": two_logs,
        "weights_max_diff": max_diff(all_weights(one), all_weights(two)),
        "num_weights": [len(one.weights), len(two.weights)],
        "running_mean_error": [one_err, two_err],
        "counts": [one_counts, two_counts],
        "final_penalty": [penalty_now(one, one._d_history, one.discriminator),
                          penalty_now(one, one._g_history, one.generator)],
        "doubled_weight_max_diff": max_diff(all_weights(one), all_weights(doubled)),
        "without_max_diff": max_diff(trained, [v.numpy() for v in without.discriminator.trainable_variables
                                               + without.generator.trainable_variables]),
    }
    return results


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("zoo") / "zoo.json"
    proc = subprocess.run([sys.executable, __file__, str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["replicas"] == 2
    return data


def _assert_same_losses(run):
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert np.isfinite(run["losses_mirrored"][key]) and np.isfinite(run["losses_one_device"][key])
        np.testing.assert_allclose(run["losses_mirrored"][key], run["losses_one_device"][key], rtol=1e-5, atol=1e-6,
                                   err_msg=key)


def test_wgan_clipping_under_mirrored_matches_one_device(results):
    run = results["wgan"]
    assert run["steps"] == [STEPS, STEPS] and run["d_steps"] == [3 * STEPS, 3 * STEPS]
    assert run["num_copies"] == 2
    assert run["initial_max_abs"] > 4 * CLIP  # glorot init is well outside the box: clipping has work to do
    assert run["max_abs_any_copy"] <= CLIP + 1e-7, run  # every weight of every replica's copy is clipped
    assert run["copies_max_diff"] == 0.0, run  # the replicas clip identically
    assert run["fraction_on_bound"] > 0.2 and run["fraction_inside"] > 0.2, run  # clipping is active, not saturated
    assert run["weights_max_diff"] < 1e-5, run
    _assert_same_losses(run)
    # Controls: the comparison and the per-copy checks can fail.
    assert run["wrong_average_weights_max_diff"] > 1e-3, run
    assert run["replica_zero_clip"]["max_abs_any_copy"] > 2 * CLIP, run
    assert run["replica_zero_clip"]["copies_max_diff"] > CLIP, run


def test_historical_averaging_under_mirrored_matches_one_device(results):
    run = results["historical"]
    assert run["steps"] == [STEPS, STEPS] and run["recorded_steps"] == [STEPS, STEPS]
    assert run["num_weights"][0] == run["num_weights"][1]
    _assert_same_losses(run)
    assert run["weights_max_diff"] < 1e-5, run  # parameters, running means and counts
    # The running means are the hand-computed means of the parameters seen, on every replica's copy.
    assert max(run["running_mean_error"]) < 1e-6, run
    assert run["counts"][0] == [STEPS + 1.0] * 2 and run["counts"][1] == [STEPS + 1.0] * 4, run
    assert all(p > 0 for p in run["final_penalty"]), run
    # Controls: the penalty changes training, and counting it once per replica would be caught.
    assert run["without_max_diff"] > 1e-3, run
    assert run["doubled_weight_max_diff"] > 1e-3, run


if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(_run(), f)
