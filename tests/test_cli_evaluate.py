"""`tfgan evaluate` end to end, in-process."""

import json
import os

import numpy as np
from PIL import Image

from _export_fixtures import write_run_dir
from tfgan_app.cli.main import main
from tfgan_app.data import load_mnist


def test_evaluate_run_dir_prints_table_and_writes_json(tmp_path, capsys):
    run = write_run_dir(str(tmp_path / "run"))
    code = main(["tfgan", "evaluate", f"--generator={run}", "--dataset=mnist", "--metrics=fid,kid,is,pr",
                 "--num_samples=120", "--batch_size=60", "--kid_subsets=5", "--kid_subset_size=50",
                 "--is_splits=2"])
    assert code == 0
    out = capsys.readouterr().out
    rows = [line.split()[0] for line in out.splitlines() if line.startswith("  ") and line.split()]
    # Features of the shipped MNIST classifier: a Fréchet classifier distance, not an FID.
    assert "FCD" in rows and "FID" not in rows, out
    for label in ("KID (mean)", "IS (mean)", "precision", "recall"):
        assert label in out
    # Progress: a titled Keras progress bar for the generated and for the real images.
    assert "Generated images" in out and "Real images (mnist, train)" in out and "120/120" in out, out
    with open(os.path.join(run, "evaluation.json")) as f:
        result = json.load(f)
    assert result["extractor"] == "mnist" and result["num_generated"] == 120
    assert set(result["metrics"]) == {"fid", "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall"}
    assert f"{result['metrics']['fid']:.6g}" in out


def test_evaluate_image_folder_of_real_digits_scores_well(tmp_path):
    images, _ = load_mnist("test")
    for i, image in enumerate(images[:200]):
        Image.fromarray(image[..., 0]).save(tmp_path / f"{i}.png")
    output = tmp_path / "out" / "scores.json"
    code = main(["tfgan", "evaluate", f"--generator=folder:{tmp_path}", "--dataset=mnist", "--metrics=fid,is",
                 "--num_samples=200", "--is_splits=2", f"--output_json={output}"])
    assert code == 0
    metrics = json.loads(output.read_text())["metrics"]
    assert metrics["is_mean"] > 8.0
    assert metrics["fid"] < 20.0


def test_evaluate_reports_bad_input_without_traceback(tmp_path, capsys):
    run = write_run_dir(str(tmp_path / "run"))
    assert main(["tfgan", "evaluate", f"--generator={run}", "--dataset=mnist", "--metrics=fid,bleu"]) == 2
    assert "fid, kid, is, pr" in capsys.readouterr().err
    assert main(["tfgan", "evaluate", f"--generator={tmp_path / 'nothing'}", "--dataset=mnist"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["tfgan", "evaluate", "--dataset=mnist"]) == 2
    assert "--generator" in capsys.readouterr().err
    os.environ["KERAS_HOME"] = str(tmp_path / "keras_home")
    try:
        code = main(["tfgan", "evaluate", f"--generator={run}", "--dataset=mnist", "--extractor=inception",
                     "--num_samples=10"])
    finally:
        del os.environ["KERAS_HOME"]
    assert code == 2
    err = capsys.readouterr().err
    assert "inception_v3_weights_tf_dim_ordering_tf_kernels.h5" in err and "Traceback" not in err
