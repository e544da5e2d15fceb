"""Streaming generation (`tfgan generate --output_dir` in bounded batches) and int8 calibration on run data."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM, NUM_CLASSES, keras_images, write_run_dir  # noqa: E402

from tfgan_app.cli.main import main  # noqa: E402
from tfgan_app.export import export_run, load_keras_generator  # noqa: E402
from tfgan_app.artifacts.generators import generate_images, open_generator  # noqa: E402
from tfgan_app.generation.streaming import image_file_name, latent_slice, stream_images  # noqa: E402
from tfgan_app.images import to_uint8  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("start, count, latent_dim, seed", [(0, 5, 8, 0), (1, 1, 7, 3), (3, 17, 7, 3),
                                                            (250, 6, 5, 11), (999, 1, 64, 2)])
def test_latent_slice_is_exactly_that_slice_of_sample_latents(start, count, latent_dim, seed):
    full = sample_latents(start + count + 3, latent_dim, seed).numpy()
    np.testing.assert_array_equal(latent_slice(start, count, latent_dim, seed), full[start:start + count])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    return {"plain": write_run_dir(str(root / "plain")), "cond": write_run_dir(str(root / "cond"), conditional=True)}


@pytest.mark.parametrize("kind, labels", [("plain", None), ("cond", None), ("cond", [2, 0])])
def test_streamed_batches_are_the_images_generate_images_returns(runs, kind, labels):
    with open_generator(runs[kind]) as source:
        expected = generate_images(source, 23, seed=4, labels=labels)
        batches = list(stream_images(source, 23, seed=4, labels=labels, batch_size=5))
    assert [start for start, _ in batches] == [0, 5, 10, 15, 20]
    assert max(len(images) for _, images in batches) == 5
    np.testing.assert_allclose(np.concatenate([images for _, images in batches]), expected, atol=1e-6)


def test_cli_writes_every_image_in_batches_with_a_summary(runs, tmp_path, capsys):
    out = tmp_path / "images"
    assert main(["tfgan", "generate", f"--model={runs['cond']}", "--num_images=11", "--batch_size=4",
                 f"--output_dir={out}", "--seed=3"]) == 0
    printed = capsys.readouterr().out
    assert "Wrote 11 images" in printed and "images/s" in printed
    assert sorted(os.listdir(out)) == [image_file_name(i, 11) for i in range(11)]
    generator = load_keras_generator(os.path.join(runs["cond"], "generator.keras"))
    expected = to_uint8(keras_images(generator, sample_latents(11, LATENT_DIM, 3).numpy(),
                                     np.arange(11) % NUM_CLASSES))[..., 0]
    for i in (0, 4, 10):
        np.testing.assert_array_equal(np.asarray(Image.open(out / image_file_name(i, 11))), expected[i])


def test_file_names_sort_in_generation_order():
    assert image_file_name(7, 16) == "image_0007.png"
    assert image_file_name(7, 20_000) == "image_00007.png"
    assert sorted(image_file_name(i, 20_000) for i in (9999, 10000, 2)) == [
        image_file_name(i, 20_000) for i in (2, 9999, 10000)]


@pytest.mark.parametrize("flags, message", [(["--batch_size=0"], "--batch_size"),
                                            (["--num_images=20000", "--grid=g.png"], "--num_images <= ")])
def test_bad_streaming_flags_are_one_line_errors(runs, tmp_path, capsys, flags, message):
    assert main(["tfgan", "generate", f"--model={runs['plain']}", f"--output_dir={tmp_path}"] + flags) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1


def _wide_run_dir(path: str) -> str:
    """A run dir whose generator makes 32x32x3 images: 20,000 of them are 234 MiB as float32."""
    keras.utils.set_random_seed(0)
    z = keras.Input((LATENT_DIM,))
    h = keras.layers.Reshape((2, 2, 2))(keras.layers.Dense(8)(z))
    out = keras.layers.Conv2DTranspose(3, 3, strides=16, padding="same", activation="tanh")(h)
    os.makedirs(path)
    keras.Model(z, out).save(os.path.join(path, "generator.keras"))
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump({"name": "wide", "latent_dim": LATENT_DIM, "num_classes": None, "image_shape": [32, 32, 3]}, f)
    return path


def test_twenty_thousand_images_keep_memory_bounded(tmp_path):
    """Peak RSS of a 20,000-image run exceeds a 1,000-image run by less than 60 MiB (the images alone
    are 234 MiB as float32, so generating them at once cannot pass)."""
    run = _wide_run_dir(str(tmp_path / "wide"))
    script = textwrap.dedent(f"""
        import resource, sys
        from tfgan_app.cli.main import main
        peaks = []
        for n in (1000, 20000):
            assert main(["tfgan", "generate", "--model={run}", f"--num_images={{n}}",
                         f"--output_dir={tmp_path}/out_{{n}}"]) == 0
            peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print("PEAKS", *peaks)
    """)
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    small, large = map(float, proc.stdout.split("PEAKS")[-1].split())
    assert len(os.listdir(tmp_path / "out_20000")) == 20000
    assert large - small < 60, (small, large)


def _folder_run_dir(root) -> tuple:
    """A fake pix2pix run: a `paired:folder:` dataset of side-by-side 8x16 images (target | input), whose
    inputs are 12 distinct patterns of exactly +0.6 / -0.6 (far from uniform noise), and an 8x8x1 image-to-image
    generator (a Conv2D; `is_image_to_image` recognises it by its image input)."""
    train = root / "facades" / "train"
    train.mkdir(parents=True)
    rng = np.random.default_rng(0)
    inputs = []
    for i in range(12):
        bits = np.indices((8, 8)).sum(axis=0) % 2 == 0  # a checkerboard ...
        bits[0, :4] = [(i >> b) & 1 for b in range(4)]  # ... whose first row spells i: 12 distinct inputs
        source = np.where(bits, 204, 51).astype(np.uint8)  # +0.6 / -0.6
        target = rng.integers(0, 256, (8, 8), dtype=np.uint8)
        Image.fromarray(np.concatenate([target, source], axis=1)).save(train / f"{i}.png")
        inputs.append(source.astype(np.float32) / 127.5 - 1.0)
    assert len({x.tobytes() for x in inputs}) == len(inputs)
    keras.utils.set_random_seed(0)
    images = keras.Input((8, 8, 1), name="images")
    generator = keras.Model(images, keras.layers.Conv2D(1, 3, padding="same", activation="tanh")(images))
    run = root / "run"
    run.mkdir()
    generator.save(str(run / "generator.keras"))
    with open(run / "config.json", "w") as f:
        json.dump({"name": "fake_pix2pix", "dataset": f"paired:folder:{root / 'facades'}", "image_size": None,
                   "channels": None, "num_classes": None}, f)
    return str(run), np.stack(inputs)[..., None]


def test_int8_calibrates_on_the_runs_training_inputs(tmp_path, monkeypatch):
    run, inputs = _folder_run_dir(tmp_path)
    converters = []
    real = tf.lite.TFLiteConverter.from_concrete_functions

    def recording(*args, **kwargs):
        converters.append(real(*args, **kwargs))
        return converters[-1]
    monkeypatch.setattr(tf.lite.TFLiteConverter, "from_concrete_functions", recording)
    result = export_run(run, base_dir=str(tmp_path / "export"), quantizations=["int8"])
    assert result.tflite["calibration"] == "training_inputs"
    assert result.tflite["files"]["int8"]["calibration"]["inputs"] == "training_inputs"
    assert result.tflite["files"]["int8"]["calibration"]["num_images"] == 12
    # What the converter's representative dataset yields: each of the dataset's 12 inputs once (shuffled).
    yielded = [sample[0] for sample in converters[0].representative_dataset.input_gen()]
    assert [x.shape for x in yielded] == [(1, 8, 8, 1)] * 12
    matches = sorted(int(np.argmin(np.abs(inputs - x[0]).reshape(len(inputs), -1).max(axis=1))) for x in yielded)
    assert matches == list(range(12))
    np.testing.assert_allclose(np.concatenate(yielded), inputs[[int(np.argmin(np.abs(inputs - x[0]).reshape(
        len(inputs), -1).max(axis=1))) for x in yielded]], atol=1e-6)


def test_int8_calibration_falls_back_to_noise_without_data(tmp_path):
    run, _ = _folder_run_dir(tmp_path)
    config_path = os.path.join(run, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    config["dataset"] = f"paired:folder:{tmp_path / 'missing'}"
    with open(config_path, "w") as f:
        json.dump(config, f)
    result = export_run(run, base_dir=str(tmp_path / "export"), quantizations=["int8"])
    assert result.tflite["calibration"] == "noise"
    assert result.tflite["files"]["int8"]["calibration"]["images"] == "uniform in [-1, 1]"
