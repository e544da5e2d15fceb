"""`tfgan serve` under load: latency / throughput, and a mixed valid + malformed load with a broken version.

Starts a real `tfgan serve` process on loopback ports over a temporary TF Serving
folder holding a DCGAN 28x28x1 generator (random weights) as version 1, plus a
broken version 2 (truncated `saved_model.pb`) and a version 3 whose
`variables/` is only partly copied: the server must keep serving version 1.

* `latency` (default): p50/p99 ms per request and requests/s + images/s for REST
  and gRPC at concurrency 1 and 8 and batch 1 and 64, while a background client
  sends malformed requests (bad JSON, deep nesting, wrong shapes, oversized
  declared gRPC tensors, unknown signatures, PUT) at ~20/s; their status codes
  are checked too.
* `mixed`: `--requests` bounded requests from 4 threads, 60 % valid (REST and
  gRPC, outputs compared with the Keras model of version 1) and 40 % malformed
  (each kind with its expected 4xx / gRPC code); reports counts, 5xx, and the
  server's RSS (warm, peak, end) from /proc.
* `churn` ("versions churning"): `--requests` requests from 8 clients (4 REST,
  4 gRPC; half on the latest version, half on version 2) while version 2 is
  reloaded (`touch saved_model.pb`), deleted and put back, one change every
  `--churn_seconds`, with `--file_system_poll_wait_seconds=0.5`; reports p50 /
  p99 ms, the errors (anything but 200, except the documented 404 / NOT_FOUND
  for version 2 while it is deleted) and that 404 count.

Not a test (numbers depend on the machine; `tests/test_serving_mixed_load.py`
runs a small `mixed` load). Examples:

    python benchmarks/serving_latency.py --requests_per_cell=100
    python benchmarks/serving_latency.py --mode=mixed --requests=1200
    python benchmarks/serving_latency.py --mode=mixed --requests=200 --json   # one JSON line
    python benchmarks/serving_latency.py --mode=churn --requests=10000
"""

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Tuple

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import _common  # noqa: E402  (the benchmarks folder is not a package)

import grpc  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

from tfgan_app.architectures import dcgan_generator  # noqa: E402

LATENT_DIM = 100
MODEL = "dcgan"


def write_versions(base: str, seed: int = 0) -> keras.Model:
    """Version 1 (good, written with `keras.export.ExportArchive`), 2 (truncated graph), 3 (half-copied variables)."""
    keras.utils.set_random_seed(seed)
    generator = dcgan_generator(LATENT_DIM, (28, 28, 1))
    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint("serving_default", lambda latents: {"images": generator(latents, training=False)},
                         input_signature=[tf.TensorSpec([None, LATENT_DIM], tf.float32, name="latents")])
    good = os.path.join(base, MODEL, "1")
    archive.write_out(good, verbose=False)
    broken = os.path.join(base, MODEL, "2")
    shutil.copytree(good, broken)
    with open(os.path.join(broken, "saved_model.pb"), "r+b") as f:
        f.truncate(200)
    partial = os.path.join(base, MODEL, "3")
    shutil.copytree(good, partial)
    for name in os.listdir(os.path.join(partial, "variables")):
        if name.startswith("variables.data"):
            path = os.path.join(partial, "variables", name)
            with open(path, "r+b") as f:
                f.truncate(os.path.getsize(path) // 3)
    return generator


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(base: str, *flags: str) -> Tuple[subprocess.Popen, int, int]:
    """`tfgan serve` on free loopback ports (plus `flags`); waits until version 1 answers."""
    rest_port, grpc_port = _free_port(), _free_port()
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
    process = subprocess.Popen([sys.executable, "-m", "tfgan_app.cli.main", "serve", f"--base={base}",
                                f"--rest_port={rest_port}", f"--grpc_port={grpc_port}", "--max_batch_size=64",
                                *flags], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tfgan serve exited with {process.returncode}")
        try:
            status, _ = rest_call(rest_port, "GET", f"/v1/models/{MODEL}")
            if status == 200:
                return process, rest_port, grpc_port
        except OSError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError("tfgan serve did not come up in 120 s")


def rss_mb(pid: int) -> float:
    """Resident set size of process `pid` in MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def rest_call(port: int, method: str, path: str, body: bytes = b"", connection=None) -> Tuple[int, bytes]:
    """One HTTP request on loopback (on `connection` if given, kept alive); returns (status, body)."""
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        if own:
            connection.close()


def _declared(shape) -> tensor_pb2.TensorProto:
    return tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=s) for s in shape]))


def _grpc_request(inputs: Dict, signature: str = "", version: int = 0) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name, request.model_spec.signature_name = MODEL, signature
    if version:
        request.model_spec.version.value = version
    for key, proto in inputs.items():
        request.inputs[key].CopyFrom(proto)
    return request


def malformed_cases() -> List[Tuple[str, object, object]]:
    """(kind, request, expected code): REST cases are (method, path, body) with an HTTP status; gRPC cases are
    PredictRequests with a `grpc.StatusCode`."""
    path = f"/v1/models/{MODEL}:predict"
    row = [0.0] * LATENT_DIM
    return [
        ("rest", ("POST", path, b"{not json"), 400),
        ("rest", ("POST", path, b"[" * 50000 + b"]" * 50000), 400),
        ("rest", ("POST", path, json.dumps({"instances": [row[:5]]}).encode()), 400),
        ("rest", ("POST", path, json.dumps({"signature_name": "nope", "instances": [row]}).encode()), 400),
        ("rest", ("POST", path, json.dumps({"instances": [[True] * LATENT_DIM]}).encode()), 400),
        ("rest", ("POST", path, b'{"instances": [[1e400' + b", 0" * (LATENT_DIM - 1) + b"]]}"), 400),
        ("rest", ("POST", path, json.dumps({"instances": [row] * 65}).encode()), 400),
        ("rest", ("GET", path, b""), 400),
        ("rest", ("PUT", f"/v1/models/{MODEL}", b"{}"), 400),
        ("rest", ("GET", f"/v1/models/{MODEL}/versions/abc", b""), 400),
        ("rest", ("POST", f"/v1/models/{MODEL}/versions/2:predict", json.dumps({"instances": [row]}).encode()), 404),
        ("rest", ("POST", "/v1/models/nope:predict", json.dumps({"instances": [row]}).encode()), 404),
        ("grpc", _grpc_request({"latents": _declared([10_000_000, 64])}), grpc.StatusCode.INVALID_ARGUMENT),
        ("grpc", _grpc_request({"latents": _declared([2 ** 40, LATENT_DIM])}), grpc.StatusCode.INVALID_ARGUMENT),
        ("grpc", _grpc_request({"latents": tf.make_tensor_proto(np.zeros([1, LATENT_DIM], np.float32))}, "nope"),
         grpc.StatusCode.FAILED_PRECONDITION),
        ("grpc", _grpc_request({"latents": tf.make_tensor_proto(np.zeros([1, LATENT_DIM], np.float32))}, version=3),
         grpc.StatusCode.NOT_FOUND),
    ]


def send_malformed(case, rest_port: int, stub) -> Tuple[bool, str]:
    """Sends one malformed case; returns (got the expected code, what was received)."""
    kind, request, expected = case
    if kind == "rest":
        status, body = rest_call(rest_port, *request)
        ok = status == expected and "error" in json.loads(body)
        return ok, str(status)
    try:
        stub.Predict(request, timeout=30)
        return False, "OK"
    except grpc.RpcError as e:
        return e.code() == expected, e.code().name


class Client:
    """One valid-request client (its own keep-alive HTTP connection / gRPC channel)."""

    def __init__(self, protocol: str, rest_port: int, grpc_port: int):
        self.protocol = protocol
        if protocol == "rest":
            self.connection = http.client.HTTPConnection("127.0.0.1", rest_port, timeout=60)
            self.rest_port = rest_port
        else:
            self.channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}", options=[
                ("grpc.max_receive_message_length", 64 * 2 ** 20)])
            self.stub = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)

    def predict(self, latents: np.ndarray, version: int = 0) -> np.ndarray:
        """The images for `latents` from `version` (0: the latest); raises on a non-200 answer."""
        if self.protocol == "rest":
            path = f"/v1/models/{MODEL}" + (f"/versions/{version}" if version else "") + ":predict"
            status, body = rest_call(self.rest_port, "POST", path, json.dumps({"inputs": latents.tolist()}).encode(),
                                     self.connection)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
            return np.asarray(json.loads(body)["outputs"], np.float32)
        response = self.stub.Predict(_grpc_request({"latents": tf.make_tensor_proto(latents)}, version=version),
                                     timeout=60)
        return tf.make_ndarray(response.outputs["images"])

    def close(self) -> None:
        """Closes the connection or channel."""
        if self.protocol == "rest":
            self.connection.close()
        else:
            self.channel.close()


def _malformed_loop(stop: threading.Event, rest_port: int, grpc_port: int, rate: float, tally: Dict) -> None:
    cases = malformed_cases()
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        i = 0
        while not stop.wait(1.0 / rate) and i < 100_000:
            ok, received = send_malformed(cases[i % len(cases)], rest_port, stub)
            tally["ok" if ok else "wrong"] += 1
            if received.startswith("5"):
                tally["5xx"] += 1
            i += 1


def latency(args) -> None:
    """p50 / p99 latency and throughput table."""
    base = tempfile.mkdtemp(prefix="serving_bench_")
    process = None
    try:
        write_versions(base)
        process, rest_port, grpc_port = start_server(base)
        rows = []
        tally = {"ok": 0, "wrong": 0, "5xx": 0}
        stop = threading.Event()
        noise = threading.Thread(target=_malformed_loop, args=(stop, rest_port, grpc_port, args.malformed_rate, tally),
                                 daemon=True)
        noise.start()
        rng = np.random.default_rng(0)
        for protocol in ("rest", "grpc"):
            for batch in (1, 64):
                for concurrency in (1, 8):
                    latents = rng.normal(size=(batch, LATENT_DIM)).astype(np.float32)
                    clients = [Client(protocol, rest_port, grpc_port) for _ in range(concurrency)]
                    for client in clients:
                        client.predict(latents)  # warm-up: connection, first run
                    per_client = max(2, args.requests_per_cell // concurrency)
                    seconds: List[float] = []
                    errors = []
                    lock = threading.Lock()

                    def work(client):
                        deadline = time.monotonic() + args.cell_timeout
                        for _ in range(per_client):
                            if time.monotonic() > deadline:
                                break
                            start = time.perf_counter()
                            try:
                                client.predict(latents)
                            except Exception as e:  # pylint: disable=broad-except
                                errors.append(repr(e))
                                continue
                            with lock:
                                seconds.append(time.perf_counter() - start)
                    started = time.perf_counter()
                    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    wall = time.perf_counter() - started
                    for client in clients:
                        client.close()
                    ms = sorted(1000 * s for s in seconds)
                    rows.append({"protocol": protocol, "batch": batch, "concurrency": concurrency,
                                 "requests": len(ms), "p50_ms": statistics.median(ms) if ms else None,
                                 "p99_ms": ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))] if ms else None,
                                 "req_s": len(ms) / wall, "img_s": len(ms) * batch / wall, "errors": len(errors)})
                    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        stop.set()
        noise.join(timeout=30)
        load = os.getloadavg()
        _common.report(
            f"tfgan serve latency (DCGAN 28x28x1, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f})",
            rows, ["protocol", "batch", "concurrency", "requests", "p50_ms", "p99_ms", "req_s", "img_s", "errors"],
            notes=[f"Machine: {_common.machine_summary()}.",
                   f"Malformed requests sent meanwhile: {tally['ok'] + tally['wrong']} "
                   f"({tally['ok']} got the expected 4xx / gRPC code, {tally['wrong']} did not, "
                   f"{tally['5xx']} got a 5xx). Server RSS at the end: {rss_mb(process.pid):.0f} MiB."])
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def mixed(args) -> Dict:
    """The mixed valid + malformed load; returns the summary (also printed)."""
    base = tempfile.mkdtemp(prefix="serving_mixed_")
    process = None
    try:
        generator = write_versions(base)
        process, rest_port, grpc_port = start_server(base)
        rng = np.random.default_rng(1)
        pool = [rng.normal(size=(b, LATENT_DIM)).astype(np.float32) for b in (1, 2, 4, 8)]
        expected = [np.asarray(generator(z, training=False)) for z in pool]
        warm_client = Client("rest", rest_port, grpc_port)
        for i in range(20):
            warm_client.predict(pool[i % len(pool)])
        warm_client.close()
        warm = rss_mb(process.pid)
        peak = [warm]
        stop = threading.Event()

        def sample():
            while not stop.wait(0.2):
                peak.append(rss_mb(process.pid))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cases = malformed_cases()
        counts = {"valid_200": 0, "valid_wrong": 0, "malformed_expected": 0, "malformed_wrong": 0, "5xx": 0}
        wrong: List[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.time_limit

        def work(worker: int, n: int):
            local = random.Random(worker)
            clients = {p: Client(p, rest_port, grpc_port) for p in ("rest", "grpc")}
            with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
                for _ in range(n):
                    if time.monotonic() > deadline:
                        break
                    if local.random() < 0.6:
                        k = local.randrange(len(pool))
                        try:
                            out = clients[local.choice(("rest", "grpc"))].predict(pool[k])
                            good = np.allclose(out, expected[k], atol=1e-5)
                            key, note = ("valid_200" if good else "valid_wrong"), "wrong images"
                        except Exception as e:  # pylint: disable=broad-except
                            key, note = "valid_wrong", repr(e)[:200]
                            if "HTTP 5" in note or "INTERNAL" in note or "UNKNOWN" in note:
                                with lock:
                                    counts["5xx"] += 1
                    else:
                        ok, received = send_malformed(local.choice(cases), rest_port, stub)
                        key, note = ("malformed_expected" if ok else "malformed_wrong"), received
                        if received.startswith("5") or received in ("INTERNAL", "UNKNOWN"):
                            with lock:
                                counts["5xx"] += 1
                    with lock:
                        counts[key] += 1
                        if key.endswith("wrong") and len(wrong) < 10:
                            wrong.append(note)
            for client in clients.values():
                client.close()
        started = time.monotonic()
        _run_clients(work, args.requests, 4)
        stop.set()
        sampler.join(timeout=5)
        end = rss_mb(process.pid)
        status = json.loads(rest_call(rest_port, "GET", f"/v1/models/{MODEL}")[1])
        summary = dict(counts, requests=sum(v for k, v in counts.items() if k != "5xx"),
                       seconds=round(time.monotonic() - started, 1), rss_warm_mb=round(warm, 1),
                       rss_peak_mb=round(max(peak), 1), rss_end_mb=round(end, 1),
                       rss_peak_ratio=round(max(peak) / warm, 3), wrong_examples=wrong,
                       states={s["version"]: s["state"] for s in status["model_version_status"]},
                       server_alive=process.poll() is None, load_average=[round(x, 2) for x in os.getloadavg()])
        return summary
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def _run_clients(work, requests: int, clients: int) -> None:
    """Runs `work(index, count)` in `clients` threads that share `requests` as evenly as possible; waits for all."""
    threads = [threading.Thread(target=work, args=(c, requests // clients + (c < requests % clients)))
               for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _churn_loop(stop: threading.Event, version_dir: str, period: float) -> int:
    """Reloads (new mtime), deletes, puts back `version_dir` in turn, one change per `period`; returns the count."""
    changes = 0
    while not stop.wait(period):
        if changes % 3 == 1:
            os.rename(version_dir, version_dir + ".deleted")
        elif changes % 3 == 2:
            os.rename(version_dir + ".deleted", version_dir)
        else:
            stamp = time.time_ns()
            os.utime(os.path.join(version_dir, "saved_model.pb"), ns=(stamp, stamp))
        changes += 1
    if os.path.isdir(version_dir + ".deleted"):
        os.rename(version_dir + ".deleted", version_dir)
    return changes


def churn(args) -> Dict:
    """The "versions churning" row: REST + gRPC requests while version 2 is reloaded or deleted; the summary."""
    base = tempfile.mkdtemp(prefix="serving_churn_")
    process = None
    try:
        generator = write_versions(base)
        for broken in ("2", "3"):  # the churning version 2 is a good copy of version 1
            shutil.rmtree(os.path.join(base, MODEL, broken))
        shutil.copytree(os.path.join(base, MODEL, "1"), os.path.join(base, MODEL, "2"))
        process, rest_port, grpc_port = start_server(base, "--file_system_poll_wait_seconds=0.5")
        latents = np.random.default_rng(1).normal(size=(2, LATENT_DIM)).astype(np.float32)
        expected = np.asarray(generator(latents, training=False))
        counts = {"ok": 0, "documented_404": 0, "errors": 0}
        latencies: List[float] = []
        examples: List[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.time_limit

        def work(worker: int, n: int):
            client = Client(("rest", "grpc")[worker % 2], rest_port, grpc_port)
            version = (0, 2)[(worker // 2) % 2]
            for _ in range(n):
                if time.monotonic() > deadline:
                    break
                began = time.perf_counter()
                try:
                    good = np.allclose(client.predict(latents, version), expected, atol=1e-5)
                    key, note = ("ok", "") if good else ("errors", "wrong images")
                except Exception as e:  # pylint: disable=broad-except
                    note = repr(e)[:200]
                    deleted = version == 2 and ("HTTP 404" in note or "NOT_FOUND" in note)
                    key = "documented_404" if deleted else "errors"
                    if client.protocol == "rest" and not deleted:  # a failed keep-alive connection is reopened
                        client.close()
                        client = Client("rest", rest_port, grpc_port)
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    counts[key] += 1
                    if key == "ok":
                        latencies.append(elapsed)
                    elif key == "errors" and len(examples) < 10:
                        examples.append(note)
            client.close()
        stop = threading.Event()
        changes: List[int] = []
        churner = threading.Thread(target=lambda: changes.append(
            _churn_loop(stop, os.path.join(base, MODEL, "2"), args.churn_seconds)))
        started = time.monotonic()
        churner.start()
        _run_clients(work, args.requests, 8)
        stop.set()
        churner.join()
        latencies.sort()
        return dict(counts, requests=sum(counts.values()), changes=changes[0] if changes else 0,
                    seconds=round(time.monotonic() - started, 1),
                    p50_ms=round(statistics.median(latencies), 2) if latencies else None,
                    p99_ms=round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2)
                    if latencies else None, error_examples=examples, server_alive=process.poll() is None,
                    load_average=[round(x, 2) for x in os.getloadavg()])
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("latency", "mixed", "churn"), default="latency")
    parser.add_argument("--requests_per_cell", type=int, default=80, help="latency: timed requests per table row")
    parser.add_argument("--cell_timeout", type=float, default=120.0, help="latency: seconds cap per row")
    parser.add_argument("--malformed_rate", type=float, default=20.0, help="latency: malformed requests per second")
    parser.add_argument("--requests", type=int, default=1200,
                        help="mixed: total requests (4 threads); churn: total requests (8 clients), e.g. 10000")
    parser.add_argument("--time_limit", type=float, default=600.0, help="mixed, churn: seconds cap")
    parser.add_argument("--churn_seconds", type=float, default=1.0, help="churn: seconds between version changes")
    parser.add_argument("--json", action="store_true", help="mixed, churn: print only the JSON summary")
    args = parser.parse_args()
    if args.mode == "latency":
        latency(args)
        return
    if args.mode == "churn":
        summary = churn(args)
        if args.json:
            print(json.dumps(summary))
            return
        print(f"\n### Versions churning: version 2 reloaded / deleted / put back every {args.churn_seconds} s "
              f"(load average {summary['load_average']})\n")
        print("| row | requests | p50 ms | p99 ms | errors | documented 404 | version changes |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        print(f"| versions churning (8 clients, REST + gRPC) | {summary['requests']} | {summary['p50_ms']} | "
              f"{summary['p99_ms']} | {summary['errors']} | {summary['documented_404']} | {summary['changes']} |")
        if summary["error_examples"]:
            print("\nErrors:", *summary["error_examples"], sep="\n- ")
        print(f"\nMachine: {_common.machine_summary()}.")
        return
    summary = mixed(args)
    if args.json:
        print(json.dumps(summary))
        return
    print(f"\n### Mixed load: {summary['requests']} loopback requests with broken versions 2 and 3 on disk "
          f"(load average {summary['load_average']})\n")
    for key, value in summary.items():
        print(f"- {key}: {value}")
    print(f"\nMachine: {_common.machine_summary()}.")


if __name__ == "__main__":
    main()
