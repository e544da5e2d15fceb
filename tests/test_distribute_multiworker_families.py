"""One preset of each family trains under `MultiWorkerMirroredStrategy` with 2 local workers, EMA on.

Families: latent (dcgan_mnist), conditional (cgan_mnist), image-to-image (pix2pix_mnist_edges),
CycleGAN (cyclegan_mnist_fashion: no EMA, CycleGAN rejects it), StyleGAN (stylegan_mnist) and
text (textgan_mnist). `scripts/launch_workers.py` starts this file as a script twice with
TF_CONFIG on loopback (free ports); each worker builds the strategy once and trains the six
presets in turn, 2 steps of a global batch of 8 each (the EMA from step 0, so it moves).
The README promises that worker i writes the chief's trained weights: the test compares every
trainable weight of both `gan.keras` files, the whole EMA generator (BN statistics included)
and the step counts.
Before the EMA fix, the first preset died with `ValueError: destinations can not be empty`.
"""

import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAMILIES = {"latent": "dcgan_mnist", "conditional": "cgan_mnist", "image_to_image": "pix2pix_mnist_edges",
            "cyclegan": "cyclegan_mnist_fashion", "stylegan": "stylegan_mnist", "text": "textgan_mnist"}
NO_EMA = ("cyclegan_mnist_fashion",)
SHRINK = ["epochs=1", "steps_per_epoch=2", "batch_size=8"]


def _overrides(name: str):
    return SHRINK + ([] if name in NO_EMA else ["gan_options.ema_decay=0.9", "gan_options.ema_start=0"])


def _worker(out: str) -> None:
    from tfgan_app import distribute, presets, training  # pylint: disable=import-outside-toplevel
    strategy = distribute.get_strategy("multi_worker")
    for name in FAMILIES.values():
        preset = presets.apply_overrides(presets.load_preset(name), _overrides(name))
        training.train(preset, os.path.join(out, name), strategy=strategy, verbose=2)
        print(f"trained {name}", flush=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("families")
    command = [sys.executable, os.path.join(ROOT, "scripts", "launch_workers.py"), "--num_workers=2",
               "--timeout=500", "--", sys.executable, __file__, str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=560, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    return out, proc.stdout


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_trains_multi_worker_and_workers_hold_identical_weights(runs, family):
    import keras  # pylint: disable=import-outside-toplevel
    importlib.import_module("tfgan_app.training")  # registers every GAN class for load_model
    out, stdout = runs
    name = FAMILIES[family]
    for worker in (0, 1):
        assert f"[worker {worker}] trained {name}" in stdout, stdout[-3000:]
    chief = keras.saving.load_model(out / name / "gan.keras")
    other = keras.saving.load_model(out / name / "workers" / "worker_1" / "gan.keras")
    if name not in NO_EMA:
        assert chief.ema_decay == 0.9 and other.ema_decay == 0.9
        assert any(not np.array_equal(a.numpy(), b.numpy())  # the average lags the trained generator
                   for a, b in zip(chief.ema_generator.weights, chief.generator.weights)), name
    for gan in (chief, other):
        for optimizer in ("g_optimizer", "d_optimizer"):
            if getattr(gan, optimizer, None) is not None:
                assert int(getattr(gan, optimizer).iterations.numpy()) == 2, (name, optimizer)
    # What training agrees on is identical on both workers: every trainable weight (both networks, all
    # heads) and the EMA generator (what is sampled, saved as generator.keras and exported), whose BN
    # statistics are averaged over the replicas. Per-replica state may differ (the README says so): the raw
    # networks' BN moving statistics, CycleGAN's image pools, StyleGAN's raw truncation average.
    assert len(chief.trainable_weights) == len(other.trainable_weights) > 0
    for a, b in zip(chief.trainable_weights, other.trainable_weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"{name}: {a.path}")
    if name not in NO_EMA:
        for a, b in zip(chief.ema_generator.weights, other.ema_generator.weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"{name}: EMA {a.path}")

if __name__ == "__main__":
    _worker(sys.argv[1])
