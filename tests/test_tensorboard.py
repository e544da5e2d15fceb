"""TensorBoard holds what users read: `epoch_*` scalars for every epoch, learning rates, images/s, sample grids.

Keras' TensorBoard callback with `update_freq=N` recorded its epoch scalars only when an epoch ended on a
multiple of N steps, so runs whose epochs did not (the default 1,875-step MNIST epochs with N=100) had none.
"""

import glob
import os
from collections import defaultdict

import tensorflow as tf

from test_distribute import write_images, write_tiny_preset
from tfgan_app import presets, training

EPOCHS, STEPS, LOG_EVERY = 3, 3, 2  # epochs end at steps 3, 6, 9: only 6 is a multiple of LOG_EVERY


def read_events(folder):
    """{tag: sorted steps} of every summary in the event files under `folder`."""
    steps = defaultdict(set)
    for path in glob.glob(os.path.join(folder, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                steps[value.tag].add(event.step)
    return {tag: sorted(found) for tag, found in steps.items()}


def test_every_epoch_has_its_scalars_whatever_log_every_steps(tmp_path):
    preset = presets.load_preset(write_tiny_preset(tmp_path / "tiny.json", epochs=EPOCHS, steps_per_epoch=STEPS,
                                                   log_every_steps=LOG_EVERY))
    preset = presets.apply_overrides(preset, [f"dataset=\"{write_images(tmp_path / 'images', num=16)}\""])
    training.train(preset, str(tmp_path / "run"), verbose=0)
    logs = tmp_path / "run" / "logs"
    train_events = read_events(logs / "train")
    every_epoch = list(range(EPOCHS))
    for tag in ("epoch_d_loss", "epoch_g_loss", "epoch_d_learning_rate", "epoch_g_learning_rate",
                "epoch_images_per_second"):
        assert train_events.get(tag) == every_epoch, (tag, sorted(train_events))
    assert train_events["batch_d_loss"] == [s for s in range(1, EPOCHS * STEPS + 1) if s % LOG_EVERY == 0]
    assert read_events(logs / "samples")["samples"] == every_epoch
