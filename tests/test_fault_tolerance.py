"""Fault tolerance: SIGKILL mid-epoch then resume from the backup; NaN stops with the last checkpoint intact.

The kill test runs `tfgan train --backup_dir=...` in a subprocess (this file
run as a script, which only adds a callback that parks the run in the middle of
epoch 3 so the kill lands there deterministically), SIGKILLs it, runs the
same command again and checks that the resumed run trained only the remaining
epochs and ended with the step counters of an uninterrupted run.
"""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from test_distribute import write_images, write_tiny_preset
from tfgan_app import presets, training
from tfgan_app.errors import TrainingDivergedError

PAUSE_ENV = "TFGAN_TEST_PAUSE_FILE"
EPOCHS, STEPS = 4, 4  # 32 images in batches of 8
PAUSE_EPOCH = 2  # 0-based: the kill lands in the third epoch, after the backup of the second


class _ParkMidEpoch(keras.callbacks.Callback):
    """Writes `marker` in the middle of epoch `epoch`, then blocks until the process is killed."""

    def __init__(self, marker: str, epoch: int):
        super().__init__()
        self.marker, self.epoch, self.current = marker, epoch, -1

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == 1:
            with open(self.marker, "w", encoding="utf-8") as f:
                f.write(str(int(self.model.g_optimizer.iterations.numpy())))
            time.sleep(600)


def _command(tmp_path):
    return [sys.executable, __file__, "train", f"--model={write_tiny_preset(tmp_path / 'tiny.json', epochs=EPOCHS)}",
            f"--dataset={write_images(tmp_path / 'images', num=32)}", f"--output_dir={tmp_path / 'run'}",
            f"--backup_dir={tmp_path / 'backup'}"]


def test_sigkill_mid_epoch_resumes_from_the_last_backup(tmp_path):
    command, marker = _command(tmp_path), tmp_path / "paused"
    with open(tmp_path / "first_run.log", "w", encoding="utf-8") as log:  # a file: a full pipe would block it
        first = subprocess.Popen(command, env={**os.environ, PAUSE_ENV: str(marker)}, stdout=log,
                                 stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 150
        while not marker.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), "the first run never reached epoch 3:\n" + (tmp_path / "first_run.log").read_text()
        assert int(marker.read_text()) == PAUSE_EPOCH * STEPS + 2  # mid-epoch: 2 of its 4 steps done
        with open(tmp_path / "backup" / "training_metadata.json", encoding="utf-8") as f:
            assert json.load(f)["epoch"] == PAUSE_EPOCH  # the backup written at the end of epoch 2
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == -signal.SIGKILL
    assert not (tmp_path / "run" / "gan.keras").exists()

    second = subprocess.run(command, capture_output=True, text=True, timeout=150)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    # Resumed at epoch 3: epochs 1-2 are not repeated, 3-4 are trained once.
    assert "Epoch 1/" not in second.stdout and "Epoch 2/" not in second.stdout
    assert f"Epoch 3/{EPOCHS}" in second.stdout and f"Epoch 4/{EPOCHS}" in second.stdout
    gan = keras.saving.load_model(tmp_path / "run" / "gan.keras")
    # The step counters (which also seed the training latents) continue from the backup: the totals
    # of an uninterrupted run, not 2 epochs' worth (state lost) nor 6 (epochs replayed).
    assert int(gan.d_optimizer.iterations.numpy()) == EPOCHS * STEPS
    assert int(gan.g_optimizer.iterations.numpy()) == EPOCHS * STEPS
    assert not (tmp_path / "backup").exists()  # a completed run deletes its backup


class _InjectNaN(keras.callbacks.Callback):
    """Sets the discriminator's first kernel to NaN before batch 1 of epoch `epoch`."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch, self.current = epoch, -1

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.current == self.epoch and batch == 1:
            kernel = self.model.discriminator.trainable_variables[0]
            kernel.assign(np.full(kernel.shape, np.nan, kernel.dtype))


def test_nan_loss_stops_with_a_clear_error_and_the_last_checkpoint_loads(tmp_path):
    preset = presets.load_preset(write_tiny_preset(tmp_path / "tiny.json", epochs=3))
    preset.dataset = write_images(tmp_path / "images", num=32)
    with pytest.raises(TrainingDivergedError, match=r"d_loss became nan at batch 1: training diverged"):
        training.train(preset, str(tmp_path / "run"), extra_callbacks=[_InjectNaN(epoch=1)], verbose=0,
                       backup_dir=str(tmp_path / "backup"))
    assert not (tmp_path / "run" / "gan.keras").exists()

    checkpoint = keras.saving.load_model(tmp_path / "run" / "checkpoints" / "gan.keras")
    assert int(checkpoint.g_optimizer.iterations.numpy()) == STEPS  # written at the end of epoch 1
    assert all(np.all(np.isfinite(w.numpy())) for w in checkpoint.weights)
    with open(tmp_path / "backup" / "training_metadata.json", encoding="utf-8") as f:
        assert json.load(f)["epoch"] == 1  # the backup still holds epoch 1, ready to resume from


if __name__ == "__main__":
    from tfgan_app.cli.main import main

    if os.environ.get(PAUSE_ENV):
        run_training = training.train
        training.train = lambda *args, extra_callbacks=(), **kwargs: run_training(
            *args, extra_callbacks=[*extra_callbacks, _ParkMidEpoch(os.environ[PAUSE_ENV], PAUSE_EPOCH)], **kwargs)
    sys.exit(main(["tfgan", *sys.argv[1:]]))
