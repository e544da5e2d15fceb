"""The cost of reading SavedModels with TF Serving's session semantics (issue #26 item 3).

Every SavedModel the package reads goes through `tfgan_app.artifacts.savedmodel_loader` (a TF1 session, as
TF Serving's C++ loader), not Python's lenient `tf.saved_model.load`. This prints, side by side, for one
exported version: the load time and the time to generate `--num_images` images through `serving_default` in
batches of `--batch`, for both loaders, interleaved `--repeats` times (medians), plus the largest difference
between their images (they must agree).

Usage:
  python benchmarks/savedmodel_loaders.py export/dcgan_mnist/1 --num_images=1000 --batch=100 --repeats=3
"""

import argparse
import os
import statistics
import time

import numpy as np
import tensorflow as tf

from tfgan_app.artifacts.layout import read_metadata
from tfgan_app.artifacts.savedmodel_loader import load_savedmodel
from tfgan_app.latent import sample_latents


def _feeds(metadata, num_images: int, batch: int):
    latents = sample_latents(num_images, metadata["latent_dim"], 0).numpy()
    labels = (np.arange(num_images) % metadata["num_classes"]).astype(np.int32) if metadata.get("num_classes") else None
    for i in range(0, num_images, batch):
        feed = {"latents": latents[i:i + batch]}
        if labels is not None:
            feed["labels"] = labels[i:i + batch]
        yield feed


def _session(path, metadata, num_images, batch):
    start = time.perf_counter()
    model = load_savedmodel(path)
    loaded = time.perf_counter()
    images = [model.run("serving_default", feed)["images"] for feed in _feeds(metadata, num_images, batch)]
    done = time.perf_counter()
    model.close()
    return loaded - start, done - loaded, np.concatenate(images)


def _object(path, metadata, num_images, batch):
    start = time.perf_counter()
    function = tf.saved_model.load(path).signatures["serving_default"]
    loaded = time.perf_counter()
    images = [function(**{k: tf.constant(v) for k, v in feed.items()})["images"].numpy()
              for feed in _feeds(metadata, num_images, batch)]
    done = time.perf_counter()
    return loaded - start, done - loaded, np.concatenate(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version_dir")
    parser.add_argument("--num_images", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    metadata = read_metadata(args.version_dir)
    times = {"session (tfgan_app, TF Serving semantics)": [], "tf.saved_model.load (TF2 objects)": []}
    outputs = {}
    for _ in range(args.repeats):
        for (name, runs), reader in zip(times.items(), (_session, _object)):
            load, generate, images = reader(args.version_dir, metadata, args.num_images, args.batch)
            runs.append((load, generate))
            outputs[name] = images
    print(f"{args.version_dir}: {args.num_images} images in batches of {args.batch}, medians of {args.repeats}")
    print(f"| loader | load (s) | generate (ms per image) |\n|---|---|---|")
    for name, runs in times.items():
        load = statistics.median(r[0] for r in runs)
        per_image = statistics.median(r[1] for r in runs) / args.num_images * 1e3
        print(f"| {name} | {load:.2f} | {per_image:.3f} |")
    first, second = outputs.values()
    print(f"largest difference between their images: {np.abs(first - second).max():.2e}")
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
