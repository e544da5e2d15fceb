"""Generation latency/throughput: SavedModel vs each TFLite file, on an idle machine and with both cores busy.

Exports the generator of --run_dir (or a random-weight DCGAN 28x28x1 generator) to a temporary TF Serving
folder (or reads an existing export with --version_dir) and times batches of latents through
`tfgan_app.artifacts.generators.open_generator` (the path `tfgan generate` uses), with the library's default
TFLite threads (`tfgan_app.export.tflite.DEFAULT_THREADS`):

* main table: SavedModel, TFLite float32 / float16 / int8 at batch 1 and 64, "idle" (as the machine is)
  and "loaded" (this script starts two busy-loop processes, one per core, and kills them after each
  window; they also end on their own after --busy_seconds). Idle and loaded windows alternate round by
  round so both see the same background load; each cell is the median over rounds of the per-window
  median call time, each ratio the median of per-round ratios.
* `--sweep`: raw LiteRT `Interpreter` per file x XNNPACK on/off (`OpResolverType.AUTO` vs
  `BUILTIN_WITHOUT_DEFAULT_DELEGATES`) x `num_threads` 1 / 2 / None ("auto", -1) x batch 1 / 16 / 64.
* `--profile`: op-by-op time of each file: the model truncated after op k is timed for every k, the
  difference to k-1 is op k's cost (LiteRT's Python wheel has no op profiler).
* `--all_paths`: also Keras and REST / gRPC through the local server (idle only).

The last line is `int8_vs_savedmodel_batch1=<ratio> int8_vs_float32_batch1=<ratio>`: default settings,
batch 1, the lower (worse) of the idle and loaded ratios. Not a test: numbers depend on the machine.

    python benchmarks/generation_latency.py --run_dir=runs/dcgan_mnist
    python benchmarks/generation_latency.py --version_dir=export/dcgan_mnist/1 --sweep --profile
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (the benchmarks folder is not a package)
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402
from ai_edge_litert.tools import flatbuffer_utils  # noqa: E402
from tfgan_app.architectures import dcgan_generator  # noqa: E402
from tfgan_app.export import export_generator, load_run  # noqa: E402
from tfgan_app.artifacts.generators import open_generator  # noqa: E402
from tfgan_app.artifacts.tflite_runner import DEFAULT_THREADS  # noqa: E402
from tfgan_app.export.tflite import QUANTIZATIONS, psnr, tflite_file_name  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402

BUSY_LOOP = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"
STATES = ("idle", "loaded")


@contextlib.contextmanager
def busy_cores(count: int, seconds: float):
    """Runs `count` busy-loop processes (each ends by itself after `seconds`); kills them on exit."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP.format(seconds=seconds)]) for _ in range(count)]
    try:
        time.sleep(0.2)  # let the scheduler see them
        yield
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


def _state(name: str, seconds: float):
    return busy_cores(2, seconds) if name == "loaded" else contextlib.nullcontext()


def _window(call, seconds: float, max_calls: int) -> float:
    """Median seconds of `call()` over a window of `seconds` (at least 3 calls, at most `max_calls`)."""
    times = []
    end = time.perf_counter() + seconds
    while len(times) < 3 or (time.perf_counter() < end and len(times) < max_calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main_table(version_dir: str, num_classes, rounds: int, window: float, busy_seconds: float):
    """The SavedModel vs TFLite table (default settings); returns (rows, batch-1 ratios by state)."""
    tflite = os.path.join(version_dir, "tflite")
    specs = [("savedmodel", version_dir)] + [(f"tflite {q}", os.path.join(tflite, tflite_file_name(q)))
                                             for q in QUANTIZATIONS
                                             if os.path.isfile(os.path.join(tflite, tflite_file_name(q)))]
    sources = {name: open_generator(spec, num_classes=num_classes) for name, spec in specs}
    latent_dim = sources["savedmodel"].latent_dim
    feeds = {}
    for batch in (1, 64):
        latents = sample_latents(batch, latent_dim, seed=0).numpy()
        labels = (np.arange(batch) % num_classes).astype(np.int32) if num_classes else None
        feeds[batch] = (latents, labels)
    reference = sources["savedmodel"](*feeds[64])
    quality = {name: psnr(reference, source(*feeds[64])) for name, source in sources.items() if name != "savedmodel"}
    seconds = {(s, b, n): [] for s in STATES for b in feeds for n in sources}
    loads = {s: [] for s in STATES}
    for _ in range(rounds):
        for state in STATES:
            with _state(state, busy_seconds):
                loads[state].append(os.getloadavg()[0])
                for batch, (latents, labels) in feeds.items():
                    for name, source in sources.items():
                        seconds[(state, batch, name)].append(_window(lambda: source(latents, labels), window,
                                                                     400 if batch == 1 else 40))
    rows, ratios = [], {}
    for state in STATES:
        for batch in feeds:
            base = seconds[(state, batch, "savedmodel")]
            for name in sources:
                own = seconds[(state, batch, name)]
                median = statistics.median(own)
                rows.append({"state": f"{state} (load {statistics.median(loads[state]):.1f})", "batch": batch,
                             "path": name, "threads": DEFAULT_THREADS if name.startswith("tflite") else "",
                             "median_ms": median * 1e3, "images_per_s": batch / median,
                             "x_savedmodel": statistics.median(b / o for b, o in zip(base, own)),
                             "psnr": quality.get(name), "spread": _common.spread(own)})
            if batch == 1 and "tflite int8" in sources:
                int8 = seconds[(state, 1, "tflite int8")]
                ratios[state] = (statistics.median(b / o for b, o in zip(base, int8)),
                                 statistics.median(f / o for f, o in zip(seconds[(state, 1, "tflite float32")], int8)))
    for source in sources.values():
        source.close()
    return rows, ratios


def _interpreter(path: str, threads, resolver, batch: int, content: bytes = None):
    interpreter = Interpreter(model_path=None if content else path, model_content=content, num_threads=threads,
                              experimental_op_resolver_type=resolver)
    detail = interpreter.get_input_details()[0]
    shape = [batch, *detail["shape_signature"][1:]]
    interpreter.resize_tensor_input(detail["index"], shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], np.zeros(shape, detail["dtype"]))
    interpreter.invoke()
    return interpreter


def sweep(version_dir: str, rounds: int, window: float, busy_seconds: float):
    """Raw `Interpreter` ms per call: file x XNNPACK x threads x batch x state."""
    resolvers = {"XNNPACK (AUTO)": OpResolverType.AUTO, "off": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    threads_list = [1, 2, None]
    cells = [(q, r, t, b) for b in (1, 16, 64) for r in resolvers for q in QUANTIZATIONS for t in threads_list]
    interpreters = {c: _interpreter(os.path.join(version_dir, "tflite", tflite_file_name(c[0])), c[2],
                                    resolvers[c[1]], c[3]) for c in cells}
    seconds = {(s, c): [] for s in STATES for c in cells}
    loads = {s: [] for s in STATES}
    for _ in range(rounds):
        for state in STATES:
            with _state(state, busy_seconds):
                loads[state].append(os.getloadavg()[0])
                for cell in cells:
                    seconds[(state, cell)].append(_window(interpreters[cell].invoke, window,
                                                          200 if cell[3] == 1 else 20))
    rows = []
    for state in STATES:
        for batch in (1, 16, 64):
            for resolver in resolvers:
                row = {"state": f"{state} (load {statistics.median(loads[state]):.1f})", "batch": batch,
                       "xnnpack": resolver}
                for q in QUANTIZATIONS:
                    for t in threads_list:
                        row[f"{q} t={t or 'auto'}"] = statistics.median(seconds[(state, (q, resolver, t, batch))]) * 1e3
                rows.append(row)
    return rows


def profile(version_dir: str, threads: int, batch: int, calls: int):
    """Per-op ms (model truncated after each op, XNNPACK on) of every file, idle."""
    rows = []
    for q in QUANTIZATIONS:
        path = os.path.join(version_dir, "tflite", tflite_file_name(q))
        model = flatbuffer_utils.read_model(path)
        names = [flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) for op in model.subgraphs[0].operators]
        previous = 0.0
        for k, name in enumerate(names, 1):
            cut = flatbuffer_utils.read_model(path)
            graph = cut.subgraphs[0]
            graph.operators = graph.operators[:k]
            graph.outputs = np.array([graph.operators[-1].outputs[0]], np.int32)
            try:
                interpreter = _interpreter(path, threads, OpResolverType.AUTO, batch,
                                           bytes(flatbuffer_utils.convert_object_to_bytearray(cut)))
            except RuntimeError:  # e.g. a cut ending in float16 weights' DEQUANTIZE: no runnable output
                rows.append({"file": q, "op": f"{k} {name}", "cumulative_ms": None, "op_ms": None})
                continue
            ms = statistics.median(_window(interpreter.invoke, 0.05, calls) for _ in range(5)) * 1e3
            rows.append({"file": q, "op": f"{k} {name}", "cumulative_ms": ms, "op_ms": ms - previous})
            previous = ms
    return rows


def all_paths(generator, num_classes, tmp: str, version_dir: str, base_dir: str, name: str, repeats: int):
    """Keras, SavedModel, TFLite, REST and gRPC at batch 64, idle (the old single table)."""
    from tfgan_app.serving import LocalModelServer  # pylint: disable=import-outside-toplevel
    keras_path = os.path.join(tmp, "generator.keras")
    generator.save(keras_path)
    rows = []
    with LocalModelServer(base_dir, rest_port=0, grpc_port=0) as server:
        specs = [("keras", keras_path), ("savedmodel", version_dir),
                 ("rest", f"{server.rest_url}/{name}"), ("grpc", f"grpc://{server.grpc_target}/{name}")]
        for path_name, spec in specs:
            with open_generator(spec, num_classes=num_classes, timeout=120) as source:
                latents = sample_latents(64, source.latent_dim, seed=0).numpy()
                labels = (np.arange(64) % num_classes).astype(np.int32) if num_classes else None
                median = statistics.median(_window(lambda: source(latents, labels), 0.2, 20) for _ in range(repeats))
                rows.append({"path": path_name, "median_ms": median * 1e3, "images_per_s": 64 / median})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run_dir", help="Training run directory (default: a random-weight DCGAN generator).")
    parser.add_argument("--version_dir", help="An existing export (<base>/<name>/<version>) to time instead.")
    parser.add_argument("--rounds", type=int, default=7, help="Alternating idle/loaded rounds.")
    parser.add_argument("--window", type=float, default=0.3, help="Seconds per timed window.")
    parser.add_argument("--busy_seconds", type=float, default=600.0,
                        help="Upper bound on each busy-loop process' life (they are killed after each window).")
    parser.add_argument("--sweep", action="store_true", help="Also the threads x XNNPACK x batch sweep.")
    parser.add_argument("--profile", action="store_true", help="Also the op-by-op profile (batch 1 and 64).")
    parser.add_argument("--all_paths", action="store_true", help="Also Keras, REST and gRPC at batch 64.")
    args = parser.parse_args()
    uptime_before = _load()

    with tempfile.TemporaryDirectory() as tmp:
        generator, num_classes, name = None, None, "bench"
        if args.version_dir:
            version_dir, base_dir = args.version_dir, os.path.dirname(os.path.dirname(args.version_dir))
            name = os.path.basename(os.path.dirname(args.version_dir))
            import json  # pylint: disable=import-outside-toplevel
            with open(os.path.join(version_dir, "tflite", "generator.json")) as f:
                num_classes = json.load(f).get("num_classes")
        else:
            if args.run_dir:
                trained = load_run(args.run_dir)
                generator, num_classes = trained.generator, trained.num_classes
            else:
                generator = dcgan_generator(64, (28, 28, 1))
            result = export_generator(generator, name, os.path.join(tmp, "export"), num_classes=num_classes)
            version_dir, base_dir = result.version_dir, result.base_dir
        rows, ratios = main_table(version_dir, num_classes, args.rounds, args.window, args.busy_seconds)
        _common.report("SavedModel vs TFLite files, default settings (idle vs two busy loops on both cores)", rows,
                       ["state", "batch", "path", "threads", "median_ms", "images_per_s", "x_savedmodel", "psnr",
                        "spread"],
                       ["machine state", "batch", "path", "TFLite threads", "median ms", "images/s", "x SavedModel",
                        "PSNR vs SavedModel (dB)", "spread"],
                       notes=[f"{args.rounds} rounds, idle and loaded windows alternating; load average before: "
                              f"{uptime_before}, after: {_load()}.", f"Machine: {_common.machine_summary()}"])
        for batch in (1, 64):
            for state in STATES:
                best = max((r for r in rows if r["batch"] == batch and r["state"].startswith(state)),
                           key=lambda r: r["images_per_s"])
                print(f"fastest at batch {batch}, {state}: {best['path']} {best['images_per_s']:.0f} images/s, "
                      f"{best['x_savedmodel']:.2f}x SavedModel")
        if args.sweep:
            sweep_rows = sweep(version_dir, max(3, args.rounds // 2), args.window / 2, args.busy_seconds)
            columns = ["state", "batch", "xnnpack"] + [f"{q} t={t}" for q in QUANTIZATIONS for t in (1, 2, "auto")]
            _common.report("Raw LiteRT Interpreter, ms per call: XNNPACK x num_threads x batch", sweep_rows, columns,
                           notes=[f"t=auto is num_threads=None (-1). Load average after: {_load()}."])
        if args.profile:
            for batch in (1, 64):
                _common.report(f"Op-by-op ms, batch {batch}, 1 thread, XNNPACK on (idle)",
                               profile(version_dir, 1, batch, 200 if batch == 1 else 20),
                               ["file", "op", "cumulative_ms", "op_ms"],
                               notes=[f"Load average after: {_load()}."])
        if args.all_paths and generator is not None:
            _common.report("All paths, batch 64 (idle)", all_paths(generator, num_classes, tmp, version_dir,
                                                                   base_dir, name, args.rounds),
                           ["path", "median_ms", "images_per_s"])
    if ratios:
        vs_savedmodel = min(r[0] for r in ratios.values())
        vs_float32 = min(r[1] for r in ratios.values())
        print(f"int8_vs_savedmodel_batch1={vs_savedmodel:.2f} int8_vs_float32_batch1={vs_float32:.2f}")


if __name__ == "__main__":
    main()
