"""Every preset trains 2 steps, saves, reloads and exports under the default strategy and `mirrored`.

`mirrored` runs on 2 logical CPUs (split before TensorFlow initialises, so the runs happen
in subprocesses: this file run as a script, one process per strategy, both at once, so the
matrix takes about half its CPU time on two cores). Each run
shrinks the preset to 2 steps of a global batch of 8 (`epochs=1`, `steps_per_epoch=2`),
writes its run folder, reloads `gan.keras` and `generator.keras` and exports the run for
TF Serving (SavedModel only: the TFLite converter is tested elsewhere). Datasets the
machine lacks are stood in for: `tfds:cifar10` by `tfds.testing.mock_data`,
pix2pix_facades' `paired:folder:/data/facades` (the user's own folder) by `paired:mnist_edges`,
and dcgan_rgb64's `folder:images` (the user's own folder) by a folder of 16 RGB PNGs made here.
The 2-D toy presets (`toy:*`) train, save and reload; their export is refused in one line
(a generator of points has no image to serve).
"""

import contextlib
import json
import os
import subprocess
import sys
import traceback

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS = sorted(f[:-5] for f in os.listdir(os.path.join(ROOT, "models")) if f.endswith(".json"))
STRATEGIES = ("default", "mirrored")
SHRINK = ["epochs=1", "steps_per_epoch=2", "batch_size=8"]
STAND_INS = {"pix2pix_facades": ["dataset=\"paired:mnist_edges\""],
             "dcgan_rgb64": ["dataset=\"folder:{root}/rgb_images\""]}  # {root}: the matrix's folder


def _write_rgb_folder(folder) -> None:
    """16 random 40x48 RGB PNGs in two class sub-folders (the preset crops and resizes them to 64x64)."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    from PIL import Image  # pylint: disable=import-outside-toplevel
    rng = np.random.default_rng(0)
    for i in range(16):
        os.makedirs(os.path.join(folder, "ab"[i % 2]), exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(
            os.path.join(folder, "ab"[i % 2], f"{i:02d}.png"))


def _train_one(name: str, strategy_name: str, root: str, strategy) -> dict:
    import keras  # pylint: disable=import-outside-toplevel
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
    from tfgan_app import presets, training  # pylint: disable=import-outside-toplevel
    from tfgan_app.cli.main import main  # pylint: disable=import-outside-toplevel

    out = os.path.join(root, name, strategy_name)
    stand_ins = [item.format(root=root) for item in STAND_INS.get(name, [])]
    preset = presets.apply_overrides(presets.load_preset(name), SHRINK + stand_ins)
    mock = tfds.testing.mock_data(num_examples=16) if preset.dataset.startswith("tfds:") else contextlib.nullcontext()
    with mock:
        training.train(preset, out, strategy=strategy, verbose=0)
    gan = keras.saving.load_model(os.path.join(out, "gan.keras"))
    keras.saving.load_model(os.path.join(out, "generator.keras"))
    base = os.path.join(root, f"export_{strategy_name}")
    code = main(["tfgan", "export", f"--run_dir={out}", f"--base={base}",
                 f"--name={name}_{strategy_name}", "--tflite="])
    optimizer = getattr(gan, "g_optimizer", None)
    return {"steps": int(optimizer.iterations.numpy()) if optimizer is not None else None,
            "export_code": code,
            "exported": sorted(os.listdir(os.path.join(base, f"{name}_{strategy_name}")))
            if code == 0 else None,
            "toy": preset.dataset.startswith("toy:")}


def _run(root: str, strategy_name: str, names) -> dict:
    from tfgan_app import distribute  # pylint: disable=import-outside-toplevel
    distribute.use_logical_cpus(2)
    strategy = distribute.get_strategy(strategy_name)
    results = {"replicas": strategy.num_replicas_in_sync}
    for name in names:
        try:
            results[f"{name}/{strategy_name}"] = _train_one(name, strategy_name, root, strategy)
        except Exception:  # pylint: disable=broad-except  # reported per preset by the test
            results[f"{name}/{strategy_name}"] = {"error": traceback.format_exc()[-3000:]}
    return results


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    root = tmp_path_factory.mktemp("presets")
    _write_rgb_folder(os.path.join(str(root), "rgb_images"))
    processes = {strategy: subprocess.Popen([sys.executable, __file__, str(root), strategy, *PRESETS], cwd=ROOT,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for strategy in STRATEGIES}
    data = {}
    for strategy, process in processes.items():
        _, stderr = process.communicate(timeout=1200)
        assert process.returncode == 0, stderr[-3000:]
        part = json.loads((root / f"{strategy}.json").read_text())
        assert part.pop("replicas") == (2 if strategy == "mirrored" else 1)
        data.update(part)
    return data


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", PRESETS)
def test_preset_trains_saves_reloads_and_exports(matrix, name, strategy):
    run = matrix[f"{name}/{strategy}"]
    assert "error" not in run, run.get("error")
    assert run["steps"] in (None, 2), run  # 2 generator steps (None: a GAN without g_optimizer)
    if run["toy"]:  # 2-D points, not images: nothing to serve; export says so in one line (exit 2)
        assert run["export_code"] == 2, run
    else:
        assert run["export_code"] == 0 and run["exported"] == ["1"], run


if __name__ == "__main__":
    RESULTS = _run(sys.argv[1], sys.argv[2], sys.argv[3:])
    with open(os.path.join(sys.argv[1], f"{sys.argv[2]}.json"), "w", encoding="utf-8") as f:
        json.dump(RESULTS, f)
