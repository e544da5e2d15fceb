"""`tfgan generate` from every artifact kind: .keras, run dir, SavedModel, .tflite, REST and gRPC."""

import os
import sys

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM, NUM_CLASSES, keras_images, write_run_dir  # noqa: E402

from tfgan_app.cli.main import main  # noqa: E402
from tfgan_app.export import export_run, load_keras_generator  # noqa: E402
from tfgan_app.images import make_grid, to_uint8  # noqa: E402
from tfgan_app.latent import class_walk, linear_interpolation, sample_latents, slerp  # noqa: E402
from tfgan_app.serving import LocalModelServer  # noqa: E402


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    root = tmp_path_factory.mktemp("generate")
    plain_run = write_run_dir(str(root / "plain_run"), name="plain")
    cond_run = write_run_dir(str(root / "cond_run"), conditional=True, name="cond")
    base = str(root / "export")
    plain = export_run(plain_run, base_dir=base, quantizations=["float32", "int8"])
    cond = export_run(cond_run, base_dir=base, quantizations=["float32"])
    server = LocalModelServer(base, rest_port=0, grpc_port=0).start()
    yield {"plain_run": plain_run, "cond_run": cond_run, "plain": plain, "cond": cond, "server": server,
           "plain_generator": load_keras_generator(os.path.join(plain_run, "generator.keras")),
           "cond_generator": load_keras_generator(os.path.join(cond_run, "generator.keras"))}
    server.stop()


def _read(path):
    return np.asarray(Image.open(path))


def _expected_grid(generator, n, seed, labels=None):
    images = keras_images(generator, sample_latents(n, LATENT_DIM, seed).numpy(), labels)
    return make_grid(to_uint8(images))[..., 0]


def _model_spec(artifacts, kind):
    version_dir = artifacts["plain"].version_dir
    server = artifacts["server"]
    return {"run_dir": artifacts["plain_run"],
            "keras": os.path.join(artifacts["plain_run"], "generator.keras"),
            "savedmodel": version_dir,
            "model_dir": os.path.dirname(version_dir),
            "tflite_float32": os.path.join(version_dir, "tflite", "generator_float32.tflite"),
            "tflite_int8": os.path.join(version_dir, "tflite", "generator_int8.tflite"),
            "rest": f"{server.rest_url}/plain",
            "grpc": f"grpc://{server.grpc_target}/plain/versions/1"}[kind]


@pytest.mark.parametrize("kind", ["run_dir", "keras", "savedmodel", "model_dir", "tflite_float32", "tflite_int8",
                                  "rest", "grpc"])
def test_grid_from_each_artifact_matches_keras(artifacts, kind, tmp_path):
    grid = str(tmp_path / "grid.png")
    assert main(["tfgan", "generate", f"--model={_model_spec(artifacts, kind)}", "--num_images=4", "--seed=3",
                 f"--grid={grid}"]) == 0
    diff = np.abs(_read(grid).astype(int) - _expected_grid(artifacts["plain_generator"], 4, 3).astype(int))
    if kind == "tflite_int8":
        assert diff.mean() <= 1.0 and diff.max() <= 8
    else:
        assert diff.max() <= 1  # float rounding may flip a pixel across a .5 grey level


def test_seed_is_reproducible_and_output_dir_has_each_image(artifacts, tmp_path):
    model = f"--model={artifacts['plain'].version_dir}"
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        assert main(["tfgan", "generate", model, "--num_images=3", f"--seed={seed}",
                     f"--output_dir={tmp_path / name}"]) == 0
    files = sorted(os.listdir(tmp_path / "a"))
    assert files == ["image_0000.png", "image_0001.png", "image_0002.png"]
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a" / files[0]).read_bytes() != (tmp_path / "c" / files[0]).read_bytes()
    expected = to_uint8(keras_images(artifacts["plain_generator"], sample_latents(3, LATENT_DIM, 1).numpy()))
    assert np.abs(_read(tmp_path / "a" / files[2]).astype(int) - expected[2, ..., 0].astype(int)).max() <= 1


@pytest.mark.parametrize("kind", ["run_dir", "savedmodel", "tflite", "grpc"])
def test_conditional_labels(artifacts, kind, tmp_path):
    version_dir = artifacts["cond"].version_dir
    model = {"run_dir": artifacts["cond_run"], "savedmodel": version_dir,
             "tflite": os.path.join(version_dir, "tflite", "generator_float32.tflite"),
             "grpc": f"grpc://{artifacts['server'].grpc_target}/cond"}[kind]
    grid = str(tmp_path / "grid.png")
    assert main(["tfgan", "generate", f"--model={model}", "--num_images=4", "--labels=2,0,1,2", f"--grid={grid}"]) == 0
    expected = _expected_grid(artifacts["cond_generator"], 4, 0, np.array([2, 0, 1, 2]))
    assert np.abs(_read(grid).astype(int) - expected.astype(int)).max() <= 1
    assert main(["tfgan", "generate", f"--model={model}", "--num_images=4", "--labels=1,0", f"--grid={grid}"]) == 0
    expected = _expected_grid(artifacts["cond_generator"], 4, 0, np.array([1, 0, 1, 0]))  # cycled like GAN.generate
    assert np.abs(_read(grid).astype(int) - expected.astype(int)).max() <= 1


def test_conditional_default_labels_cycle_classes(artifacts, tmp_path):
    grid = str(tmp_path / "grid.png")
    assert main(["tfgan", "generate", f"--model={artifacts['cond'].version_dir}", "--num_images=4",
                 f"--grid={grid}"]) == 0
    expected = _expected_grid(artifacts["cond_generator"], 4, 0, np.array([0, 1, 2, 0]))
    assert np.abs(_read(grid).astype(int) - expected.astype(int)).max() <= 1
    assert main(["tfgan", "generate", f"--model={artifacts['cond_run']}", "--labels=7", f"--grid={grid}"]) == 2


@pytest.mark.parametrize("kind", ["keras", "rest"])
def test_interpolation_strip(artifacts, kind, tmp_path):
    strip = str(tmp_path / "walk.png")
    assert main(["tfgan", "generate", f"--model={_model_spec(artifacts, kind)}", "--interpolate=5", "--seed=4",
                 f"--strip={strip}"]) == 0
    ends = sample_latents(2, LATENT_DIM, 4).numpy()
    walk = keras_images(artifacts["plain_generator"], linear_interpolation(ends[0], ends[1], 5))
    expected = make_grid(to_uint8(walk), cols=5)[..., 0]
    image = _read(strip)
    assert image.shape == (8 + 4, 5 * 10 + 2)
    assert np.abs(image.astype(int) - expected.astype(int)).max() <= 1


def test_bad_invocations_exit_2_with_a_message(artifacts, tmp_path, capsys):
    assert main(["tfgan", "generate", f"--model={tmp_path / 'nothing'}", f"--grid={tmp_path / 'g.png'}"]) == 2
    assert "Could not find a generator" in capsys.readouterr().err
    assert main(["tfgan", "generate", f"--model={artifacts['plain_run']}"]) == 2
    assert "Nothing to write" in capsys.readouterr().err
    assert main(["tfgan", "generate", f"--model={artifacts['plain_run']}", "--labels=1",
                 f"--grid={tmp_path / 'g.png'}"]) == 2
    assert "unconditional" in capsys.readouterr().err
    assert main(["tfgan", "generate", "--model=http://127.0.0.1:1/plain", "--timeout=2",
                 f"--grid={tmp_path / 'g.png'}"]) == 2
    assert "No TF Serving REST server" in capsys.readouterr().err


def test_slerp_walk_and_gif(artifacts, tmp_path):
    strip, gif = str(tmp_path / "walk.png"), str(tmp_path / "walk.gif")
    assert main(["tfgan", "generate", f"--model={_model_spec(artifacts, 'keras')}", "--interpolate=4", "--seed=4",
                 "--interpolation=slerp", f"--strip={strip}", f"--gif={gif}"]) == 0
    ends = sample_latents(2, LATENT_DIM, 4).numpy()
    walk = to_uint8(keras_images(artifacts["plain_generator"], slerp(ends[0], ends[1], 4)))
    assert np.abs(_read(strip).astype(int) - make_grid(walk, cols=4)[..., 0].astype(int)).max() <= 1
    with Image.open(gif) as animation:
        assert animation.n_frames == 4
        animation.seek(2)
        frame = np.asarray(animation.convert("L"))
    assert np.abs(frame.astype(int) - walk[2, ..., 0].astype(int)).max() <= 1


def test_class_walk_rows_are_classes_over_one_latent_path(artifacts, tmp_path):
    path = str(tmp_path / "classes.png")
    assert main(["tfgan", "generate", f"--model={artifacts['cond_run']}", f"--class_walk={path}",
                 "--interpolate=3", "--seed=2", f"--strip={tmp_path / 'walk.png'}"]) == 0
    latents, labels = class_walk(NUM_CLASSES, 3, LATENT_DIM, 2, "linear")
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    expected = make_grid(to_uint8(keras_images(artifacts["cond_generator"], latents, labels)), cols=3)[..., 0]
    assert np.abs(_read(path).astype(int) - expected.astype(int)).max() <= 1
    assert main(["tfgan", "generate", f"--model={artifacts['plain_run']}", f"--class_walk={path}"]) == 2


def test_vector_arithmetic_strip(artifacts, tmp_path, capsys):
    path = str(tmp_path / "arith.png")
    assert main(["tfgan", "generate", f"--model={artifacts['plain_run']}", "--num_images=6", "--seed=5",
                 "--arithmetic=0,1;2;3,4,5", f"--arithmetic_output={path}"]) == 0
    pool = sample_latents(6, LATENT_DIM, 5).numpy()
    result = pool[[0, 1]].mean(0) - pool[2] + pool[[3, 4, 5]].mean(0)
    latents = np.stack([pool[[0, 1]].mean(0), pool[2], pool[[3, 4, 5]].mean(0), result])
    expected = make_grid(to_uint8(keras_images(artifacts["plain_generator"], latents)), cols=4)[..., 0]
    assert np.abs(_read(path).astype(int) - expected.astype(int)).max() <= 1
    assert main(["tfgan", "generate", f"--model={artifacts['plain_run']}", "--num_images=4",
                 "--arithmetic=0;9;1", f"--arithmetic_output={path}"]) == 2
    assert "outside the 4 latents" in capsys.readouterr().err


def test_class_walk_writes_no_unrequested_interpolation_strip(artifacts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["tfgan", "generate", f"--model={artifacts['cond_run']}", "--class_walk=classes.png",
                 "--interpolate=3"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["classes.png"]


def test_scale_upscales_grid_strip_and_gif_by_nearest_neighbour(artifacts, tmp_path):
    grid, strip, gif = (str(tmp_path / name) for name in ("grid.png", "walk.png", "walk.gif"))
    args = ["tfgan", "generate", f"--model={_model_spec(artifacts, 'keras')}", "--num_images=4", "--seed=4"]
    assert main(args + [f"--grid={grid}"]) == 0
    assert main(args + ["--scale=3", f"--grid={tmp_path / 'grid3.png'}", "--interpolate=4", f"--strip={strip}",
                        f"--gif={gif}"]) == 0
    small, large = _read(grid), _read(str(tmp_path / "grid3.png"))
    # Each 8x8 cell becomes a 24x24 cell (blocks of 3x3 equal pixels); the 2-px padding is not scaled.
    cells = np.stack([small[2 + r * 10:10 + r * 10, 2 + c * 10:10 + c * 10] for r in range(2) for c in range(2)])
    big_cells = np.stack([large[2 + r * 26:26 + r * 26, 2 + c * 26:26 + c * 26] for r in range(2) for c in range(2)])
    assert large.shape == (2 * 26 + 2, 2 * 26 + 2)
    np.testing.assert_array_equal(big_cells, cells.repeat(3, axis=1).repeat(3, axis=2))
    assert _read(strip).shape == (24 + 4, 4 * 26 + 2)
    with Image.open(gif) as animation:
        assert animation.size == (24, 24)
    assert main(args + ["--scale=0", f"--grid={grid}"]) == 2


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_class_walk_of_a_served_model_reads_the_class_count_from_its_metadata(artifacts, protocol, tmp_path):
    """No --num_classes: GetModelMetadata's class_ids signature states it (TF Serving returns signature_defs only)."""
    server = artifacts["server"]
    spec = f"{server.rest_url}/cond" if protocol == "rest" else f"grpc://{server.grpc_target}/cond"
    path = str(tmp_path / "classes.png")
    assert main(["tfgan", "generate", f"--model={spec}", f"--class_walk={path}", "--interpolate=3", "--seed=2"]) == 0
    latents, labels = class_walk(NUM_CLASSES, 3, LATENT_DIM, 2, "linear")
    expected = make_grid(to_uint8(keras_images(artifacts["cond_generator"], latents, labels)), cols=3)[..., 0]
    assert np.abs(_read(path).astype(int) - expected.astype(int)).max() <= 1
