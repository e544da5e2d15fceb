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
