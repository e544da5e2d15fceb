"""GPU check: what the default preset does on the GPUs of this machine, in one command (~3-5 minutes).

On a machine whose TensorFlow sees no GPU it says so and exits 0 (`--cpu` runs the same measurements on the CPU,
which is how the test suite keeps this path working without a GPU).

It reports, each in a fresh process:
1. the GPUs (name, compute capability) and the precision `mixed_precision: auto` chooses (and why);
2. images/s of the default preset's (`dcgan_mnist`) train step on one device: auto precision vs float32, XLA off
   vs on (`jit_compile`), synthetic batches of the preset's batch size;
3. images/s under `--strategy=mirrored` over all visible GPUs (auto precision, the preset's batch per replica);
4. generation latency of the exported SavedModel (`serving_default`, through `tf.saved_model.load`) at batch 1
   and 64: median ms per call after warm-up.

Output format (stable, so that the lines can be pasted into the README):

    gpu_check: <device summary>
    precision: <policy> (<reason>)
    | variant | devices | batch | images/s | ms/step |      (one row per train-step variant)
    | saved_model batch | ms/call | images/s |            (one row per batch size)
    gpu_check: done in <seconds> s

Usage:
    bash benchmarks/gpu_check.sh            # or: python benchmarks/gpu_check.py [--steps=200] [--cpu]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import dispatch_worker, run_isolated  # noqa: E402  pylint: disable=wrong-import-position


def _devices(config: Dict[str, Any]):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    if config["cpu"]:
        return [d.name for d in tf.config.list_logical_devices("CPU")][:1]
    return [d.name for d in tf.config.list_logical_devices("GPU")]


def probe(config: Dict[str, Any]) -> Dict[str, Any]:
    """The GPUs and the precision `auto` picks for them."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from tfgan_app import hardware  # pylint: disable=import-outside-toplevel
    gpus = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capability = details.get("compute_capability")
        gpus.append({"name": details.get("device_name", gpu.name),
                     "capability": ".".join(map(str, capability)) if capability else "?"})
    facts = hardware.detect_hardware()
    choice = hardware.choose_precision("auto", facts)
    return {"gpus": gpus, "summary": facts.summary(), "policy": choice.policy, "reason": choice.reason}


def train_step_speed(config: Dict[str, Any]) -> Dict[str, Any]:
    """images/s of the default preset's train step under one variant (precision, XLA, strategy)."""
    import keras  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from tfgan_app import hardware, presets, training  # pylint: disable=import-outside-toplevel

    devices = _devices(config)
    preset = presets.load_preset("dcgan_mnist")
    policy = hardware.choose_precision(config["precision"], hardware.detect_hardware()).policy
    strategy = (tf.distribute.MirroredStrategy(devices) if config["mirrored"]
                else tf.distribute.OneDeviceStrategy(devices[0]))
    batch = preset.batch_size * strategy.num_replicas_in_sync
    images = tf.random.uniform((batch * 8, 28, 28, 1), -1.0, 1.0)
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(batch, drop_remainder=True).repeat()
    dataset = dataset.map(lambda x: (x,)).prefetch(tf.data.AUTOTUNE)
    keras.config.set_dtype_policy(policy)
    with strategy.scope():
        preset = presets.apply_overrides(preset, [f"jit_compile={json.dumps(config['xla'])}"])
        gan = training.build_gan(preset, (28, 28, 1), None)
    gan.fit(dataset, epochs=1, steps_per_epoch=20, verbose=0)  # tracing and warm-up
    windows = []
    for _ in range(3):
        start = time.perf_counter()
        gan.fit(dataset, epochs=1, steps_per_epoch=config["steps"], verbose=0)
        windows.append(time.perf_counter() - start)
    seconds = statistics.median(windows) / config["steps"]
    return {"policy": policy, "devices": len(devices), "batch": batch, "images_per_s": batch / seconds,
            "ms_per_step": seconds * 1000}


def generation_latency(config: Dict[str, Any]) -> Dict[str, Any]:
    """Median ms per `serving_default` call of the exported SavedModel at batch 1 and 64."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from tfgan_app import architectures  # pylint: disable=import-outside-toplevel
    from tfgan_app.export.exporter import export_generator  # pylint: disable=import-outside-toplevel

    base = tempfile.mkdtemp(prefix="gpu_check_")
    generator = architectures.build_generator("dcgan", 64, (28, 28, 1), None, base_filters=64)
    result = export_generator(generator, "dcgan_mnist", base_dir=base, quantizations=())
    with tf.device(_devices(config)[0]):
        served = tf.saved_model.load(result.version_dir).signatures["serving_default"]
        rows = []
        for batch in (1, 64):
            latents = tf.constant(np.random.default_rng(0).normal(size=(batch, 64)).astype("float32"))
            for _ in range(5):
                served(latents=latents)
            times = []
            for _ in range(config["calls"]):
                start = time.perf_counter()
                served(latents=latents)
                times.append(time.perf_counter() - start)
            ms = statistics.median(times) * 1000
            rows.append({"batch": batch, "ms": ms, "images_per_s": batch * 1000 / ms})
    return {"rows": rows}


WORKERS = {"probe": probe, "train": train_step_speed, "generate": generation_latency}


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="train steps per timed window (3 windows)")
    parser.add_argument("--calls", type=int, default=50, help="timed SavedModel calls per batch size")
    parser.add_argument("--cpu", action="store_true", help="measure on the CPU (no GPU needed): a dry run")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if dispatch_worker(args.worker, WORKERS):
        return 0
    if args.steps < 1 or args.calls < 1:
        parser.error(f"--steps and --calls must be positive; received steps={args.steps}, calls={args.calls}")
    start = time.perf_counter()
    base = {"cpu": args.cpu, "steps": args.steps, "calls": args.calls}
    facts = run_isolated(__file__, {**base, "role": "probe"}, timeout=300)
    if "error" in facts:
        print(f"gpu_check: could not query TensorFlow's devices: {facts['error']}")
        return 1
    if not facts["gpus"] and not args.cpu:
        print(f"gpu_check: no GPU visible to TensorFlow on this machine ({facts['summary']}); nothing to measure. "
              "(On a CUDA machine install TensorFlow with `pip install 'tensorflow[and-cuda]'`; `--cpu` runs "
              "the same measurements on the CPU.)")
        return 0
    shown = ", ".join(f"{g['name']} (compute capability {g['capability']})" for g in facts["gpus"]) or "CPU (--cpu)"
    print(f"gpu_check: {shown}")
    print(f"precision: {facts['policy']} ({facts['reason']})")
    print("| variant | devices | batch | images/s | ms/step |")
    print("|---|---|---|---|---|")
    variants = [("auto", False, False), ("float32", False, False), ("auto", True, False), ("float32", True, False),
                ("auto", False, True)]
    for precision, xla, mirrored in variants:
        row = run_isolated(__file__, {**base, "role": "train", "precision": precision, "xla": xla,
                                      "mirrored": mirrored}, timeout=900)
        label = f"{precision}{' (' + row['policy'] + ')' if precision == 'auto' and 'policy' in row else ''}, " \
                f"XLA {'on' if xla else 'off'}{', mirrored' if mirrored else ''}"
        if "error" in row:
            print(f"| {label} | – | – | error: {row['error']} | – |")
        else:
            print(f"| {label} | {row['devices']} | {row['batch']} | {row['images_per_s']:.0f} | "
                  f"{row['ms_per_step']:.1f} |")
    latency = run_isolated(__file__, {**base, "role": "generate"}, timeout=900)
    print("\n| saved_model batch | ms/call | images/s |")
    print("|---|---|---|")
    for row in latency.get("rows", []):
        print(f"| {row['batch']} | {row['ms']:.2f} | {row['images_per_s']:.0f} |")
    if "error" in latency:
        print(f"| – | error: {latency['error']} | – |")
    print(f"gpu_check: done in {time.perf_counter() - start:.0f} s (1-minute load average "
          f"{os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
