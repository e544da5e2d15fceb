"""Training steps per second: default strategy vs MirroredStrategy vs XLA, side by side in one run.

Splits the CPU into logical devices first (so `mirrored` has 2 replicas even on
a CPU-only machine), builds the same preset under each configuration, traces
each once, then times one window of `--steps` steps per configuration in turn
(after one untimed step that creates the input iterator)
for `--rounds` rounds, so all configurations see the same machine load; a rate
is the median over rounds (`_common.median_rate`).

    python benchmarks/distribute_steps.py                      # dcgan_mnist, batch 64
    python benchmarks/distribute_steps.py --model=gan_mlp_mnist --steps=50 --batch_size=128

On one CPU the logical devices share the same cores, so `mirrored` measures
the cost of replication rather than a speed-up; on N GPUs it is the
data-parallel speed-up. XLA on CPU compiles convolutions without the oneDNN
kernels TensorFlow otherwise uses, so `jit_compile` can be slower there; it
pays off on GPUs and TPUs. A step is a global step: one D and one G update on a
global batch.
"""

import argparse
import os
import sys
import time
from typing import Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (the benchmarks folder is not a package)
import keras  # noqa: E402  (importing TensorFlow does not initialise devices; running an op would)

from tfgan_app import distribute  # noqa: E402

CONFIGURATIONS = {  # label: (strategy name, jit_compile)
    "default": ("default", False),
    "mirrored": ("mirrored", False),
    "default + jit_compile": ("default", True),
}


class _BatchTimer(keras.callbacks.Callback):
    """Records when each batch ends (a window is timed from the end of its first, untimed batch)."""

    def __init__(self):
        super().__init__()
        self.ends: List[float] = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="dcgan_mnist", help="Preset name or .json path.")
    parser.add_argument("--steps", type=int, default=10, help="Steps per timed window.")
    parser.add_argument("--rounds", type=int, default=3, help="Timed windows per configuration.")
    parser.add_argument("--batch_size", type=int, default=64, help="Global batch size.")
    parser.add_argument("--logical_cpus", type=int, default=2, help="CPU replicas for `mirrored` without GPUs.")
    args = parser.parse_args()
    distribute.use_logical_cpus(args.logical_cpus)  # before TensorFlow initialises its devices

    from tfgan_app import presets, training

    runs = {}
    for label, (strategy_name, jit) in CONFIGURATIONS.items():
        preset = presets.apply_overrides(presets.load_preset(args.model),
                                         [f"batch_size={args.batch_size}", f"jit_compile={str(jit).lower()}"])
        keras.utils.set_random_seed(preset.seed)
        strategy = distribute.get_strategy(strategy_name)
        info = training.load_data(preset)
        dataset = info.dataset.repeat()
        with strategy.scope():
            gan = training.build_gan(preset, info.image_shape, info.num_classes)
        gan.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)  # tracing, XLA compilation
        runs[label] = (gan, dataset, distribute.describe(strategy))

    windows: Dict[str, List[float]] = {label: [] for label in runs}
    for _ in range(args.rounds):
        for label, (gan, dataset, _) in runs.items():
            timer = _BatchTimer()
            gan.fit(dataset, epochs=1, steps_per_epoch=args.steps + 1, verbose=0, shuffle=False, callbacks=[timer])
            windows[label].append(timer.ends[-1] - timer.ends[0])  # the last `steps` steps

    base = _common.median_rate(windows["default"], args.steps)
    rows = [{"configuration": label, "steps/s": _common.median_rate(secs, args.steps),
             "vs default": _common.median_rate(secs, args.steps) / base, "spread": _common.spread(secs),
             "devices": runs[label][2]} for label, secs in windows.items()]
    _common.report(f"{args.model}: steps/s by strategy (global batch {args.batch_size})", rows,
                   ["configuration", "steps/s", "vs default", "spread", "devices"],
                   notes=[f"{args.rounds} rounds of {args.steps} steps per configuration; {_common.machine_summary()}"])


if __name__ == "__main__":
    main()
