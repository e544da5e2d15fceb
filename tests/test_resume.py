"""Every run resumes like stylegan2-ada's or lucidrains' trainers: no extra flags, on the batch it stopped.

A run backs itself up to `<run>/backup` every `backup_every_steps` steps and at epoch ends. Killed mid-epoch
(here: a callback raising) and run again, it skips the batches it already trained and ends with weights
bit-identical to an uninterrupted run of the same seed; killed before its first backup it starts over; a
finished run continues for more epochs with `resume=True` (`tfgan train --resume=RUN --epochs=N`), again
bit-identical to a run trained that long in one go.
"""

import os

import keras
import numpy as np
import pytest

from test_distribute import write_images, write_tiny_preset
from tfgan_app import presets, training
from tfgan_app.cli import main as cli_main

EPOCHS = 3  # 40 images in batches of 8: 5 steps per epoch, one pass each (the default, no steps_per_epoch)


class _Crash(Exception):
    pass


class _CrashAt(keras.callbacks.Callback):
    """Raises after the `step`-th training step of the run (1-based), as a killed process stops there."""

    def __init__(self, step):
        super().__init__()
        self.step, self.seen = step, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.step:
            raise _Crash(f"killed after step {self.step}")


def _preset(folder, epochs=EPOCHS):
    path = write_tiny_preset(folder / f"tiny_{epochs}.json", epochs=epochs, log_every_steps=3,
                             gan_options={"ema_decay": 0.9})
    images = write_images(folder / "images", num=40)
    return presets.apply_overrides(presets.load_preset(path), [f'dataset="{images}"'])


def _state(run_dir):
    """Every variable of the run's saved GAN: networks, EMA copy, both optimizers' moments and counters."""
    gan = keras.saving.load_model(os.path.join(run_dir, "gan.keras"))
    variables = gan.weights + gan.d_optimizer.variables + gan.g_optimizer.variables
    return [(v.path, np.array(v.numpy())) for v in variables]  # in creation order (names get unique suffixes)


def _assert_identical(run_a, run_b):
    a, b = _state(run_a), _state(run_b)
    assert len(a) == len(b)
    different = [(name, float(np.max(np.abs(x - y)))) for (name, x), (_, y) in zip(a, b) if not np.array_equal(x, y)]
    assert not different, f"{len(different)} of {len(a)} variables differ, e.g. {different[:3]}"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uninterrupted")
    training.train(_preset(folder), str(folder / "run"), verbose=0, backup_every_steps=2)
    return folder / "run"


def test_killed_mid_epoch_resumes_bit_identical(tmp_path, uninterrupted):
    preset, run = _preset(tmp_path), str(tmp_path / "run")
    with pytest.raises(_Crash):  # step 8 = batch 3 of epoch 2; the last backup was after step 7
        training.train(preset, run, verbose=0, backup_every_steps=2, extra_callbacks=[_CrashAt(8)])
    assert training.start_point(run, os.path.join(run, "backup")) == training.StartPoint(
        "resume", 1, 2, os.path.join(run, "backup"))
    result = training.train(preset, run, verbose=0, backup_every_steps=2)
    assert len(result.history["d_loss"]) == EPOCHS - 1  # the rest of epoch 2, then epoch 3
    assert not os.path.exists(os.path.join(run, "backup"))
    _assert_identical(uninterrupted, run)


def test_killed_before_its_first_backup_restarts_cleanly(tmp_path):
    preset, run = _preset(tmp_path), str(tmp_path / "run")
    with pytest.raises(_Crash):
        training.train(preset, run, verbose=0, backup_every_steps=None, extra_callbacks=[_CrashAt(2)])
    assert training.start_point(run, os.path.join(run, "backup")).mode == "restart"
    result = training.train(preset, run, verbose=0)
    assert len(result.history["d_loss"]) == EPOCHS and os.path.isfile(result.generator_path)


def test_resume_continues_a_finished_run_for_more_epochs(tmp_path, uninterrupted, capsys):
    preset, run = _preset(tmp_path, epochs=EPOCHS - 1), str(tmp_path / "run")
    training.train(preset, run, verbose=0)
    assert cli_main.main(["tfgan", "train", f"--resume={run}", f"--epochs={EPOCHS}"]) == 0
    first_line = capsys.readouterr().out.splitlines()[0]
    assert first_line.startswith(f"Continuing the finished run in {run} from {os.path.join(run, 'gan.keras')} "
                                 f"(after epoch {EPOCHS - 1})"), first_line
    _assert_identical(uninterrupted, run)
    assert cli_main.main(["tfgan", "train", f"--resume={run}", f"--epochs={EPOCHS}"]) == 2
    assert f"already trained {EPOCHS} epochs" in capsys.readouterr().err
