"""`tfgan train` end to end on a tiny run, and its error messages for bad input."""

import json
import os
import re

import keras
import numpy as np
import pytest
from PIL import Image

from tfgan_app.cli.main import main

TINY = ["--set", "image_size=8", "--set", "generator_options.base_filters=4",
        "--set", "discriminator_options.base_filters=4", "--batch_size=4", "--latent_dim=8"]


def test_train_writes_models_samples_logs_and_checkpoints(image_folder, tmp_path, capsys):
    out = str(tmp_path / "run")
    code = main(["tfgan", "train", f"--dataset=folder:{image_folder}", "--epochs=2", f"--output_dir={out}"] + TINY)
    assert code == 0
    assert "Done in" in capsys.readouterr().out
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["image_shape"] == [8, 8, 3] and config["latent_dim"] == 8 and config["epochs"] == 2
    generator = keras.saving.load_model(os.path.join(out, "generator.keras"))
    assert generator(np.zeros((2, 8), "float32")).shape == (2, 8, 8, 3)
    gan = keras.saving.load_model(os.path.join(out, "gan.keras"))
    assert int(gan.g_optimizer.iterations) == 6  # 12 images / batch 4 = 3 steps x 2 epochs
    for epoch in (1, 2):
        grid = Image.open(os.path.join(out, "samples", f"epoch_{epoch:04d}.png"))
        assert grid.size[0] > 8 * 8  # an 8x8 grid of 8x8 images with padding
    assert os.listdir(os.path.join(out, "logs", "train")) and os.listdir(os.path.join(out, "logs", "samples"))
    assert os.path.exists(os.path.join(out, "checkpoints", "gan.keras"))


def test_help_teaches_the_flags(capsys):
    assert main(["tfgan", "train", "--help"]) == 0
    text = capsys.readouterr().out
    assert "Examples:" in text and "--model" in text and "--set" in text and "--list_models" in text


def test_list_models(capsys):
    assert main(["tfgan", "train", "--list_models"]) == 0
    assert "dcgan_mnist" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--model=nope"], "Unknown model preset 'nope'. Available presets:"),
    (["--batch_size=0"], "batch_size must be a positive integer"),
    (["--epochs=0"], "epochs must be a positive integer"),
    (["--dataset=imagenet"], "Unknown dataset 'imagenet'. Valid datasets:"),
    (["--set", "image_size=30"], r"DCGAN needs square 1- or 3-channel images"),
    (["--set", "loss=wgan"], "Unknown GAN loss 'wgan'"),
    (["--no_such_flag=1"], "Run `tfgan train --help`"),
])
def test_bad_input_is_one_clear_line(args, message, capsys, tmp_path):
    code = main(["tfgan", "train", f"--output_dir={tmp_path}"] + args)
    err = capsys.readouterr().err
    assert code == 2
    assert re.search(message, err), err
    assert "Traceback" not in err


def test_unknown_command(capsys):
    assert main(["tfgan", "trian"]) == 2
    assert "unknown command 'trian'" in capsys.readouterr().err


def _summary_steps(folder):
    """{tag: sorted steps} of the TensorBoard event files in `folder`."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    steps = {}
    for name in os.listdir(folder):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name)):
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(int(event.step))
    return {tag: sorted(s) for tag, s in steps.items()}


def test_tensorboard_logs_every_n_steps_and_images_share_the_epoch_origin(image_folder, tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["tfgan", "train", f"--dataset=folder:{image_folder}", "--epochs=2", "--steps_per_epoch=4",
                 "--log_every_steps=2", f"--output_dir={out}"] + TINY) == 0
    scalars = _summary_steps(os.path.join(out, "logs", "train"))
    images = _summary_steps(os.path.join(out, "logs", "samples"))
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert scalars[f"batch_{name}"] == [2, 4, 6, 8], scalars  # every 2 of the 8 steps
        assert scalars[f"epoch_{name}"] == [0, 1]
    assert images["samples"] == scalars["epoch_d_loss"]  # the grid after epoch k at the step of epoch k's scalars
    assert main(["tfgan", "train", "--help"]) == 0
    assert "d_real and d_fake are the mean raw discriminator output" in capsys.readouterr().out


def test_quality_report_says_what_it_is_doing_before_it_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)  # a terminal: the bar is drawn (not in a log file)
    out = str(tmp_path / "run")
    assert main(["tfgan", "train", "--dataset=mnist", "--epochs=1", "--steps_per_epoch=1", "--batch_size=4",
                 "--latent_dim=8", "--set", "generator_options.base_filters=4",
                 "--set", "discriminator_options.base_filters=4", f"--output_dir={out}"]) == 0
    text = capsys.readouterr().out
    notice = text.find("Sample quality: generating 2000 images and classifying them with the shipped mnist")
    assert 0 <= notice < text.find("Sample quality (2000 samples"), text
    # ... and counts the samples as it generates them (a Keras progress bar).
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text[notice:])  # without the bar's colour codes
    assert re.search(r"2000/2000 .*sample", plain), text
