"""One worker of tests/test_data_sharding.py: reads one epoch of a dataset under MultiWorkerMirroredStrategy.

Usage (with TF_CONFIG set, e.g. by scripts/launch_workers.py): python _data_shard_worker.py OUT_DIR SPEC...
Writes OUT_DIR/worker_<index>.json: {spec: the ids (pixel value // 8) of the images this worker's replicas got}.
Every worker shuffles with the same seed, as `tfgan train` does (the preset's).
"""

import json
import os
import sys

import numpy as np
import tensorflow as tf

from tfgan_app.data import load_dataset


def epoch_ids(strategy: tf.distribute.Strategy, spec: str) -> list:
    """Ids of the images this worker's replicas get in one epoch of `spec`."""
    info = load_dataset(spec, batch_size=8, shuffle=True, seed=0)
    ids = []
    for images, _ in strategy.experimental_distribute_dataset(info.dataset):
        for local in strategy.experimental_local_results(images):
            pixels = np.round((local.numpy() + 1.0) * 127.5)
            ids += [int(v) // 8 for v in pixels.reshape(len(pixels), -1)[:, 0]]
    return ids


def main(out_dir: str, specs: list) -> None:
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    seen = {spec: epoch_ids(strategy, spec) for spec in specs}
    with open(os.path.join(out_dir, f"worker_{index}.json"), "w", encoding="utf-8") as f:
        json.dump(seen, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
