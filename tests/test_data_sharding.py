"""Two `MultiWorkerMirroredStrategy` workers on loopback read one epoch: every image exactly once in total.

`scripts/launch_workers.py` starts two processes of `_data_shard_worker.py` (free ports); each
distributes `load_dataset(...)` with the strategy and writes the ids of the images its replicas got.
For `tfrecord:` with 4 shards each worker reads its own 2 shards (file-based sharding); a `folder:` is
split by tf.data's data-based sharding.
"""

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from tfgan_app.data.tfrecord import prepare_folder

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUM_IMAGES = 32


def _id_folder(folder) -> str:
    """32 flat grayscale 8x8 PNGs; image i has pixel value 8 * i (its id: value // 8)."""
    os.makedirs(folder)
    for i in range(NUM_IMAGES):
        Image.fromarray(np.full((8, 8), 8 * i, np.uint8)).save(os.path.join(folder, f"{i:03d}.png"))
    return str(folder)


def _run_workers(specs, out_dir) -> dict:
    command = [sys.executable, os.path.join(REPO, "scripts", "launch_workers.py"), "--num_workers=2",
               "--timeout=150", "--", sys.executable, os.path.join(REPO, "tests", "_data_shard_worker.py"),
               str(out_dir), *specs]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return {w: json.loads((out_dir / f"worker_{w}.json").read_text()) for w in (0, 1)}


def test_an_epoch_visits_every_image_once_across_two_workers(tmp_path):
    folder = _id_folder(tmp_path / "images")
    prepare_folder(folder, str(tmp_path / "packed"), num_shards=4)
    specs = (f"tfrecord:{tmp_path / 'packed'}", f"folder:{folder}")
    workers = _run_workers(specs, tmp_path)
    for spec in specs:
        seen = [workers[w][spec] for w in (0, 1)]
        assert sorted(seen[0] + seen[1]) == list(range(NUM_IMAGES)), (spec, seen)
        assert len(seen[0]) == len(seen[1]) == NUM_IMAGES // 2
        if spec.startswith("tfrecord:"):
            # Image i is in shard i % 4; worker w reads shards w and w + 2: the even or the odd images.
            assert {i % 2 for i in seen[0]} == {0} and {i % 2 for i in seen[1]} == {1}, seen
