"""The #25/#28 benchmark commands stay runnable: gpu_check.py (no GPU here), time_to_quality.py, input_pipeline.py."""

import importlib.util
import os
import subprocess
import sys

import keras
import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")


def _load(name):
    sys.path.insert(0, BENCHMARKS)
    spec = importlib.util.spec_from_file_location(name, os.path.join(BENCHMARKS, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_without_a_gpu_says_so_and_exits_0():
    proc = subprocess.run(["bash", os.path.join(BENCHMARKS, "gpu_check.sh")], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("gpu_check: no GPU visible to TensorFlow on this machine (CPU (")
    assert "--cpu" in proc.stdout and "Traceback" not in proc.stderr


def test_gpu_check_measures_the_train_step_and_the_savedmodel_on_cpu():
    """The measurements a GPU machine runs, on the CPU (`--cpu`), in-process and tiny."""
    gpu_check = _load("gpu_check")
    try:
        row = gpu_check.train_step_speed({"cpu": True, "steps": 2, "precision": "float32", "xla": False,
                                          "mirrored": False})
    finally:
        keras.config.set_dtype_policy("float32")
    assert row["policy"] == "float32" and row["batch"] == 32 and row["devices"] == 1
    assert row["images_per_s"] > 0 and row["ms_per_step"] == pytest.approx(32 / row["images_per_s"] * 1000)
    latency = gpu_check.generation_latency({"cpu": True, "calls": 2})
    assert [r["batch"] for r in latency["rows"]] == [1, 64]
    assert all(r["ms"] > 0 for r in latency["rows"])


def test_time_to_quality_snapshots_at_each_mark_and_stops_at_the_budget(monkeypatch):
    ttq = _load("time_to_quality")
    now = [0.0]
    monkeypatch.setattr(ttq, "_clock", lambda kind: lambda: now[0])
    saved = []
    snapshots = ttq._Snapshots("wall", minutes=3, every=1, save=saved.append)
    snapshots.start()
    ends = []
    for _ in range(9):  # 9 steps of 25 s
        now[0] += 25.0
        ends.append(snapshots.tick())
    assert saved == [1, 2, 3]  # saved after steps 3 (75 s >= 60), 5 (125 s >= 120) and 8 (200 s >= 180)
    assert ends.index(True) == 7  # the 8th step reaches 200 s >= 180 s


def test_time_to_quality_ratio_line():
    ttq = _load("time_to_quality")
    scores = {"ours_1": {"fcd": 30.0}, "ours_2": {"fcd": 15.0}, "tutorial_1": {"fcd": 80.0},
              "tutorial_2": {"fcd": 40.0}}
    assert ttq.ratio_line(scores, [1, 2]) == ("ratio: the tutorial did not reach ours' final FCD 15.00 within 2 min; "
                                              "ours reached the tutorial's best FCD 40.00 (its 2 min) at 1 min: "
                                              ">= 2.0x")
    scores["tutorial_2"]["fcd"] = 14.0
    assert ttq.ratio_line(scores, [1, 2]).endswith("the tutorial at 2 min: 1.0x")
    scores["ours_1"]["fcd"] = 15.0
    assert ttq.ratio_line(scores, [1, 2]).endswith("ours reached FCD 15.00 at 1 min, the tutorial at 2 min: 2.0x")


def test_input_pipeline_generates_its_images_and_measures_both_sources(tmp_path):
    bench = _load("input_pipeline")
    folder = str(tmp_path / "images")
    bench.write_images(folder, bench.BATCH, size=16)
    assert sorted(os.listdir(folder)) == ["a", "b"] and len(os.listdir(os.path.join(folder, "a"))) == bench.BATCH // 2
    from tfgan_app.data.tfrecord import prepare_folder  # pylint: disable=import-outside-toplevel
    prepare_folder(folder, str(tmp_path / "packed"))
    for spec in (f"folder:{folder}", f"tfrecord:{tmp_path / 'packed'}"):
        assert bench._pipeline_rate({"spec": spec, "batches": 1})["pipeline_images_s"] > 0


def test_savedmodel_loaders_compares_both_loaders_on_one_export(tmp_path, monkeypatch, capsys):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _export_fixtures import write_run_dir  # pylint: disable=import-outside-toplevel
    from tfgan_app.export import export_run  # pylint: disable=import-outside-toplevel
    run = write_run_dir(str(tmp_path / "run"), conditional=True, name="cond")
    version = export_run(run, base_dir=str(tmp_path / "export"), quantizations=[]).version_dir
    monkeypatch.setattr(sys, "argv", ["savedmodel_loaders.py", version, "--num_images=6", "--batch=4",
                                      "--repeats=1"])
    _load("savedmodel_loaders").main()
    out = capsys.readouterr().out
    assert "| session (tfgan_app, TF Serving semantics) |" in out and "| tf.saved_model.load (TF2 objects) |" in out
    assert "largest difference between their images: 0.00e+00" in out  # both loaders run the same graph
