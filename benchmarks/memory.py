"""Peak memory (RSS) of a short training run of each model preset.

Each preset trains for one short epoch (`tfgan_app.training.train`, the code
behind `tfgan train`, so data loading, callbacks, sample grids and checkpoints
count too) in a fresh process; the table shows the process' resident memory
after importing TensorFlow and `tfgan_app` and its peak (`ru_maxrss`) at the
end of the run. Presets whose dataset is not available offline are reported as
skipped with the reason.

Usage:
    python benchmarks/memory.py --quick                       # 5 steps per preset
    python benchmarks/memory.py --presets=dcgan_mnist --set mixed_precision=mixed_bfloat16
"""

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any, Dict, List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (the benchmarks folder is not a package)


def worker(config: Dict[str, Any]) -> None:
    """Trains one preset briefly and emits its RSS numbers."""
    from tfgan_app import presets, training

    after_import = _common.current_rss_mb()
    preset = presets.apply_overrides(presets.load_preset(config["preset"]),
                                     ["epochs=1", f"steps_per_epoch={config['steps']}", *config["overrides"]])
    start = time.time()
    with tempfile.TemporaryDirectory() as output_dir:
        training.train(preset, output_dir, verbose=0)
    _common.emit({"batch_size": preset.batch_size, "dataset": preset.dataset,
                  "mixed_precision": preset.mixed_precision or "float32", "rss_after_import_mb": after_import,
                  "peak_rss_mb": _common.peak_rss_mb(), "seconds": time.time() - start})


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 training steps per preset instead of 30")
    parser.add_argument("--presets", default="", help="comma-separated preset names (default: all in models/)")
    parser.add_argument("--set", action="append", default=[], dest="overrides",
                        help="preset override applied to every preset, as `tfgan train --set` (repeatable)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0

    from tfgan_app import presets

    names = [n for n in args.presets.split(",") if n] or presets.available_presets()
    steps = 5 if args.quick else 30
    print(f"Machine: {_common.machine_summary()}")
    rows = []
    for name in names:
        print(f"  {name} ...", flush=True)
        result = _common.run_isolated(os.path.abspath(__file__),
                                      {"preset": name, "steps": steps, "overrides": args.overrides})
        if "error" in result:
            rows.append({"preset": name, "note": f"skipped: {result['error']}"})
            continue
        result["training_mb"] = result["peak_rss_mb"] - result["rss_after_import_mb"]
        rows.append({"preset": name, **result})
    _common.report(f"5. Peak RSS of training, {steps} steps per preset", rows,
                   ["preset", "dataset", "batch_size", "mixed_precision", "rss_after_import_mb", "peak_rss_mb",
                    "training_mb", "seconds", "note"],
                   ["preset", "dataset", "batch", "precision", "RSS after import (MiB)", "peak RSS (MiB)",
                    "peak - import (MiB)", "run s", "note"],
                   ["Peak RSS includes the dataset arrays, the tf.data shuffle buffer, both models with their "
                    "optimizer state, and saving the checkpoint, generator and sample grids."])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
