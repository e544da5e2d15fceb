"""Latency and throughput of generating one batch through every deployment path, side by side.

Exports a generator (from --run_dir, or a fresh DCGAN 28x28x1 generator with
random weights) to a temporary TF Serving folder, starts the local REST/gRPC
server on loopback, and times the same batch of latents through: Keras,
SavedModel (`serving_default`), TFLite float32/float16/int8 (LiteRT), REST and
gRPC. Prints median / p90 milliseconds per batch and images per second.

Not a test: numbers depend on the machine. Example:

    python benchmarks/generation_latency.py --batch_size=64 --repeats=20
    python benchmarks/generation_latency.py --run_dir=runs/dcgan_mnist
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (the benchmarks folder is not a package)
from tfgan_app.architectures import dcgan_generator  # noqa: E402
from tfgan_app.export import export_generator, load_run  # noqa: E402
from tfgan_app.export.sources import open_source  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402
from tfgan_app.serving import LocalModelServer  # noqa: E402


def _time(source, latents, labels, repeats: int, warmup: int):
    for _ in range(warmup):
        source(latents, labels)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        source(latents, labels)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run_dir", help="Training run directory (default: a random-weight DCGAN generator).")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.run_dir:
            trained = load_run(args.run_dir)
            generator, num_classes = trained.generator, trained.num_classes
        else:
            generator, num_classes = dcgan_generator(64, (28, 28, 1)), None
        keras_path = os.path.join(tmp, "generator.keras")
        generator.save(keras_path)
        result = export_generator(generator, "bench", os.path.join(tmp, "export"), num_classes=num_classes)
        tflite = os.path.join(result.version_dir, "tflite")
        with LocalModelServer(result.base_dir, rest_port=0, grpc_port=0) as server:
            specs = [("keras", keras_path), ("savedmodel", result.version_dir),
                     ("tflite float32", os.path.join(tflite, "generator_float32.tflite")),
                     ("tflite float16", os.path.join(tflite, "generator_float16.tflite")),
                     ("tflite int8", os.path.join(tflite, "generator_int8.tflite")),
                     ("rest", f"{server.rest_url}/bench"), ("grpc", f"grpc://{server.grpc_target}/bench")]
            latent_dim = int(generator.inputs[0].shape[-1])
            latents = sample_latents(args.batch_size, latent_dim, seed=0).numpy()
            labels = (np.arange(args.batch_size) % num_classes).astype(np.int32) if num_classes else None
            rows = []
            for name, spec in specs:
                with open_source(spec, num_classes=num_classes, timeout=120) as source:
                    seconds = sorted(_time(source, latents, labels, args.repeats, args.warmup))
                median = statistics.median(seconds)
                rows.append({"path": name, "median_ms": median * 1e3,
                             "p90_ms": seconds[min(len(seconds) - 1, int(0.9 * len(seconds)))] * 1e3,
                             "images_per_s": args.batch_size / median, "spread": _common.spread(seconds)})
    _common.report(f"Generating a batch of {args.batch_size} images {tuple(generator.outputs[0].shape[1:])} "
                   f"(latent_dim {latent_dim})", rows, ["path", "median_ms", "p90_ms", "images_per_s", "spread"],
                   ["path", "median ms", "p90 ms", "images/s", "spread"],
                   notes=[f"{args.repeats} timed runs after {args.warmup} warm-up runs, all paths in one process; "
                          "REST and gRPC go through the local `tfgan serve` server on loopback.",
                          f"Machine: {_common.machine_summary()}"])

if __name__ == "__main__":
    main()
