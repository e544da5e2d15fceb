"""Issue #27 item 4: SIGTERM drains `tfgan serve` like Ctrl-C: stop accepting, let the requests in flight finish
within a grace period, exit 0 (before: SIGTERM killed it with 143 and cut requests off)."""

import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _export_fixtures import LATENT_DIM  # noqa: E402
from _serving_fixtures import start_serve, wait_until, write_version  # noqa: E402

from tfgan_app.serving import GrpcClient, LocalModelServer, RestClient  # noqa: E402
from tfgan_app.serving.repository import ServableVersion  # noqa: E402

LATENTS = np.zeros((2, LATENT_DIM), np.float32)
SLOW_SECONDS = 1.5


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("shutdown"))
    write_version(root, "m", 1, seed=0)
    return root


def test_stop_lets_rest_and_grpc_requests_in_flight_finish(base, monkeypatch):
    with LocalModelServer(base, rest_port=0, grpc_port=0, poll_wait_seconds=0) as server:
        rest, grpc_client = RestClient(server.rest_url, 30), GrpcClient(server.grpc_target, 30)
        rest.metadata("m"), grpc_client.metadata("m")  # the clients' signature look-ups, before the slow part
        original, started = ServableVersion.predict, threading.Semaphore(0)

        def slow_predict(self, *args, **kwargs):
            started.release()
            time.sleep(SLOW_SECONDS)
            return original(self, *args, **kwargs)
        monkeypatch.setattr(ServableVersion, "predict", slow_predict)
        results = {}

        def call(name, client):
            try:
                results[name] = client.predict("m", {"latents": LATENTS})["images"].shape
            except Exception as e:  # pylint: disable=broad-except
                results[name] = f"{type(e).__name__}: {e}"
        threads = [threading.Thread(target=call, args=item) for item in (("rest", rest), ("grpc", grpc_client))]
        for thread in threads:
            thread.start()
        assert started.acquire(timeout=30) and started.acquire(timeout=30)  # both requests are running
        began = time.monotonic()
        server.stop()  # the default grace period (10 s)
        for thread in threads:
            thread.join(30)
        grpc_client.close()
    assert results == {"rest": (2, 8, 8, 1), "grpc": (2, 8, 8, 1)}, results
    assert time.monotonic() - began < 10  # it waited for the requests, not for the whole grace period


def test_sigterm_stops_tfgan_serve_gracefully_with_exit_code_0(base):
    process, rest_port, _ = start_serve(base, "--file_system_poll_wait_seconds=0")
    rest = RestClient(f"http://127.0.0.1:{rest_port}", 10)
    try:
        wait_until(lambda: rest.status("m"), process=process)
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output[-3000:]
    assert "SIGTERM received: stopping" in output and "Traceback" not in output, output[-3000:]
