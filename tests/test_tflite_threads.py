"""TFLite interpreter threads: the default, `--tflite_threads`, "auto", and the sidecar recommendation."""

import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM, write_run_dir  # noqa: E402

from tfgan_app.cli.main import main  # noqa: E402
from tfgan_app.errors import UsageError  # noqa: E402
from tfgan_app.export import export_run  # noqa: E402
from tfgan_app.artifacts import tflite_runner  # noqa: E402
from tfgan_app.export import tflite  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("threads")
    run = write_run_dir(str(root / "run"), name="threads")
    return export_run(run, base_dir=str(root / "export"), quantizations=["float32", "int8"])


def _file(export, quantization):
    return os.path.join(export.version_dir, "tflite", tflite.tflite_file_name(quantization))


@pytest.fixture
def created_threads(monkeypatch):
    """Records the `num_threads` of every LiteRT interpreter the library creates (the real one still runs)."""
    created = []
    real = tflite_runner.Interpreter

    def recording(*args, **kwargs):
        created.append(kwargs.get("num_threads"))
        return real(*args, **kwargs)
    monkeypatch.setattr(tflite_runner, "Interpreter", recording)
    return created


@pytest.mark.parametrize("value, expected", [("1", 1), ("3", 3), (2, 2), ("auto", "auto"), ("AUTO", "auto")])
def test_parse_threads_accepts_positive_ints_and_auto(value, expected):
    assert tflite_runner.parse_threads(value) == expected


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "", 0, 1.0, True])
def test_parse_threads_rejects_anything_else(value):
    with pytest.raises(UsageError, match="positive integer or 'auto'"):
        tflite_runner.parse_threads(value)


@pytest.mark.parametrize("flag, expected", [([], tflite_runner.DEFAULT_THREADS), (["--tflite_threads=2"], 2),
                                            (["--tflite_threads=3"], 3)])
def test_generate_creates_the_interpreter_with_the_requested_threads(export, created_threads, tmp_path, flag,
                                                                     expected):
    code = main(["tfgan", "generate", f"--model={_file(export, 'int8')}", "--num_images=3",
                 f"--output_dir={tmp_path}"] + flag)
    assert code == 0
    assert created_threads == [expected]
    assert len(os.listdir(tmp_path)) == 3


@pytest.mark.parametrize("value", ["0", "many", "-2"])
def test_bad_thread_flag_is_a_one_line_error(export, value, capsys, tmp_path):
    code = main(["tfgan", "generate", f"--model={_file(export, 'int8')}", f"--tflite_threads={value}",
                 f"--output_dir={tmp_path}"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    assert "positive integer or 'auto'" in err
    assert not os.listdir(tmp_path)


def test_thread_flag_on_a_savedmodel_is_an_error_not_ignored(export, capsys, tmp_path):
    code = main(["tfgan", "generate", f"--model={export.version_dir}", "--tflite_threads=2",
                 f"--output_dir={tmp_path}"])
    assert code == 2
    assert ".tflite files only" in capsys.readouterr().err


def test_auto_times_one_thread_against_all_cores_per_batch_size(export, created_threads, monkeypatch):
    monkeypatch.setattr(tflite_runner, "available_cores", lambda: 2)
    runner = tflite_runner.TFLiteGenerator(_file(export, "int8"), num_threads="auto")
    latents = sample_latents(5, LATENT_DIM, seed=0).numpy()
    assert runner.threads_for(5) is None
    images = runner(latents)
    assert sorted(set(created_threads)) == [1, 2]  # both candidates were built and timed
    assert runner.threads_for(5) in (1, 2)
    assert runner.threads_for(7) is None  # each batch size is timed on its own
    single = tflite_runner.TFLiteGenerator(_file(export, "int8"), num_threads=1)
    np.testing.assert_array_equal(images, single(latents))


def test_sidecar_records_the_thread_recommendation_the_runner_uses(export, created_threads):
    with open(os.path.join(export.version_dir, "tflite", tflite.SIDECAR_FILE)) as f:
        files = json.load(f)["files"]
    for quantization in ("float32", "int8"):
        threads = files[quantization]["threads"]
        assert threads["recommended"] == tflite_runner.DEFAULT_THREADS
        assert set(threads["by_batch_size"]) == {"1", "64"}
        assert "benchmarks/README.md" in threads["measurements"]
    tflite_runner.TFLiteGenerator(_file(export, "int8"))
    assert created_threads == [files["int8"]["threads"]["recommended"]]
