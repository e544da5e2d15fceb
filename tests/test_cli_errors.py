"""Bad input to any `tfgan` command is one clear error line, exit code 2, never a traceback.

Issue #13, "Clear errors instead of tracebacks": every case below printed a Python traceback
before. Each runs `tfgan_app.cli.main.main` in-process on small artifacts built here (a 2-D toy
generator, a pix2pix-style U-Net run, broken .keras files, a file where a folder should be, a
port held by another socket).
"""

import json
import os
import re
import socket
import zipfile

import pytest

from tfgan_app.architectures import mlp_generator, unet_generator
from tfgan_app.cli.main import main

TRAIN_TINY = ["--set", "image_size=8", "--set", "generator_options.base_filters=4",
              "--set", "discriminator_options.base_filters=4", "--batch_size=4", "--latent_dim=8", "--epochs=1"]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """Paths the bad inputs refer to, by name."""
    root = tmp_path_factory.mktemp("artifacts")
    toy = str(root / "toy.keras")  # a generator of 2-D points, not images
    mlp_generator(4, (2,), hidden_units=(4,), output_activation="linear").save(toy)
    pix2pix = root / "pix2pix_run"  # an image-to-image run directory
    pix2pix.mkdir()
    unet_generator((8, 8, 1), base_filters=4, depth=2).save(str(pix2pix / "generator.keras"))
    (pix2pix / "config.json").write_text(json.dumps({"name": "pix2pix_tiny", "num_classes": None}))
    (root / "text.keras").write_text("this is not a zip archive\n")
    with open(toy, "rb") as f:
        (root / "truncated.keras").write_bytes(f.read()[:200])
    with zipfile.ZipFile(root / "empty.keras", "w") as archive:
        archive.writestr("notes.txt", "a zip, but no Keras model inside")
    (root / "a_file").write_text("a file where a folder is expected\n")
    images = root / "images"  # 8 unlabelled 8x8 RGB images
    images.mkdir()
    from PIL import Image  # pylint: disable=import-outside-toplevel
    for i in range(8):
        Image.new("RGB", (8, 8), (30 * i, 0, 0)).save(images / f"{i}.png")
    return {"root": str(root), "toy": toy, "pix2pix": str(pix2pix), "text_keras": str(root / "text.keras"),
            "truncated_keras": str(root / "truncated.keras"), "empty_keras": str(root / "empty.keras"),
            "file": str(root / "a_file"), "images": str(images)}


@pytest.fixture
def busy_port():
    """A port held by a listening socket for the duration of the test."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield holder.getsockname()[1]


def _train(*args):
    return ["train", "--dataset=folder:{images}", "--output_dir={root}/run", *TRAIN_TINY, *args]


CASES = {
    "generate_grid_of_non_image_model": (
        ["generate", "--model={toy}", "--grid={root}/grid.png"],
        r"outputs arrays of shape \(2,\), not images"),
    "generate_output_dir_of_non_image_model": (
        ["generate", "--model={toy}", "--output_dir={root}/out"], r"not images"),
    "generator_options_null": (_train("--set", "generator_options=null"),
                               r"generator_options must be an object .* received None"),
    "generator_options_string": (_train("--set", "generator_options=abc"),
                                 r"generator_options must be an object .* received 'abc'"),
    "gan_options_null": (_train("--set", "gan_options=null"), r"gan_options must be an object"),
    "negative_base_filters": (_train("--set", "generator_options.base_filters=-3"),
                              r"generator_options.base_filters must be a positive integer .* received -3"),
    "unknown_generator_option": (_train("--set", "generator_options.filters=3"),
                                 r"Unknown option 'filters' in generator_options of generator 'dcgan'. Valid options: base_filters"),
    "unknown_gan_option": (_train("--set", "gan_options.nope=1"),
                           r"Unknown option 'nope' in gan_options of GAN type 'gan'. Valid options: d_steps"),
    "reserved_gan_option": (_train("--set", "gan_options.latent_dim=3"), r"Unknown option 'latent_dim'"),
    "keras_file_that_is_text": (["generate", "--model={text_keras}", "--grid={root}/g.png"],
                                r"Expected a .keras model file .* is not one"),
    "truncated_keras_file": (["generate", "--model={truncated_keras}", "--grid={root}/g.png"],
                             r"Expected a .keras model file .* is not one"),
    "zip_without_keras_model": (["generate", "--model={empty_keras}", "--grid={root}/g.png"],
                                r"zip archive without \['config.json', 'metadata.json'\]"),
    "grid_under_a_file": (["generate", "--model={toy}", "--grid={file}/grid.png"],
                          r"Cannot write --grid=.*is a file, not a folder"),
    "grid_is_a_folder": (["generate", "--model={toy}", "--grid={root}"], r"Expected --grid to be a file path"),
    "generate_output_dir_is_a_file": (["generate", "--model={toy}", "--output_dir={file}"],
                                      r"Expected --output_dir to be a folder"),
    "train_output_dir_is_a_file": (["train", "--output_dir={file}", "--dataset=folder:{images}", *TRAIN_TINY],
                                   r"Expected --output_dir to be a folder"),
    "train_output_dir_under_a_file": (["train", "--output_dir={file}/run", "--dataset=folder:{images}",
                                       *TRAIN_TINY], r"Cannot write to --output_dir="),
    "train_backup_dir_is_a_file": (_train("--backup_dir={file}"), r"Expected --backup_dir to be a folder"),
    "train_backup_dir_under_a_file": (_train("--backup_dir={file}/backup"), r"Cannot write to --backup_dir="),
    "generate_from_image_to_image_run": (["generate", "--model={pix2pix}", "--grid={root}/g.png"],
                                         r"is an image-to-image generator .* does not sample them; pass --inputs"),
    "rest_port_in_use": (["serve", "--base={root}", "--rest_port={port}", "--grpc_port=0"],
                         r"Cannot bind the REST port [\d.]+:\d+: Address already in use"),
    "grpc_port_in_use": (["serve", "--base={root}", "--grpc_port={port}", "--rest_port=0"],
                         r"Cannot bind the gRPC port [\d.]+:\d+: it is in use"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_error_line(name, artifacts, busy_port, capsys):
    args, message = CASES[name]
    argv = ["tfgan"] + [arg.format(port=busy_port, **artifacts) for arg in args]
    try:
        code = main(argv)
    except Exception as e:  # pylint: disable=broad-except
        pytest.fail(f"{' '.join(argv)} raised {type(e).__name__}: {e}")
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2, err
    assert len(errors) == 1 and re.search(message, errors[0]), err
    assert "Traceback" not in err
    assert not os.path.exists(os.path.join(artifacts["root"], "run", "config.json"))  # failed before training
