"""Input pipeline of one's own images: folder vs TFRecord, at 2k / 20k / 100k generated 64x64 PNGs.

Generates N random 64x64 RGB PNGs (two class sub-folders) in a temporary folder, packs them with
`tfgan prepare`'s `prepare_folder` (one shard per ~2,000 images), then measures in fresh processes:

- **3-step run** (`tfgan_app.training.train`, the code behind `tfgan train --model=dcgan_rgb64
  --epochs=1 --steps_per_epoch=3 --set mixed_precision=float32`): seconds from process start to the end
  of the first train step (time-to-first-step: imports, the file check, model build, first step) and
  the process' peak RSS. Issue #28's targets: both may grow by at most 150 MB / 10 s from 2k to 100k.
- **pipeline images/s**: `load_dataset` batches of 64 (the preset's options) pulled as fast as they come.
- **train step images/s**: the preset's train step on a batch already in memory.
  Target: the pipeline delivers at least 5x what the step consumes.

Usage:
    nice -n 19 python benchmarks/input_pipeline.py                    # 2k and 20k images
    nice -n 19 python benchmarks/input_pipeline.py --sizes=2000,20000,100000
    python benchmarks/input_pipeline.py --sizes=200 --quick           # a smoke run (used by the tests)
Timings want a quiet machine: the report prints `os.getloadavg()` next to the table.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any, Dict, List

START = time.time()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (the benchmarks folder is not a package)

PRESET = "dcgan_rgb64"
BATCH = 64


def write_images(folder: str, count: int, size: int = 64, seed: int = 0) -> None:
    """Writes `count` random RGB PNGs of `size` x `size`, half in `a/`, half in `b/`."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for name in ("a", "b"):
        os.makedirs(os.path.join(folder, name), exist_ok=True)
    for i in range(count):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(os.path.join(folder, "ab"[i % 2], f"{i:06d}.png"), compress_level=1)


def _preset(spec: str):
    from tfgan_app import presets
    return presets.apply_overrides(presets.load_preset(PRESET), [f"dataset={spec}", "mixed_precision=float32",
                                                                  f"batch_size={BATCH}"])


def _train_run(config: Dict[str, Any]) -> Dict[str, Any]:
    import keras
    from tfgan_app import presets, training

    first = {}

    class FirstStep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            first.setdefault("seconds", time.time() - START)

    preset = presets.apply_overrides(_preset(config["spec"]), ["epochs=1", f"steps_per_epoch={config['steps']}"])
    with tempfile.TemporaryDirectory() as output_dir:
        training.train(preset, output_dir, verbose=0, extra_callbacks=[FirstStep()])
    return {"time_to_first_step_s": first.get("seconds"), "peak_rss_mb": _common.peak_rss_mb()}


def _pipeline_rate(config: Dict[str, Any]) -> Dict[str, Any]:
    from tfgan_app import training

    info = training.load_data(_preset(config["spec"]))
    iterator = iter(info.dataset.repeat())
    for _ in range(3):  # warm-up: tf.data autotuning and thread start
        next(iterator)
    windows = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(config["batches"]):
            next(iterator)
        windows.append(time.perf_counter() - start)
    return {"pipeline_images_s": _common.median_rate(windows, config["batches"]) * BATCH}


def _step_rate(config: Dict[str, Any]) -> Dict[str, Any]:
    import tensorflow as tf
    from tfgan_app import training

    preset = _preset("folder:unused")
    gan = training.build_gan(preset, (64, 64, 3), None)
    batch = (tf.random.uniform((BATCH, 64, 64, 3), -1.0, 1.0), tf.fill([BATCH], -1))
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    gan.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)  # trace and warm up
    windows = []
    for _ in range(3):
        start = time.perf_counter()
        gan.fit(dataset, epochs=1, steps_per_epoch=config["steps"], verbose=0)
        windows.append(time.perf_counter() - start)
    return {"step_images_s": _common.median_rate(windows, config["steps"]) * BATCH}


def worker(config: Dict[str, Any]) -> None:
    """Runs one measurement (`config["mode"]`: train, pipeline or step) and emits its numbers."""
    measure = {"train": _train_run, "pipeline": _pipeline_rate, "step": _step_rate}[config["mode"]]
    _common.emit(measure(config))


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000,20000", help="numbers of images, comma-separated")
    parser.add_argument("--quick", action="store_true", help="fewer batches and steps per measurement")
    parser.add_argument("--dir", default=None, help="where to generate the images (default: a temporary folder)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0

    from tfgan_app.data.tfrecord import prepare_folder

    script = os.path.abspath(__file__)
    batches, steps = (2, 2) if args.quick else (30, 10)
    print(f"Machine: {_common.machine_summary()}")
    step = _common.run_isolated(script, {"mode": "step", "steps": steps})
    rows = []
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)  # a folder the user names may not exist yet
    with tempfile.TemporaryDirectory(dir=args.dir) as root:
        for count in (int(s) for s in args.sizes.split(",") if s):
            folder, packed = os.path.join(root, f"images_{count}"), os.path.join(root, f"packed_{count}")
            print(f"  writing {count} images ...", flush=True)
            write_images(folder, count)
            prepare_start = time.time()
            prepare_folder(folder, packed)
            prepare_seconds = time.time() - prepare_start
            for source, spec in (("folder", f"folder:{folder}"), ("tfrecord", f"tfrecord:{packed}")):
                print(f"  {source} x {count} ...", flush=True)
                row = {"source": source, "images": count, **step,
                       **_common.run_isolated(script, {"mode": "train", "spec": spec, "steps": 3}),
                       **_common.run_isolated(script, {"mode": "pipeline", "spec": spec, "batches": batches})}
                if source == "tfrecord":
                    row["prepare_s"] = prepare_seconds
                if row.get("pipeline_images_s") and row.get("step_images_s"):
                    row["ratio"] = row["pipeline_images_s"] / row["step_images_s"]
                rows.append(row)
            for path in (folder, packed):
                _remove(path)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    _common.report(f"Input pipeline of {PRESET} (64x64 RGB, batch {BATCH}, float32)", rows,
                   ["source", "images", "time_to_first_step_s", "peak_rss_mb", "pipeline_images_s", "step_images_s",
                    "ratio", "prepare_s", "error"],
                   ["source", "images", "first step (s)", "peak RSS (MiB)", "pipeline img/s", "train step img/s",
                    "pipeline / step", "prepare (s)", "error"],
                   [f"Load average while measuring: {load} (on {os.cpu_count()} cores).",
                    "Targets (issue #28): peak RSS and first-step time within 150 MiB / 10 s from the smallest to "
                    "the largest folder; pipeline / step >= 5."])
    return 0


def _remove(path: str) -> None:
    import shutil
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
