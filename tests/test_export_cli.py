"""`tfgan export --run_dir=DIR`: one call writes the versioned SavedModel, TFLite files and models.config."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import write_run_dir  # noqa: E402

from tfgan_app.cli.main import main  # noqa: E402
from tfgan_app.export import read_models_config  # noqa: E402


def test_export_command_writes_everything(tmp_path, capsys):
    run_dir = write_run_dir(str(tmp_path / "run"), name="tiny")
    base = str(tmp_path / "export")
    assert main(["tfgan", "export", f"--run_dir={run_dir}", f"--base={base}"]) == 0
    out = capsys.readouterr().out
    version_dir = os.path.join(base, "tiny", "1")
    assert f"SavedModel: {version_dir}" in out and "TFLite    int8" in out
    assert os.path.isfile(os.path.join(version_dir, "saved_model.pb"))
    assert os.path.isfile(os.path.join(version_dir, "assets.extra", "tf_serving_warmup_requests"))
    assert sorted(os.listdir(os.path.join(version_dir, "tflite"))) == [
        "generator.json", "generator_float16.tflite", "generator_float32.tflite", "generator_int8.tflite"]
    with open(os.path.join(version_dir, "tflite", "generator.json")) as f:
        assert all(e["parity"]["meets_threshold"] for e in json.load(f)["files"].values())
    assert main(["tfgan", "export", f"--run_dir={run_dir}", f"--base={base}", "--name=renamed", "--tflite="]) == 0
    assert not os.path.exists(os.path.join(base, "renamed", "1", "tflite"))
    assert main(["tfgan", "export", f"--run_dir={run_dir}", f"--base={base}", "--tflite=float32"]) == 0
    assert sorted(os.listdir(os.path.join(base, "tiny"))) == ["1", "2"]
    names = [c.name for c in read_models_config(os.path.join(base, "models.config")).model_config_list.config]
    assert names == ["renamed", "tiny"]


def test_export_command_errors(tmp_path, capsys):
    run_dir = write_run_dir(str(tmp_path / "run"))
    base = str(tmp_path / "export")
    assert main(["tfgan", "export", f"--run_dir={tmp_path / 'missing'}", f"--base={base}"]) == 2
    assert "config.json" in capsys.readouterr().err
    assert main(["tfgan", "export", f"--run_dir={run_dir}", f"--base={base}", "--tflite=int4"]) == 2
    assert "int4" in capsys.readouterr().err
    assert main(["tfgan", "export", f"--run_dir={run_dir}", f"--base={base}", "--version=-3"]) == 2
    assert "positive integer" in capsys.readouterr().err
    assert not os.path.exists(os.path.join(base, "tiny"))
