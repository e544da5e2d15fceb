"""A training run does the requested amount of work, and a run folder holds exactly one run.

Issue #13 items 7 (steps_per_epoch beyond one pass of the data) and 8 (re-used output and backup
folders). Tiny DCGANs on 12 (or 80) 8x8 images keep each training to a few seconds.
"""

import json
import os

import keras
import numpy as np
import pytest
from PIL import Image

from tfgan_app import presets, training
from tfgan_app.errors import UsageError

TINY = ["image_size=8", "generator_options.base_filters=4", "discriminator_options.base_filters=4",
        "latent_dim=8", "batch_size=4"]


def tiny_preset(folder, *overrides):
    preset = presets.load_preset("dcgan_mnist")
    return presets.apply_overrides(preset, [f"dataset=\"folder:{folder}\"", *TINY, *overrides])


class StepCounter(keras.callbacks.Callback):
    """Counts the train steps `fit` actually runs."""

    def __init__(self):
        super().__init__()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1


class StopAtEpoch(keras.callbacks.Callback):
    """Interrupts training (like a crash) at the start of epoch `epoch` (0-based)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("simulated crash")


@pytest.fixture
def runs(tmp_path_factory):
    """A folder for run and backup folders, apart from `image_folder` (whose sub-folders are classes)."""
    return tmp_path_factory.mktemp("runs")


def write_images(folder, num):
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    for i in range(num):
        Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(os.path.join(folder, f"{i}.png"))
    return str(folder)


@pytest.mark.parametrize("num_images, batch_size, steps_per_epoch", [
    (12, 4, 5),  # 3 batches per pass of the data, 5 steps asked for
    (80, 64, 3),  # an 80-image folder at batch 64: one full batch per pass
])
def test_steps_per_epoch_is_honoured_beyond_one_pass(tmp_path, num_images, batch_size, steps_per_epoch):
    folder = write_images(tmp_path / "images", num_images)
    preset = tiny_preset(folder, "epochs=2", f"steps_per_epoch={steps_per_epoch}", f"batch_size={batch_size}")
    counter = StepCounter()
    result = training.train(preset, str(tmp_path / "run"), extra_callbacks=[counter], verbose=0)
    assert counter.steps == 2 * steps_per_epoch
    assert int(result.gan.g_optimizer.iterations) == 2 * steps_per_epoch
    assert len(result.history["d_loss"]) == 2  # both epochs ran


def test_finished_run_is_not_overwritten_without_overwrite(image_folder, runs):
    out = str(runs / "run")
    training.train(tiny_preset(image_folder, "epochs=2"), out, verbose=0)
    before = os.path.getmtime(os.path.join(out, "generator.keras"))
    with pytest.raises(UsageError, match=r"already holds a finished run \(preset 'dcgan_mnist'.*--overwrite"):
        training.train(tiny_preset(image_folder, "epochs=1"), out, verbose=0)
    assert os.path.getmtime(os.path.join(out, "generator.keras")) == before
    assert json.load(open(os.path.join(out, "config.json")))["epochs"] == 2  # the finished run's config kept

    # --overwrite starts over: nothing of the 2-epoch run is left beside the new 1-epoch run.
    training.train(tiny_preset(image_folder, "epochs=1"), out, verbose=0, overwrite=True)
    assert sorted(os.listdir(os.path.join(out, "samples"))) == ["epoch_0001.png"]
    assert len(os.listdir(os.path.join(out, "logs", "train"))) == 1  # one TensorBoard event file, one run
    assert json.load(open(os.path.join(out, "config.json")))["epochs"] == 1


def test_unfinished_run_without_backup_restarts_only_as_the_same_run(image_folder, runs):
    out = runs / "run"
    with pytest.raises(RuntimeError, match="simulated crash"):  # before the first epoch's backup
        training.train(tiny_preset(image_folder, "epochs=2"), str(out), extra_callbacks=[StopAtEpoch(0)], verbose=0,
                       backup_every_steps=None)
    assert (out / "config.json").exists() and not (out / "backup" / "training_metadata.json").exists()
    with pytest.raises(UsageError, match=r"holds an unfinished run .*another run .*loss: 'non_saturating' -> "
                                         r"'hinge'.*--overwrite"):
        training.train(tiny_preset(image_folder, "epochs=2", "loss=hinge"), str(out), verbose=0)
    counter = StepCounter()
    training.train(tiny_preset(image_folder, "epochs=2"), str(out), extra_callbacks=[counter], verbose=0)
    assert counter.steps == 2 * 3  # started over
    assert sorted(os.listdir(out / "samples")) == ["epoch_0001.png", "epoch_0002.png"]


def test_backup_resumes_only_the_run_it_was_made_for(image_folder, runs):
    out, backup = str(runs / "run"), str(runs / "backup")
    preset = tiny_preset(image_folder, "epochs=3")
    with pytest.raises(RuntimeError, match="simulated crash"):
        training.train(preset, out, extra_callbacks=[StopAtEpoch(1)], verbose=0, backup_dir=backup)
    assert os.path.exists(os.path.join(backup, "training_metadata.json"))

    # Same shapes, another loss: the backup's weights would load and silently continue the wrong run.
    other = tiny_preset(image_folder, "epochs=3", "loss=hinge")
    with pytest.raises(UsageError, match=r"backup of another run .*loss: 'non_saturating' -> 'hinge'"):
        training.train(other, str(runs / "other_run"), verbose=0, backup_dir=backup)

    counter = StepCounter()
    result = training.train(tiny_preset(image_folder, "epochs=3"), out, extra_callbacks=[counter], verbose=0,
                            backup_dir=backup)
    assert counter.steps == 2 * 3  # epochs 2 and 3 of 3 steps each; epoch 1 came from the backup
    assert int(result.gan.g_optimizer.iterations) == 3 * 3
    assert not os.path.exists(backup)


def test_backup_dir_with_other_files_is_refused(image_folder, runs):
    backup = runs / "backup"
    backup.mkdir()
    (backup / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match=r"--backup_dir .* holds other files"):
        training.train(tiny_preset(image_folder, "epochs=1"), str(runs / "run"), verbose=0,
                       backup_dir=str(backup))
    assert (backup / "notes.txt").read_text() == "keep me"  # Keras would have deleted the whole folder
