"""`tfgan generate --inputs`: image-to-image translation of image files from a pix2pix and an SRGAN run, their
SavedModels, `.tflite` files and REST / gRPC serving (issue #17, section 2)."""

import json
import os
import sys

import keras
import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))

from _export_fixtures import write_run_dir  # noqa: E402
from tfgan_app.architectures.srgan import srgan_generator  # noqa: E402
from tfgan_app.architectures.unet import unet_generator  # noqa: E402
from tfgan_app.artifacts import IMAGE_TO_IMAGE, open_generator  # noqa: E402
from tfgan_app.cli.main import main  # noqa: E402
from tfgan_app.export import export_run  # noqa: E402
from tfgan_app.images import from_uint8, to_uint8  # noqa: E402
from tfgan_app.serving import LocalModelServer  # noqa: E402

PIX2PIX_SHAPE, SRGAN_SHAPE = (16, 16, 1), (8, 8, 1)


def _write_run(path, generator, name):
    """A run directory as `tfgan train` writes it for an image-to-image preset (its latent_dim is unused)."""
    os.makedirs(path)
    generator.save(os.path.join(path, "generator.keras"))
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump({"name": name, "latent_dim": 100, "num_classes": None}, f)
    return path


def _write_inputs(folder, shape, count, seed):
    """`count` random grey PNGs `input_<i>.png` of `shape`; returns their uint8 pixels [N, H, W, C]."""
    os.makedirs(folder, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, size=(count, *shape), dtype=np.uint8)
    for i, image in enumerate(pixels):
        Image.fromarray(image[..., 0]).save(os.path.join(folder, f"input_{i}.png"))
    return pixels


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("translate")
    keras.utils.set_random_seed(0)
    models = {"pix2pix": unet_generator(PIX2PIX_SHAPE, base_filters=4, max_filters=8, depth=2),
              "srgan": srgan_generator(SRGAN_SHAPE, scale=2, filters=4, num_blocks=1)}
    base = str(root / "export")
    out = {"root": root, "base": base, "models": models}
    for name, model in models.items():
        run_dir = _write_run(str(root / f"{name}_run"), model, name)
        result = export_run(run_dir, base_dir=base, quantizations=["float32"])
        out[name] = {"run": run_dir, "savedmodel": result.version_dir,
                     "tflite": os.path.join(result.version_dir, "tflite", "generator_float32.tflite"),
                     "inputs": str(root / f"{name}_inputs")}
        out[name]["pixels"] = _write_inputs(out[name]["inputs"], model.inputs[0].shape[1:], 3, seed=len(name))
    server = LocalModelServer(base, rest_port=0, grpc_port=0).start()
    out["server"] = server
    yield out
    server.stop()


def _model_spec(runs, name, form):
    if form in ("run", "savedmodel", "tflite"):
        return runs[name][form]
    server = runs["server"]
    return f"{server.rest_url}/{name}" if form == "rest" else f"grpc://127.0.0.1:{server.grpc_port}/{name}"


def _expected(model, pixels):
    return to_uint8(np.asarray(model(from_uint8(pixels), training=False)))


@pytest.mark.parametrize("name", ["pix2pix", "srgan"])
@pytest.mark.parametrize("form", ["run", "savedmodel", "tflite", "rest", "grpc"])
def test_translates_every_input_file_into_a_png_of_the_same_name(runs, name, form, tmp_path):
    out = tmp_path / "out"
    spec = _model_spec(runs, name, form)
    assert main(["tfgan", "generate", f"--model={spec}", f"--inputs={runs[name]['inputs']}",
                 f"--output_dir={out}"]) == 0
    assert sorted(os.listdir(out)) == ["input_0.png", "input_1.png", "input_2.png"]
    expected = _expected(runs["models"][name], runs[name]["pixels"])
    written = np.stack([np.asarray(Image.open(out / f"input_{i}.png")) for i in range(3)])[..., None]
    assert written.shape == expected.shape  # SRGAN: twice the input size
    # float32 everywhere: at most one grey level apart from Keras (rounding of nearly equal floats).
    assert np.abs(written.astype(int) - expected.astype(int)).max() <= 1


def test_glob_and_single_file_inputs(runs, tmp_path):
    pattern = os.path.join(runs["srgan"]["inputs"], "input_[01].png")
    assert main(["tfgan", "generate", f"--model={runs['srgan']['run']}", f"--inputs={pattern}",
                 f"--output_dir={tmp_path / 'glob'}"]) == 0
    assert sorted(os.listdir(tmp_path / "glob")) == ["input_0.png", "input_1.png"]
    one = os.path.join(runs["srgan"]["inputs"], "input_2.png")
    assert main(["tfgan", "generate", f"--model={runs['srgan']['savedmodel']}", f"--inputs={one}",
                 f"--output_dir={tmp_path / 'one'}"]) == 0
    assert os.listdir(tmp_path / "one") == ["input_2.png"]


def test_wrong_size_is_an_error_naming_the_size_unless_resize(runs, tmp_path, capsys):
    folder = tmp_path / "big"
    pixels = _write_inputs(str(folder), (24, 20, 1), 1, seed=7)
    args = ["tfgan", "generate", f"--model={runs['pix2pix']['tflite']}", f"--inputs={folder}",
            f"--output_dir={tmp_path / 'out'}"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "is 24x20 pixels" in err and "expects 16x16" in err and "--resize" in err
    assert not os.path.exists(tmp_path / "out" / "input_0.png")
    assert main(args + ["--resize"]) == 0
    resized = np.asarray(Image.fromarray(pixels[0, ..., 0]).resize((16, 16), Image.BILINEAR))[None, ..., None]
    written = np.asarray(Image.open(tmp_path / "out" / "input_0.png"))[None, ..., None]
    assert np.abs(written.astype(int) - _expected(runs["models"]["pix2pix"], resized).astype(int)).max() <= 1


def test_misuse_is_a_clear_error(runs, tmp_path, capsys):
    inputs = runs["pix2pix"]["inputs"]
    # An image-to-image model asked to sample images, once a Keras shape error.
    assert main(["tfgan", "generate", f"--model={runs['pix2pix']['run']}", f"--grid={tmp_path / 'g.png'}"]) == 2
    assert "image-to-image generator" in capsys.readouterr().err
    assert main(["tfgan", "generate", f"--model={runs['pix2pix']['run']}", f"--inputs={inputs}"]) == 2
    assert "--output_dir" in capsys.readouterr().err
    assert main(["tfgan", "generate", f"--model={runs['pix2pix']['run']}", f"--inputs={inputs}",
                 f"--output_dir={tmp_path}", "--num_images=4"]) == 2
    assert "--num_images" in capsys.readouterr().err
    assert main(["tfgan", "generate", f"--model={runs['pix2pix']['run']}", f"--inputs={tmp_path / 'none*.png'}",
                 f"--output_dir={tmp_path}"]) == 2
    assert "names no image file" in capsys.readouterr().err
    assert main(["tfgan", "generate", f"--model={runs['pix2pix']['run']}", "--resize",
                 f"--output_dir={tmp_path}"]) == 2
    assert "--resize applies to --inputs" in capsys.readouterr().err
    latent_run = write_run_dir(str(tmp_path / "latent_run"))
    assert main(["tfgan", "generate", f"--model={latent_run}", f"--inputs={inputs}",
                 f"--output_dir={tmp_path / 'latent_out'}"]) == 2
    assert "needs an image-to-image generator" in capsys.readouterr().err


def test_open_generator_describes_an_image_to_image_model(runs):
    with open_generator(runs["srgan"]["tflite"]) as generator:
        assert generator.kind == IMAGE_TO_IMAGE
        assert generator.describe() == {"form": "tflite", "kind": "image_to_image", "input_shape": [8, 8, 1]}
        with pytest.raises(Exception, match="image-to-image"):
            generator(np.zeros([1, 8], np.float32))
