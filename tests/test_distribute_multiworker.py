"""Two `MultiWorkerMirroredStrategy` workers on loopback train one GAN and agree on its weights.

`scripts/launch_workers.py` starts two `tfgan train --strategy=multi_worker`
processes with TF_CONFIG on 127.0.0.1 (free ports); a timeout turns a hang into
a failure. Worker 0 writes the run folder, worker 1 its own copy under
`workers/worker_1`; after training, both hold the same weights and the same
optimizer step counts, and the logged losses are the global ones on both.
"""

import os
import re
import subprocess
import sys

import keras
import numpy as np

from test_distribute import write_images, write_tiny_preset

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_two_workers_on_loopback_agree_on_the_final_weights(tmp_path):
    dataset = write_images(tmp_path / "images", num=32)
    preset = write_tiny_preset(tmp_path / "tiny.json", epochs=2)
    out = tmp_path / "run"
    command = [sys.executable, os.path.join(REPO, "scripts", "launch_workers.py"), "--num_workers=2",
               "--timeout=200", "--", sys.executable, "-m", "tfgan_app.cli.main", "train", "--strategy=multi_worker",
               f"--model={preset}", f"--dataset={dataset}", f"--output_dir={out}"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "CollectiveAllReduceStrategy with 2 replica(s)" in proc.stdout

    chief = keras.saving.load_model(out / "gan.keras")
    worker = keras.saving.load_model(out / "workers" / "worker_1" / "gan.keras")
    steps = 2 * 32 // 8  # 2 epochs of 32 examples in global batches of 8
    for gan in (chief, worker):
        assert int(gan.d_optimizer.iterations.numpy()) == steps
        assert int(gan.g_optimizer.iterations.numpy()) == steps
    for a, b in zip(chief.weights, worker.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)

    # Each worker prints the epoch's global losses: the same line on both.
    lines = {w: re.findall(rf"\[worker {w}\] .*d_loss: ([-\d.e+]+).*g_loss: ([-\d.e+]+)", proc.stdout) for w in (0, 1)}
    assert len(lines[0]) == 2 and lines[0] == lines[1], lines


def test_two_workers_train_an_ema_generator_with_batchnorm(tmp_path):
    """EMA + BatchNormalization under MultiWorkerMirroredStrategy (the default preset's combination).

    The EMA averages the BN moving statistics over the replicas; with one replica per worker the
    all-reduce used to get an empty destination (`ValueError: destinations can not be empty`).
    """
    dataset = write_images(tmp_path / "images", num=32, size=28)
    preset = write_tiny_preset(tmp_path / "tiny_ema.json", gan_options={"ema_decay": 0.9},
                               generator="dcgan", generator_options={"base_filters": 8},
                               discriminator="dcgan", discriminator_options={"base_filters": 8})
    out = tmp_path / "run"
    command = [sys.executable, os.path.join(REPO, "scripts", "launch_workers.py"), "--num_workers=2",
               "--timeout=200", "--", sys.executable, "-m", "tfgan_app.cli.main", "train", "--strategy=multi_worker",
               f"--model={preset}", f"--dataset={dataset}", f"--output_dir={out}"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    chief = keras.saving.load_model(out / "gan.keras")
    worker = keras.saving.load_model(out / "workers" / "worker_1" / "gan.keras")
    assert any("moving_mean" in v.path for v in chief.ema_generator.weights)
    # The EMA generator (BN statistics averaged over the replicas) and every trained weight agree; the raw
    # networks' BN moving statistics are per replica in Keras (see the README) and may not.
    for a, b in zip(chief.ema_generator.weights + chief.trainable_weights,
                    worker.ema_generator.weights + worker.trainable_weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
