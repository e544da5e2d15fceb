"""Per-image latency of the generator in the browser (LiteRT.js in headless chromium) beside Python LiteRT and REST.

Exports a DCGAN 28x28x1 generator (random weights, or `--run_dir`'s) with float32 / float16 / int8 TFLite
files and its `tfgan export --web` site (tfgan_app/serving/web.py), plus batch-16 copies of the web files
(LiteRT.js takes static shapes only), then times on this machine:

* `browser`: the page's own LiteRT.js runner (`window.tfganExplorer.device.run`, WebAssembly + XNNPack, one
  thread: a plain static host gives no cross-origin isolation) in headless chromium, served by a static
  server that 404s `/v1` (none is made);
* `python litert`: `TFLiteGenerator` (ai_edge_litert) on the export's files, its default thread count;
* `rest savedmodel`: the SavedModel through `tfgan serve`'s REST API (in-process `LocalModelServer`), float32.

Each cell is the median of `--repeats` calls after one warm-up call, reported as ms per image
(call time / batch). Not a test; the table states the load average (`os.getloadavg`) before and after, and
numbers from a shared machine are only comparable within one table. Example:

    python benchmarks/browser_latency.py --repeats=5
"""

import argparse
import functools
import http.server
import json
import os
import statistics
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

from tfgan_app.architectures import dcgan_generator  # noqa: E402
from tfgan_app.artifacts.generators import open_generator  # noqa: E402
from tfgan_app.artifacts.run_dir import load_run  # noqa: E402
from tfgan_app.artifacts.tflite_runner import TFLiteGenerator  # noqa: E402
from tfgan_app.export import export_generator  # noqa: E402
from tfgan_app.export.tflite import tflite_file_name  # noqa: E402
from tfgan_app.latent import sample_latents  # noqa: E402
from tfgan_app.serving import LocalModelServer  # noqa: E402
from tfgan_app.serving import web  # noqa: E402

QUANTIZATIONS = ("float32", "float16", "int8")
BATCHES = (1, 16)
NAME = "bench"


class _Static(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def do_GET(self):  # pylint: disable=invalid-name
        if "/v1" in self.path:
            self.server.v1_requests += 1
            self.send_error(404)
        else:
            super().do_GET()


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _median_ms(call, repeats: int) -> float:
    call()  # warm-up (first-call allocation)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) * 1e3


def write_site(generator, num_classes, tmp: str):
    """The export and its web site with batch-1 (`NAME`) and batch-16 (`NAME_b16`) device models."""
    result = export_generator(generator, NAME, os.path.join(tmp, "export"), num_classes=num_classes,
                              quantizations=QUANTIZATIONS)
    web_dir = web.write_web(result.version_dir, NAME, generator, num_classes, QUANTIZATIONS)
    explorer = os.path.join(web_dir, "explorer")
    web.write_model_files(os.path.join(explorer, "models", f"{NAME}_b16"), result.version_dir, generator,
                          num_classes, QUANTIZATIONS, batch_size=16)
    with open(os.path.join(explorer, "models.json"), "w") as f:
        json.dump({"models": [NAME], "device": {NAME: f"models/{NAME}/", f"{NAME}_b16": f"models/{NAME}_b16/"}}, f)
    return result, web_dir


def browser_rows(web_dir: str, latent_dim: int, num_classes, repeats: int):
    """ms per image in headless chromium for each quantization and batch."""
    from selenium import webdriver  # pylint: disable=import-outside-toplevel
    from selenium.webdriver.chrome.service import Service  # pylint: disable=import-outside-toplevel
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Static, directory=web_dir))
    server.v1_requests = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_script_timeout(600)
    rows = []
    try:
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/")
        for _ in range(600):
            if driver.execute_script("return document.getElementById('output').dataset.renders") not in ("0", None):
                break
            time.sleep(0.1)
        for batch in BATCHES:
            latents = sample_latents(batch, latent_dim, seed=0).numpy().tolist()
            labels = [i % num_classes for i in range(batch)] if num_classes else None
            for quantization in QUANTIZATIONS:
                ms = driver.execute_async_script("""
                    const [name, latents, labels, precision, repeats, done] = arguments;
                    const explorer = window.tfganExplorer;
                    (async () => {
                      const info = await explorer.describe(name);
                      const call = () => explorer.device.run(info, latents, {labels: labels}, precision);
                      await call();
                      const times = [];
                      for (let i = 0; i < repeats; i++) {
                        const start = performance.now();
                        await call();
                        times.push(performance.now() - start);
                      }
                      times.sort((a, b) => a - b);
                      return times[Math.floor(times.length / 2)];
                    })().then(done, (e) => done("error: " + e.message));
                """, NAME if batch == 1 else f"{NAME}_b16", latents, labels, quantization, repeats)
                if isinstance(ms, str):
                    raise RuntimeError(ms)
                rows.append({"path": "browser (LiteRT.js wasm)", "precision": quantization, "batch": batch,
                             "ms_per_image": ms / batch})
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()
    if server.v1_requests:
        raise RuntimeError(f"the page made {server.v1_requests} /v1 requests")
    return rows


def python_rows(version_dir: str, latent_dim: int, num_classes, repeats: int):
    rows = []
    for quantization in QUANTIZATIONS:
        runner = TFLiteGenerator(os.path.join(version_dir, "tflite", tflite_file_name(quantization)))
        for batch in BATCHES:
            latents = sample_latents(batch, latent_dim, seed=0).numpy()
            labels = (np.arange(batch) % num_classes).astype(np.int32) if num_classes else None
            ms = _median_ms(lambda: runner(latents, labels), repeats)
            rows.append({"path": f"python litert ({runner.num_threads} thread)", "precision": quantization,
                         "batch": batch, "ms_per_image": ms / batch})
    return rows


def rest_rows(base_dir: str, latent_dim: int, num_classes, repeats: int):
    rows = []
    with LocalModelServer(base_dir, rest_port=0, grpc_port=None) as server:
        with open_generator(f"{server.rest_url}/{NAME}", num_classes=num_classes, timeout=120) as source:
            for batch in BATCHES:
                latents = sample_latents(batch, latent_dim, seed=0).numpy()
                labels = (np.arange(batch) % num_classes).astype(np.int32) if num_classes else None
                ms = _median_ms(lambda: source(latents, labels), repeats)
                rows.append({"path": "rest savedmodel (tfgan serve)", "precision": "float32", "batch": batch,
                             "ms_per_image": ms / batch})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run_dir", help="Training run directory (default: a random-weight DCGAN generator).")
    parser.add_argument("--repeats", type=int, default=10, help="Timed calls per cell (after one warm-up).")
    args = parser.parse_args()
    load_before = _load()
    if args.run_dir:
        trained = load_run(args.run_dir)
        generator, num_classes = trained.generator, trained.num_classes
    else:
        generator, num_classes = dcgan_generator(64, (28, 28, 1)), None
    latent_dim = int(generator.inputs[0].shape[-1])
    with tempfile.TemporaryDirectory() as tmp:
        result, web_dir = write_site(generator, num_classes, tmp)
        rows = (browser_rows(web_dir, latent_dim, num_classes, args.repeats)
                + python_rows(result.version_dir, latent_dim, num_classes, args.repeats)
                + rest_rows(result.base_dir, latent_dim, num_classes, args.repeats))
    rows.sort(key=lambda r: (r["batch"], r["precision"], r["path"]))
    _common.report("Per-image latency: browser (LiteRT.js) vs Python LiteRT vs REST SavedModel", rows,
                   ["batch", "precision", "path", "ms_per_image"], ["batch", "precision", "path", "ms / image"],
                   notes=[f"Median of {args.repeats} calls after a warm-up; load average (1/5/15 min) before: "
                          f"{load_before}, after: {_load()}; {os.cpu_count()} cores.",
                          f"Machine: {_common.machine_summary()}"])


if __name__ == "__main__":
    main()
